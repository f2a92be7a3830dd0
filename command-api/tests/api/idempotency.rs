//! `Idempotency-Key`: a retried request is answered from the record and records nothing new.

use futures::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{PASSWORD, assert_problem, product_body, spawn_app};

#[tokio::test]
async fn the_same_key_and_body_replays_the_first_response_and_records_nothing_new() {
    let app = spawn_app().await;
    let (_, seller) = app.seller().await;
    let headers = [("idempotency-key", "create-kettle-1")];
    let body = product_body("IDEM-001");
    let first = app
        .send(
            Method::POST,
            "/v1/products",
            Some(&seller),
            Some(&body),
            &headers,
        )
        .await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first_etag = first.headers()["etag"].clone();
    let first_body = first.text().await.unwrap();
    let events = app.event_count().await;
    let again = app
        .send(
            Method::POST,
            "/v1/products",
            Some(&seller),
            Some(&body),
            &headers,
        )
        .await;
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.headers()["etag"], first_etag);
    assert_eq!(again.text().await.unwrap(), first_body);
    assert_eq!(app.event_count().await, events);
}

#[tokio::test]
async fn the_same_key_with_another_body_returns_422() {
    let app = spawn_app().await;
    let (_, seller) = app.seller().await;
    let headers = [("idempotency-key", "key-2")];
    let first = app
        .send(
            Method::POST,
            "/v1/products",
            Some(&seller),
            Some(&product_body("IDEM-002")),
            &headers,
        )
        .await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let other = app
        .send(
            Method::POST,
            "/v1/products",
            Some(&seller),
            Some(&product_body("IDEM-003")),
            &headers,
        )
        .await;
    assert_problem(
        other,
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
    )
    .await;
}

#[tokio::test]
async fn concurrent_retries_with_one_key_record_one_sign_up() {
    let app = spawn_app().await;
    let body = json!({ "email": "once@example.com", "password": PASSWORD, "display_name": "Once" });
    let attempts = (0..5).map(|_| {
        app.send(
            Method::POST,
            "/v1/users",
            None,
            Some(&body),
            &[("idempotency-key", "signup-once")],
        )
    });
    let responses = join_all(attempts).await;
    assert!(responses.iter().all(|r| r.status() == StatusCode::CREATED));
    let mut ids = Vec::new();
    for response in responses {
        ids.push(crate::helpers::id_of(response).await);
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "every retry names the same account");
}

#[tokio::test]
async fn a_failed_command_does_not_burn_its_key() {
    let app = spawn_app().await;
    let (_, seller) = app.seller().await;
    let id = app.create_product(&seller, "IDEM-004").await;
    let path = format!("/v1/products/{id}/stock-adjustments");
    let headers = [("idempotency-key", "adjust-1")];
    let too_much = json!({ "delta": -50, "reason": "sold" });
    let response = app
        .send(
            Method::POST,
            &path,
            Some(&seller),
            Some(&too_much),
            &headers,
        )
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let response = app
        .send(
            Method::POST,
            &path,
            Some(&seller),
            Some(&too_much),
            &headers,
        )
        .await;
    assert_eq!(
        response.status(),
        StatusCode::CONFLICT,
        "re-run, not replayed"
    );
    assert!(response.headers().get("idempotent-replayed").is_none());
}
