//! Health, metrics and the OpenAPI document.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{assert_problem, spawn_app};

#[tokio::test]
async fn live_and_ready_answer_200_with_their_checks() {
    let app = spawn_app().await;
    let live = app.http.get(app.url("/health/live")).send().await.unwrap();
    assert_eq!(live.status(), StatusCode::OK);
    let ready = app.http.get(app.url("/health/ready")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["checks"]["database"]["ok"], true);
    assert_eq!(body["checks"]["broker"]["ok"], true);
}

#[tokio::test]
async fn metrics_expose_the_documented_series_after_traffic() {
    let app = spawn_app().await;
    let (_, seller) = app.seller().await;
    app.create_product(&seller, "MET-001").await;
    let text = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for series in [
        "http_request_duration_seconds_bucket",
        "events_appended_total",
        "db_pool_connections_in_use",
    ] {
        assert!(text.contains(series), "missing {series}");
    }
    assert!(text.contains("route=\"/v1/products\""));
}

#[tokio::test]
async fn the_openapi_document_lists_every_command_route() {
    let app = spawn_app().await;
    let doc: Value = app
        .http
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paths = doc["paths"].as_object().unwrap();
    for path in [
        "/v1/users",
        "/v1/users/{id}",
        "/v1/users/{id}/role",
        "/v1/sessions",
        "/v1/products",
        "/v1/products/{id}",
        "/v1/products/{id}/price",
        "/v1/products/{id}/stock-adjustments",
        "/v1/products/{id}/publish",
        "/v1/products/{id}/unpublish",
    ] {
        assert!(paths.contains_key(path), "missing {path}");
    }
}

#[tokio::test]
async fn unknown_routes_get_a_problem_not_an_empty_404() {
    let app = spawn_app().await;
    let response = app.http.get(app.url("/v1/nothing")).send().await.unwrap();
    assert_problem(response, StatusCode::NOT_FOUND, "not_found").await;
}
