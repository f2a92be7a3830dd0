//! HTTP caching: strong ETags, 304 on If-None-Match, Cache-Control and Vary per audience.

use reqwest::StatusCode;

use crate::helpers::{ProductRow, UserRow, spawn_app};

const PUBLIC: &str = "public, max-age=5, stale-while-revalidate=30";

#[tokio::test]
async fn listings_and_product_pages_answer_304_to_their_own_etag() {
    let app = spawn_app().await;
    let product = ProductRow::published("Ceramic mug");
    app.insert_product(&product).await;
    app.insert_category("misc", 1).await;

    for path in [
        "/v1/products".to_owned(),
        "/v1/products?category=misc&sort=price_asc".to_owned(),
        format!("/v1/products/{}", product.id),
        "/v1/categories".to_owned(),
    ] {
        let first = app.get(&path).await;
        assert_eq!(first.status(), StatusCode::OK, "{path}");
        let etag = first.headers()["etag"].to_str().expect("etag").to_owned();
        assert!(
            etag.starts_with('"') && !etag.starts_with("W/"),
            "{path}: strong ETag {etag}"
        );

        let again = app.get_with(&path, None, &[("If-None-Match", &etag)]).await;
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{path}");
        assert_eq!(again.headers()["etag"], etag.as_str());
        assert_eq!(again.headers()["cache-control"], PUBLIC);
        assert!(again.bytes().await.expect("body").is_empty());

        let other = app
            .get_with(&path, None, &[("If-None-Match", "\"something-else\"")])
            .await;
        assert_eq!(other.status(), StatusCode::OK, "{path}");
    }
}

#[tokio::test]
async fn the_etag_changes_when_the_product_changes() {
    let app = spawn_app().await;
    let product = ProductRow::published("Ceramic mug");
    app.insert_product(&product).await;
    let path = format!("/v1/products/{}", product.id);
    let before = app.get(&path).await.headers()["etag"].clone();
    let listing_before = app.get("/v1/products").await.headers()["etag"].clone();

    app.set_price(product.id, 1_500).await;

    let response = app
        .get_with(
            &path,
            None,
            &[("If-None-Match", before.to_str().expect("etag"))],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_ne!(response.headers()["etag"], before);
    assert_ne!(
        app.get("/v1/products").await.headers()["etag"],
        listing_before
    );
}

#[tokio::test]
async fn anonymous_catalog_reads_are_public_and_personal_reads_private() {
    let app = spawn_app().await;
    let product = ProductRow::published("Ceramic mug");
    app.insert_product(&product).await;
    let user = UserRow::new("customer");
    app.insert_user(&user).await;

    let listing = app.get("/v1/products").await;
    assert_eq!(listing.headers()["cache-control"], PUBLIC);
    assert_eq!(listing.headers()["vary"], "Consistency-Token");
    let categories = app.get("/v1/categories").await;
    assert_eq!(categories.headers()["cache-control"], PUBLIC);

    // A product page answers differently for a seller's token (drafts), so it varies by it.
    let page = app.get(&format!("/v1/products/{}", product.id)).await;
    assert_eq!(page.headers()["cache-control"], PUBLIC);
    assert_eq!(page.headers()["vary"], "Authorization, Consistency-Token");

    let me = app
        .get_as("/v1/users/me", &app.token(user.id, "customer").await)
        .await;
    assert_eq!(me.headers()["cache-control"], "private, no-store");
    assert_eq!(me.headers()["vary"], "Authorization");
    let etag = me.headers()["etag"].to_str().expect("etag").to_owned();
    let again = app
        .get_with(
            "/v1/users/me",
            Some(&app.token(user.id, "customer").await),
            &[("If-None-Match", &etag)],
        )
        .await;
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
}
