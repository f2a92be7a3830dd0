//! Operating the read side: following a read schema flip without a restart, readiness, the
//! OpenAPI document, the metrics endpoint and request ids.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;
use uuid::Uuid;

use crate::helpers::{
    ProductRow, SCHEMA, create_read_schema, ids, insert_product_into, spawn_app, spawn_app_with,
};

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
async fn ready_reports_the_projections_freshness_and_is_503_without_a_schema() {
    let app = spawn_app().await;
    // The reasons are on the admin listener; the public port gives the verdict alone.
    let ready = || async {
        app.http
            .get(app.admin_url("/health/ready"))
            .send()
            .await
            .expect("admin readiness")
    };
    let public: Value = app.get("/health/ready").await.json().await.expect("body");
    assert_eq!(public, serde_json::json!({ "status": "degraded" }));
    let response = ready().await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("body");
    assert_eq!(body["checks"]["read_model"]["schema"], SCHEMA);
    assert_eq!(body["status"], "degraded", "never sampled: {body}");
    assert_eq!(body["checks"]["projection"]["ok"], false);

    let sample = |lag: f64, seconds_ago: i64| {
        format!(
            "INSERT INTO {SCHEMA}.projection_status (lag_seconds, lag_messages, detail, sampled_at)
             VALUES ({lag}, 0, '{{}}', now() - make_interval(secs => {seconds_ago}))
             ON CONFLICT (singleton) DO UPDATE SET lag_seconds = EXCLUDED.lag_seconds,
                 sampled_at = EXCLUDED.sampled_at"
        )
    };
    app.client
        .batch_execute(&sample(0.4, 1))
        .await
        .expect("fresh sample");
    let body: Value = ready().await.json().await.expect("body");
    assert_eq!(body["status"], "ready", "{body}");
    assert_eq!(body["checks"]["projection"]["ok"], true);

    app.client
        .batch_execute(&sample(120.0, 1))
        .await
        .expect("stalled sample");
    let response = ready().await;
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "stale is reported, not fatal"
    );
    let body: Value = response.json().await.expect("body");
    assert_eq!(body["status"], "degraded", "{body}");
    let reason = body["checks"]["projection"]["reason"]
        .as_str()
        .unwrap_or_default();
    assert!(reason.contains("120 s behind"), "{body}");

    app.client
        .batch_execute(&sample(0.0, 300))
        .await
        .expect("old sample");
    let body: Value = ready().await.json().await.expect("body");
    let reason = body["checks"]["projection"]["reason"]
        .as_str()
        .unwrap_or_default();
    assert!(reason.contains("no projector has sampled"), "{body}");

    app.client
        .batch_execute("DELETE FROM read_meta.active")
        .await
        .expect("no active schema");
    let started = Instant::now();
    while ready().await.status() != StatusCode::SERVICE_UNAVAILABLE {
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "not ready without a schema"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let public = app.get("/health/ready").await;
    assert_eq!(public.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(public.headers().contains_key("retry-after"));
    let public: Value = public.json().await.expect("body");
    assert_eq!(public, serde_json::json!({ "status": "not_ready" }));
    assert_eq!(app.get("/health/live").await.status(), StatusCode::OK);
    assert_eq!(
        app.get("/v1/products").await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
}

#[tokio::test]
async fn a_stale_projection_fails_readiness_when_configured_to() {
    let app = spawn_app_with(|s| s.unready_when_stale = true).await;
    let response = app.get("/health/ready").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = response.json().await.expect("body");
    assert_eq!(body["status"], "degraded", "{body}");
}

/// The served document is the committed `openapi/query-api.json`, so a contract change shows
/// in the diff (and in CI's breaking-change check against the previous commit).
#[tokio::test]
async fn committed_openapi_document_is_the_served_one() {
    let app = spawn_app().await;
    let served = app.get_json("/openapi.json").await;
    testkit::committed::assert_committed("openapi/query-api.json", &served);
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
        "/openapi.json",
    ] {
        assert!(paths.contains_key(path), "{path} is documented");
    }
    // Operators' endpoints live on the admin listener, not in the public contract.
    assert!(!paths.contains_key("/metrics"));
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
async fn metrics_expose_every_documented_series_after_traffic() {
    let app = spawn_app().await;
    let product = ProductRow::published("Scraped mug");
    app.insert_product(&product).await;
    let path = format!("/v1/products/{}", product.id);
    let first = app.get(&path).await;
    let etag = first.headers()["etag"].to_str().expect("etag").to_owned();
    let again = app.get_with(&path, None, &[("If-None-Match", &etag)]).await;
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(
        app.get("/v1/products?cursor=bad").await.status(),
        StatusCode::BAD_REQUEST
    );
    let counted = app.get("/v1/products?include_total=true").await;
    assert_eq!(counted.status(), StatusCode::OK);
    app.set_stream_version(product.id, 1).await;
    let token = format!("{}:1", product.id);
    let waited = app
        .get_with(&path, None, &[("Consistency-Token", &token)])
        .await;
    assert_eq!(waited.status(), StatusCode::OK);

    // A rebuild's flip is a schema switch; then the active schema vanishing under its name is
    // the `schema` kind of database unavailability.
    create_read_schema(&app.client, "read_v2").await;
    let rebuilt = ProductRow::published("Rebuilt mug");
    insert_product_into(&app.client, "read_v2", &rebuilt).await;
    app.client
        .batch_execute("UPDATE read_meta.active SET schema = 'read_v2', activated_at = now()")
        .await
        .expect("flip");
    let started = Instant::now();
    while ids(&app.get_json("/v1/products").await) != [rebuilt.id] {
        assert!(started.elapsed() < Duration::from_secs(5), "flip followed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    app.client
        .batch_execute("DROP SCHEMA read_v2 CASCADE")
        .await
        .expect("drop the active schema");
    assert_eq!(
        app.get("/v1/products").await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );

    let mut expected = testkit::metrics::documented(include_str!("../../src/metrics.rs"));
    expected.extend(testkit::metrics::platform_documented());
    assert!(expected.len() >= 8, "documented: {expected:?}");
    // The freshness gauge is set by readiness checks, which the kubelet makes every few seconds.
    app.get("/health/ready").await;
    assert_eq!(
        app.get("/metrics").await.status(),
        StatusCode::NOT_FOUND,
        "not on the API port"
    );
    let response = app
        .http
        .get(app.admin_url("/metrics"))
        .send()
        .await
        .expect("scrape");
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.expect("text");
    let missing = testkit::metrics::missing(&text, &expected);
    assert!(missing.is_empty(), "/metrics lacks {missing:?}:\n{text}");
    assert!(text.contains("query_db_unavailable_total{kind=\"schema\"}"));
}

#[tokio::test]
async fn every_response_carries_a_request_id_taken_from_the_caller_when_valid() {
    let app = spawn_app().await;
    let request_id = |response: reqwest::Response| {
        response.headers()["x-request-id"]
            .to_str()
            .expect("ascii")
            .to_owned()
    };
    let given = app
        .get_with("/v1/products", None, &[("X-Request-Id", "edge-7f3a")])
        .await;
    assert_eq!(request_id(given), "edge-7f3a");
    let generated = request_id(app.get("/v1/products").await);
    assert!(Uuid::parse_str(&generated).is_ok(), "{generated}");
    let too_long = "x".repeat(129);
    let replaced = app
        .get_with("/v1/products", None, &[("X-Request-Id", &too_long)])
        .await;
    assert!(Uuid::parse_str(&request_id(replaced)).is_ok());
    let problem = app.get("/v1/products?cursor=bad").await;
    assert_eq!(problem.status(), StatusCode::BAD_REQUEST);
    assert!(problem.headers().contains_key("x-request-id"));
    // Refused by the read-your-writes middleware rather than by a handler.
    let refused = app
        .get_with("/v1/products", None, &[("Consistency-Token", "garbage")])
        .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert!(refused.headers().contains_key("x-request-id"));
}

#[tokio::test]
async fn an_undeclared_method_is_405_and_a_missing_token_401_before_any_parameter() {
    let app = spawn_app().await;
    for (method, path) in [
        (reqwest::Method::DELETE, "/v1/products"),
        (
            reqwest::Method::POST,
            "/v1/products/0190b0a1-0000-7000-8000-000000000000",
        ),
        (reqwest::Method::TRACE, "/v1/users/me"),
    ] {
        let response = app
            .http
            .request(method.clone(), format!("{}{path}", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
        assert_eq!(response.headers()["allow"], "GET", "{method} {path}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
    }
    assert_eq!(app.get("/v1/nowhere").await.status(), StatusCode::NOT_FOUND);
    // Before any parameter is judged: the method, then whether a token came at all.
    let traced = app
        .http
        .request(
            reqwest::Method::TRACE,
            format!("{}/v1/categories", app.address),
        )
        .header("consistency-token", "not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(traced.status(), StatusCode::METHOD_NOT_ALLOWED);
    let anonymous = app
        .get("/v1/audit/products/0190b0a1-0000-7000-8000-000000000000/state?as_of=")
        .await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.headers()["www-authenticate"], "Bearer");
}
