//! Health, metrics, request ids and the OpenAPI document.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{PASSWORD, assert_problem, spawn_app, spawn_app_with};

#[tokio::test]
async fn live_and_ready_answer_200_with_the_checks_on_the_admin_listener_only() {
    let app = spawn_app().await;
    let live = app.http.get(app.url("/health/live")).send().await.unwrap();
    assert_eq!(live.status(), StatusCode::OK);
    let ready = app.http.get(app.url("/health/ready")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body, json!({ "status": "ready" }), "no details in public");
    let ready = app
        .http
        .get(app.admin_url("/health/ready"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["checks"]["database"]["ok"], true);
    assert_eq!(body["checks"]["broker"]["ok"], true);
}

/// Series that only a fault can produce, so traffic in a test cannot show them, and why.
const FAULT_ONLY: [(&str, &str); 4] = [
    (
        "relay_publish_failures_total",
        "a batch the broker refused; relay.rs drives the relay through failures",
    ),
    (
        "version_conflicts_total",
        "two writers racing on one stream; concurrency.rs provokes the race",
    ),
    (
        "relay_log_losses_total",
        "a broker that lost a topic; relay.rs and the fault suite wipe one",
    ),
    (
        "password_hashes_shed_total",
        "a hash flood beyond the queue; abuse.rs floods sign-ups",
    ),
];

#[tokio::test]
async fn metrics_expose_every_documented_series_after_traffic() {
    let app = spawn_app_with(|s| s.auth_limits.per_account_client = 1).await;
    let (seller_email, seller) = app.seller_with_email().await;
    let id = app.create_product(&seller, "MET-001").await;
    let stock = format!("/v1/products/{id}/stock-adjustments");
    let too_many = json!({ "delta": -1000, "reason": "sold" });
    let refused = app.post(&stock, Some(&seller), &too_many).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    let again = [("idempotency-key", "metrics-replay-1")];
    let sold = json!({ "delta": -1, "reason": "sold" });
    for _ in 0..2 {
        let response = app
            .send(Method::POST, &stock, Some(&seller), Some(&sold), &again)
            .await;
        assert!(response.status().is_success(), "{}", response.status());
    }
    // Enough events on one stream for a snapshot.
    let restocked = json!({ "delta": 1, "reason": "restock" });
    for _ in 0..store::SNAPSHOT_EVERY {
        let response = app.post(&stock, Some(&seller), &restocked).await;
        assert!(response.status().is_success(), "{}", response.status());
    }
    let session = app.sign_in(&seller_email, PASSWORD).await;
    let refreshed = app
        .refresh(session["refresh_token"].as_str().unwrap())
        .await;
    assert_eq!(refreshed.status(), StatusCode::OK);
    let signed_out = app
        .send(
            Method::DELETE,
            "/v1/sessions/current",
            session["access_token"].as_str(),
            None,
            &[],
        )
        .await;
    assert_eq!(signed_out.status(), StatusCode::NO_CONTENT);
    let wrong = json!({ "email": seller_email, "password": "not-the-password-at-all" });
    let failed = app.post("/v1/sessions", None, &wrong).await;
    assert_eq!(failed.status(), StatusCode::UNAUTHORIZED);
    let throttled = app.post("/v1/sessions", None, &wrong).await;
    assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);

    let mut expected = testkit::metrics::documented(include_str!("../../src/metrics.rs"));
    expected.extend(testkit::metrics::platform_documented());
    expected.retain(|name| FAULT_ONLY.iter().all(|(fault, _)| fault != name));
    assert!(expected.len() >= 12, "documented: {expected:?}");
    // The relay publishes (and samples its backlog) on its own schedule after the commits.
    let deadline = Instant::now() + Duration::from_secs(30);
    let (text, missing) = loop {
        let text = app
            .http
            .get(app.admin_url("/metrics"))
            .send()
            .await
            .unwrap();
        let text = text.text().await.unwrap();
        let missing = testkit::metrics::missing(&text, &expected);
        if missing.is_empty() || Instant::now() > deadline {
            break (text, missing);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(missing.is_empty(), "/metrics lacks {missing:?}:\n{text}");
    assert!(text.contains("route=\"/v1/products\""));
}

#[tokio::test]
async fn every_response_carries_a_request_id_taken_from_the_caller_when_valid() {
    let app = spawn_app().await;
    let request_id = |response: reqwest::Response| {
        response.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .to_owned()
    };
    let live = |headers: &'static [(&'static str, &'static str)]| {
        app.send(Method::GET, "/health/live", None, None, headers)
    };
    assert_eq!(
        request_id(live(&[("x-request-id", "edge-7f3a")]).await),
        "edge-7f3a"
    );
    let generated = request_id(live(&[]).await);
    assert!(Uuid::parse_str(&generated).is_ok(), "{generated}");
    assert_ne!(request_id(live(&[]).await), generated);
    let replaced = request_id(live(&[("x-request-id", "has spaces in it")]).await);
    assert!(Uuid::parse_str(&replaced).is_ok(), "{replaced}");
    let problem = app.http.get(app.url("/v1/nothing")).send().await.unwrap();
    assert!(problem.headers().contains_key("x-request-id"));
}

/// The served document lists every command route and is the committed
/// `openapi/command-api.json`, so a contract change shows in the diff (and in CI's
/// breaking-change check against the previous commit).
#[tokio::test]
async fn committed_openapi_document_is_the_served_one_with_every_route() {
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
        "/v1/users/{id}/email-verification",
        "/v1/users/{id}/email-verification-requests",
        "/v1/password-resets",
        "/v1/password-resets/{token}",
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
    testkit::committed::assert_committed("openapi/command-api.json", &doc);
}

#[tokio::test]
async fn unknown_routes_get_a_problem_not_an_empty_404() {
    let app = spawn_app().await;
    let response = app.http.get(app.url("/v1/nothing")).send().await.unwrap();
    assert_problem(response, StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test]
async fn an_undeclared_method_on_a_documented_path_is_405_with_allow() {
    let app = spawn_app().await;
    for (method, path, allow) in [
        (Method::GET, "/v1/sessions/refresh", "POST"),
        (Method::PUT, "/v1/products", "POST"),
        (
            Method::TRACE,
            "/v1/users/0190b0a1-0000-7000-8000-000000000000",
            "DELETE, PATCH",
        ),
    ] {
        let response = app.send(method.clone(), path, None, None, &[]).await;
        assert_eq!(response.headers()["allow"], allow, "{method} {path}");
        assert_problem(
            response,
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        )
        .await;
    }
    let unknown = app.send(Method::GET, "/v1/nowhere", None, None, &[]).await;
    assert_problem(unknown, StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test]
async fn the_document_declares_every_error_as_a_problem_with_the_common_ones() {
    let app = spawn_app().await;
    let document: Value = app
        .http
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut errors = 0;
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let responses = operation["responses"].as_object().unwrap();
            if path.starts_with("/v1/") {
                for common in ["400", "401", "503"] {
                    assert!(responses.contains_key(common), "{method} {path}: {common}");
                }
            }
            for (status, response) in responses {
                if status.as_str() >= "400" {
                    errors += 1;
                    assert!(
                        response["content"]["application/problem+json"].is_object()
                            && response["content"]["application/json"].is_null(),
                        "{method} {path} {status}: {response}"
                    );
                }
            }
        }
    }
    assert!(errors > 50, "{errors} error responses");
}
