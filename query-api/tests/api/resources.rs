//! Product pages (drafts hidden from everyone but their seller and admins), categories and
//! `/v1/users/me`.

use reqwest::StatusCode;
use uuid::Uuid;

use crate::helpers::{ProductRow, UserRow, spawn_app};

#[tokio::test]
async fn a_published_product_is_shown_to_everyone_with_its_status() {
    let app = spawn_app().await;
    let product = ProductRow::published("Ceramic mug");
    app.insert_product(&product).await;

    let body = app.get_json(&format!("/v1/products/{}", product.id)).await;
    assert_eq!(body["id"], product.id.to_string());
    assert_eq!(body["status"], "published");
    assert_eq!(body["price"]["amount_minor"], 1000);
}

#[tokio::test]
async fn drafts_and_archived_products_are_hidden_except_from_their_seller_and_admins() {
    let app = spawn_app().await;
    let seller = UserRow::new("seller");
    let other_seller = UserRow::new("seller");
    let admin = UserRow::new("admin");
    for user in [&seller, &other_seller, &admin] {
        app.insert_user(user).await;
    }
    for status in ["draft", "archived"] {
        let product = ProductRow {
            seller_id: seller.id,
            status,
            ..ProductRow::published("Unreleased lamp")
        };
        app.insert_product(&product).await;
        let path = format!("/v1/products/{}", product.id);

        assert_eq!(
            app.get(&path).await.status(),
            StatusCode::NOT_FOUND,
            "{status}: anonymous"
        );
        let token = app.token(other_seller.id, "seller").await;
        assert_eq!(
            app.get_as(&path, &token).await.status(),
            StatusCode::NOT_FOUND,
            "{status}: other seller"
        );
        for (user, role) in [(&seller, "seller"), (&admin, "admin")] {
            let response = app.get_as(&path, &app.token(user.id, role).await).await;
            assert_eq!(response.status(), StatusCode::OK, "{status}: {role}");
            assert_eq!(response.headers()["cache-control"], "private, no-store");
            let body: serde_json::Value = response.json().await.expect("body");
            assert_eq!(body["status"], status);
        }
        let listing = app.get_json("/v1/products").await;
        assert!(
            listing["items"].as_array().expect("items").is_empty(),
            "never listed"
        );
    }
}

#[tokio::test]
async fn a_demoted_admin_loses_access_to_drafts_even_with_an_admin_token() {
    let app = spawn_app().await;
    let demoted = UserRow::new("customer");
    app.insert_user(&demoted).await;
    let draft = ProductRow {
        status: "draft",
        ..ProductRow::published("Unreleased lamp")
    };
    app.insert_product(&draft).await;

    let token = app.token(demoted.id, "admin").await;
    let response = app
        .get_as(&format!("/v1/products/{}", draft.id), &token)
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_invalid_token_is_401_and_unknown_products_are_404() {
    let app = spawn_app().await;
    let product = ProductRow::published("Ceramic mug");
    app.insert_product(&product).await;

    let response = app
        .get_as(&format!("/v1/products/{}", product.id), "not-a-jwt")
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    let response = app.get(&format!("/v1/products/{}", Uuid::now_v7())).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
}

#[tokio::test]
async fn categories_list_only_those_with_published_products_by_slug() {
    let app = spawn_app().await;
    app.insert_category("lighting", 2).await;
    app.insert_category("furniture", 0).await;
    app.insert_category("kitchen-dining", 5).await;

    let body = app.get_json("/v1/categories").await;
    assert_eq!(
        body,
        serde_json::json!({ "items": [
            { "slug": "kitchen-dining", "published_count": 5 },
            { "slug": "lighting", "published_count": 2 },
        ]})
    );
}

#[tokio::test]
async fn users_me_needs_a_token_and_shows_the_callers_account() {
    let app = spawn_app().await;
    let user = UserRow::new("seller");
    app.insert_user(&user).await;

    let response = app.get("/v1/users/me").await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let response = app.get_as("/v1/users/me", "garbage").await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    let response = app
        .get_as("/v1/users/me", &app.token(user.id, "seller").await)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "private, no-store");
    assert_eq!(response.headers()["vary"], "Authorization");
    let body: serde_json::Value = response.json().await.expect("body");
    assert_eq!(body["id"], user.id.to_string());
    assert_eq!(body["email"], user.email);
    assert_eq!(body["role"], "seller");
    assert!(body.get("password_hash").is_none());

    let stranger = app.token(Uuid::now_v7(), "customer").await;
    let response = app.get_as("/v1/users/me", &stranger).await;
    assert_eq!(
        response.status(),
        StatusCode::NOT_FOUND,
        "not projected yet"
    );
}

#[tokio::test]
async fn a_token_whose_session_ended_is_401_on_every_personal_read() {
    let app = spawn_app().await;
    let seller = UserRow::new("seller");
    app.insert_user(&seller).await;
    let draft = ProductRow {
        seller_id: seller.id,
        status: "draft",
        ..ProductRow::published("Secret lamp")
    };
    app.insert_product(&draft).await;
    let session_id = app.start_session(seller.id).await;
    let token = app.issue(seller.id, "seller", session_id);
    let paths = [
        "/v1/users/me".to_owned(),
        format!("/v1/products/{}", draft.id),
        format!("/v1/audit/products/{}/events", draft.id),
    ];
    // Allowed while the session lives (the audit trail of a product without events is 404).
    let allowed = [StatusCode::OK, StatusCode::OK, StatusCode::NOT_FOUND];
    for (path, status) in paths.iter().zip(allowed) {
        assert_eq!(app.get_as(path, &token).await.status(), status, "{path}");
    }
    // What a sign-out, a password change or a deactivation does on the write side.
    store::sessions::end(
        &app.client,
        session_id,
        store::sessions::EndReason::SignedOut,
    )
    .await
    .expect("ending the session");
    for path in &paths {
        let response = app.get_as(path, &token).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
}
