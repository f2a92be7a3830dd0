//! The in-process listing cache: identical anonymous listings are answered from a copy for its
//! time to live, never past it, and never to a request waiting for its own write.

use std::time::Duration;

use crate::helpers::{ProductRow, ids, set_stream_version, spawn_app_with};

const TTL: Duration = Duration::from_millis(400);

#[tokio::test]
async fn an_identical_listing_is_answered_from_the_copy_until_its_time_to_live_ends() {
    let app = spawn_app_with(|s| s.listing_cache = TTL).await;
    let first = ProductRow::published("First kettle");
    app.insert_product(&first).await;
    assert_eq!(ids(&app.get_json("/v1/products").await), [first.id]);

    let second = ProductRow::published("Second kettle");
    app.insert_product(&second).await;
    // The same request within the time to live: the copy, without the new row.
    assert_eq!(ids(&app.get_json("/v1/products").await), [first.id]);
    // Another query string is another page.
    assert_eq!(ids(&app.get_json("/v1/products?limit=5").await).len(), 2);

    tokio::time::sleep(TTL + Duration::from_millis(100)).await;
    assert_eq!(ids(&app.get_json("/v1/products").await).len(), 2);
}

#[tokio::test]
async fn a_request_with_a_consistency_token_never_gets_a_copy() {
    let app = spawn_app_with(|s| s.listing_cache = Duration::from_secs(5)).await;
    let first = ProductRow::published("First lamp");
    app.insert_product(&first).await;
    assert_eq!(ids(&app.get_json("/v1/products").await), [first.id]);

    let second = ProductRow::published("Second lamp");
    app.insert_product(&second).await;
    set_stream_version(&app.client, second.id, 1).await;
    let token = format!("{}:1", second.id);
    let response = app
        .get_with("/v1/products", None, &[("consistency-token", &token)])
        .await;
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    let body: serde_json::Value = response.json().await.expect("body");
    assert_eq!(
        ids(&body).len(),
        2,
        "the client's own write is in the answer"
    );
}

#[tokio::test]
async fn a_bad_parameter_is_refused_even_when_a_copy_exists() {
    let app = spawn_app_with(|s| s.listing_cache = Duration::from_secs(5)).await;
    let response = app.get("/v1/products?limit=500").await;
    assert_eq!(response.status(), reqwest::StatusCode::BAD_REQUEST);
    let response = app.get("/v1/products?limit=500").await;
    assert_eq!(response.status(), reqwest::StatusCode::BAD_REQUEST);
}
