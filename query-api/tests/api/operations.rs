//! Operating the read side: following a read schema flip without a restart, readiness, the
//! OpenAPI document and the metrics endpoint.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{ProductRow, SCHEMA, create_read_schema, ids, insert_product_into, spawn_app};

#[tokio::test]
async fn a_read_schema_flip_is_followed_without_a_restart() {
    let app = spawn_app().await;
    let live = ProductRow::published("From the live schema");
    app.insert_product(&live).await;
    assert_eq!(ids(&app.get_json("/v1/products").await), [live.id]);

    // A rebuild fills read_v2 next to read_v1, then flips the pointer in one UPDATE and
    // (after its grace period, here at once) drops the old schema.
    create_read_schema(&app.client, "read_v2").await;
    let rebuilt = ProductRow::published("From the rebuilt schema");
    insert_product_into(&app.client, "read_v2", &rebuilt).await;
    app.client
        .batch_execute(
            "UPDATE read_meta.active SET schema = 'read_v2', activated_at = now();
             DROP SCHEMA read_v1 CASCADE;",
        )
        .await
        .expect("flip and drop");

    let started = Instant::now();
    loop {
        let response = app.get("/v1/products").await;
        match response.status() {
            StatusCode::OK => {
                let body: Value = response.json().await.expect("body");
                if ids(&body) == [rebuilt.id] {
                    break;
                }
            }
            // The cached name may point at the dropped schema for one request: a retryable
            // 503, then the pointer is read again.
            StatusCode::SERVICE_UNAVAILABLE => {
                assert_eq!(response.headers()["retry-after"], "1");
            }
            other => panic!("unexpected {other} during the flip"),
        }
        assert!(
            started.elapsed() < Duration::from_millis(1_500),
            "flip followed within the cache bound"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn ready_reports_the_active_schema_and_is_503_without_one() {
    let app = spawn_app().await;
    let response = app.get("/health/ready").await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("body");
    assert_eq!(body["checks"]["read_model"]["schema"], SCHEMA);
    assert!(body["checks"]["read_model"]["last_checkpoint_at"].is_null());

    app.client
        .batch_execute(&format!(
            "INSERT INTO {SCHEMA}.checkpoints (topic, partition, next_offset) VALUES ('t', 0, 1)"
        ))
        .await
        .expect("checkpoint");
    let body: Value = app.get("/health/ready").await.json().await.expect("body");
    assert!(body["checks"]["read_model"]["seconds_since_last_checkpoint"].is_number());

    app.client
        .batch_execute("DELETE FROM read_meta.active")
        .await
        .expect("no active schema");
    let started = Instant::now();
    while app.get("/health/ready").await.status() != StatusCode::SERVICE_UNAVAILABLE {
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "not ready without a schema"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(app.get("/health/live").await.status(), StatusCode::OK);
    assert_eq!(
        app.get("/v1/products").await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
}

#[tokio::test]
async fn openapi_lists_every_route() {
    let app = spawn_app().await;
    let document = app.get_json("/openapi.json").await;
    let paths = document["paths"].as_object().expect("paths");
    for path in [
        "/v1/products",
        "/v1/products/{id}",
        "/v1/categories",
        "/v1/users/me",
        "/v1/audit/products/{id}/events",
        "/v1/audit/products/{id}/state",
        "/v1/audit/users/{id}/events",
        "/health/live",
        "/health/ready",
        "/metrics",
        "/openapi.json",
    ] {
        assert!(paths.contains_key(path), "{path} is documented");
    }
    let params: Vec<&str> = document["paths"]["/v1/products"]["get"]["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .map(|p| p["name"].as_str().expect("name"))
        .collect();
    for name in [
        "category",
        "min_price",
        "max_price",
        "in_stock",
        "seller",
        "q",
        "sort",
        "limit",
        "cursor",
        "include_total",
    ] {
        assert!(params.contains(&name), "{name} is documented");
    }
}

#[tokio::test]
async fn metrics_name_the_query_api_counters() {
    let app = spawn_app().await;
    let _ = app.get("/v1/products?cursor=bad").await;
    let response = app.get("/metrics").await;
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.expect("text");
    assert!(text.contains("query_cursor_errors_total"), "{text}");
    assert!(text.contains("http_request_duration_seconds"));
}
