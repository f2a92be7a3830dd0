//! Product commands: who may issue them, what they answer, and what bad input gets.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{PASSWORD, assert_problem, product_body, spawn_app};

#[tokio::test]
async fn a_seller_creates_a_product_and_gets_etag_and_consistency_token() {
    let app = spawn_app().await;
    let (_, seller) = app.seller().await;
    let response = app
        .post("/v1/products", Some(&seller), &product_body("KET-001"))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(response.headers()["etag"], "\"1\"");
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let token = response.headers()["consistency-token"]
        .to_str()
        .unwrap()
        .to_owned();
    let id = crate::helpers::id_of(response).await;
    assert_eq!(location, format!("/v1/products/{id}"));
    assert_eq!(token, format!("{id}:1"));
}

#[tokio::test]
async fn customers_and_anonymous_callers_cannot_create_products() {
    let app = spawn_app().await;
    app.register("buyer@example.com").await;
    let customer = app.login("buyer@example.com", PASSWORD).await;
    let response = app
        .post("/v1/products", Some(&customer), &product_body("KET-002"))
        .await;
    assert_problem(response, StatusCode::FORBIDDEN, "forbidden").await;
    let response = app
        .post("/v1/products", None, &product_body("KET-002"))
        .await;
    assert_problem(response, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    let response = app
        .post(
            "/v1/products",
            Some("not-a-token"),
            &product_body("KET-002"),
        )
        .await;
    assert_problem(response, StatusCode::UNAUTHORIZED, "unauthenticated").await;
}

#[tokio::test]
async fn a_seller_cannot_change_another_sellers_product_but_an_admin_can() {
    let app = spawn_app().await;
    let (_, owner) = app.seller().await;
    let (_, other) = app.seller().await;
    let id = app.create_product(&owner, "KET-003").await;
    let path = format!("/v1/products/{id}/price");
    let price = json!({ "amount_minor": 1999, "currency": "EUR" });
    let response = app
        .send(Method::PUT, &path, Some(&other), Some(&price), &[])
        .await;
    assert_problem(response, StatusCode::FORBIDDEN, "forbidden").await;
    let admin = app.admin_token().await;
    let response = app
        .send(Method::PUT, &path, Some(&admin), Some(&price), &[])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["etag"], "\"2\"");
}

#[tokio::test]
async fn the_full_product_lifecycle_advances_the_version() {
    let app = spawn_app().await;
    let (_, seller) = app.seller().await;
    let id = app.create_product(&seller, "KET-004").await;
    let steps = [
        (
            Method::PATCH,
            format!("/v1/products/{id}"),
            Some(json!({ "name": "Better Kettle" })),
        ),
        (
            Method::PUT,
            format!("/v1/products/{id}/price"),
            Some(json!({ "amount_minor": 2799, "currency": "EUR" })),
        ),
        (
            Method::POST,
            format!("/v1/products/{id}/stock-adjustments"),
            Some(json!({ "delta": -2, "reason": "sold" })),
        ),
        (Method::POST, format!("/v1/products/{id}/publish"), None),
        (Method::POST, format!("/v1/products/{id}/unpublish"), None),
        (Method::DELETE, format!("/v1/products/{id}"), None),
    ];
    for (version, (method, path, body)) in (2..).zip(steps) {
        let response = app
            .send(method, &path, Some(&seller), body.as_ref(), &[])
            .await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(response.headers()["etag"], format!("\"{version}\""));
    }
    // Archived: every further command is refused.
    let response = app
        .send(
            Method::POST,
            &format!("/v1/products/{id}/publish"),
            Some(&seller),
            None,
            &[],
        )
        .await;
    assert_problem(response, StatusCode::CONFLICT, "archived").await;
}

#[tokio::test]
async fn stock_never_goes_negative() {
    let app = spawn_app().await;
    let (_, seller) = app.seller().await;
    let id = app.create_product(&seller, "KET-005").await;
    let before = app.event_count().await;
    let response = app
        .post(
            &format!("/v1/products/{id}/stock-adjustments"),
            Some(&seller),
            &json!({ "delta": -11, "reason": "sold" }),
        )
        .await;
    assert_problem(response, StatusCode::CONFLICT, "insufficient_stock").await;
    assert_eq!(app.event_count().await, before);
}

#[tokio::test]
async fn a_duplicate_sku_returns_409() {
    let app = spawn_app().await;
    let (_, seller) = app.seller().await;
    app.create_product(&seller, "KET-006").await;
    let response = app
        .post("/v1/products", Some(&seller), &product_body("ket-006"))
        .await;
    assert_problem(response, StatusCode::CONFLICT, "sku_taken").await;
}

#[tokio::test]
async fn bad_input_gets_problem_json_and_changes_nothing() {
    let app = spawn_app().await;
    let (_, seller) = app.seller().await;
    let before = app.event_count().await;
    let malformed = app
        .http
        .post(app.url("/v1/products"))
        .bearer_auth(&seller)
        .header("content-type", "application/json")
        .body("{\"sku\": ")
        .send()
        .await
        .unwrap();
    assert_problem(malformed, StatusCode::BAD_REQUEST, "malformed_body").await;
    let mut unknown_field = product_body("KET-007");
    unknown_field["colour"] = json!("red");
    let response = app
        .post("/v1/products", Some(&seller), &unknown_field)
        .await;
    let body = assert_problem(response, StatusCode::BAD_REQUEST, "malformed_body").await;
    assert!(body["detail"].as_str().unwrap().contains("colour"));
    let mut invalid = product_body("KET-007");
    invalid["price"] = json!({ "amount_minor": 0, "currency": "XXX" });
    invalid["name"] = json!("n".repeat(201));
    let response = app.post("/v1/products", Some(&seller), &invalid).await;
    let body = assert_problem(response, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert_eq!(body["errors"].as_array().unwrap().len(), 2);
    let oversize = json!({ "description": "x".repeat(100_000) });
    let response = app.post("/v1/products", Some(&seller), &oversize).await;
    assert_problem(response, StatusCode::PAYLOAD_TOO_LARGE, "body_too_large").await;
    let not_json = app
        .http
        .post(app.url("/v1/products"))
        .bearer_auth(&seller)
        .header("content-type", "text/plain")
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_problem(
        not_json,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
    let bad_id = app
        .send(
            Method::POST,
            "/v1/products/not-a-uuid/publish",
            Some(&seller),
            None,
            &[],
        )
        .await;
    assert_problem(bad_id, StatusCode::NOT_FOUND, "not_found").await;
    let bad_if_match = app
        .send(
            Method::POST,
            "/v1/products/0191d3a0-0000-7000-8000-000000000000/publish",
            Some(&seller),
            None,
            &[("if-match", "yesterday")],
        )
        .await;
    assert_problem(bad_if_match, StatusCode::BAD_REQUEST, "invalid_if_match").await;
    assert_eq!(app.event_count().await, before);
}

#[tokio::test]
async fn change_price_returns_412_when_if_match_is_stale() {
    let app = spawn_app().await;
    let (_, seller) = app.seller().await;
    let id = app.create_product(&seller, "KET-008").await;
    let path = format!("/v1/products/{id}/price");
    let price = json!({ "amount_minor": 3000, "currency": "EUR" });
    let ok = app
        .send(
            Method::PUT,
            &path,
            Some(&seller),
            Some(&price),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(ok.status(), StatusCode::OK);
    let stale = app
        .send(
            Method::PUT,
            &path,
            Some(&seller),
            Some(&price),
            &[("if-match", "\"1\"")],
        )
        .await;
    let body = assert_problem(
        stale,
        StatusCode::PRECONDITION_FAILED,
        "precondition_failed",
    )
    .await;
    assert!(body["detail"].as_str().unwrap().contains('2'));
}
