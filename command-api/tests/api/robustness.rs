//! What a client or an outage can cause is never a 500: an id of another aggregate type is a
//! 404, text that cannot be stored is a 400, an unreachable database is a 503 with
//! `Retry-After`; and none of them records anything.

use reqwest::{Method, StatusCode, header::HeaderValue};
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{assert_problem, spawn_app};

#[tokio::test]
async fn a_product_command_on_a_users_id_and_a_user_command_on_a_products_id_are_404() {
    let app = spawn_app().await;
    let (seller_id, seller) = app.seller().await;
    let admin = app.admin_token().await;
    let product = app.create_product(&seller, "WRONG-TYPE-1").await;
    let before = app.event_count().await;

    let price = json!({ "amount_minor": 100, "currency": "EUR" });
    let path = format!("/v1/products/{seller_id}/price");
    let response = app
        .send(Method::PUT, &path, Some(&seller), Some(&price), &[])
        .await;
    assert_problem(response, StatusCode::NOT_FOUND, "not_found").await;
    let path = format!("/v1/products/{seller_id}/publish");
    let response = app.send(Method::POST, &path, Some(&admin), None, &[]).await;
    assert_problem(response, StatusCode::NOT_FOUND, "not_found").await;

    let path = format!("/v1/users/{product}/role");
    let role = json!({ "role": "seller" });
    let response = app
        .send(Method::PUT, &path, Some(&admin), Some(&role), &[])
        .await;
    assert_problem(response, StatusCode::NOT_FOUND, "not_found").await;
    let path = format!("/v1/users/{product}");
    let response = app
        .send(Method::DELETE, &path, Some(&admin), None, &[])
        .await;
    assert_problem(response, StatusCode::NOT_FOUND, "not_found").await;

    assert_eq!(app.event_count().await, before, "nothing was recorded");
}

#[tokio::test]
async fn nul_bytes_and_broken_utf8_in_a_body_parameter_path_or_header_are_400() {
    let app = spawn_app().await;
    let (_, seller) = app.seller().await;
    let before = app.event_count().await;

    // A JSON string with an escaped NUL: valid JSON, but no text column can hold it.
    let body = r#"{"sku":"NUL-1","name":"Ket\u0000tle","category":"kitchen",
                   "price":{"amount_minor":100,"currency":"EUR"},"stock":1}"#;
    let response = app
        .http
        .post(app.url("/v1/products"))
        .bearer_auth(&seller)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_problem(response, StatusCode::BAD_REQUEST, "malformed_body").await;
    // Bytes that are not UTF-8 at all.
    let response = app
        .http
        .post(app.url("/v1/users"))
        .header("content-type", "application/json")
        .body(b"{\"email\":\"\xff@example.com\"}".to_vec())
        .send()
        .await
        .unwrap();
    assert_problem(response, StatusCode::BAD_REQUEST, "malformed_body").await;

    let product = Uuid::now_v7();
    for target in [
        format!("/v1/products/{product}%00/publish"),
        format!("/v1/products/{product}/publish?x=%00"),
        format!("/v1/products/{product}/publish?x=%ff"),
    ] {
        let response = app
            .send(Method::POST, &target, Some(&seller), None, &[])
            .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{target}");
    }
    let response = app
        .http
        .post(app.url("/v1/users"))
        .header("x-correlation-id", HeaderValue::from_bytes(b"\xff\xfe").unwrap())
        .json(&json!({ "email": "h@example.com", "password": "long enough password", "display_name": "H" }))
        .send()
        .await
        .unwrap();
    assert_problem(response, StatusCode::BAD_REQUEST, "unreadable_header").await;
    // Readable UTF-8 where the header must be ASCII is refused, not ignored: an ignored
    // Idempotency-Key would run the command twice.
    let response = app
        .http
        .post(app.url("/v1/users"))
        .header("idempotency-key", HeaderValue::from_bytes("clé".as_bytes()).unwrap())
        .json(&json!({ "email": "i@example.com", "password": "long enough password", "display_name": "I" }))
        .send()
        .await
        .unwrap();
    assert_problem(response, StatusCode::BAD_REQUEST, "invalid_header").await;

    assert_eq!(app.event_count().await, before, "nothing was recorded");
}

#[tokio::test]
async fn commands_answer_503_with_retry_after_while_the_database_is_unreachable() {
    let app = spawn_app().await;
    let (_, seller) = app.seller().await;
    let product = app.create_product(&seller, "OUTAGE-1").await;
    let path = format!("/v1/products/{product}/price");
    let price = json!({ "amount_minor": 150, "currency": "EUR" });

    // The database goes away for this app alone: no new connections, existing ones cut.
    let admin = testkit::database::admin_client().await.unwrap();
    let name = &app.db.name;
    admin
        .batch_execute(&format!(
            "ALTER DATABASE {name} ALLOW_CONNECTIONS false;
             SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}';"
        ))
        .await
        .unwrap();
    for _ in 0..3 {
        let response = app
            .send(Method::PUT, &path, Some(&seller), Some(&price), &[])
            .await;
        assert_eq!(response.headers()["retry-after"], "1");
        assert_problem(
            response,
            StatusCode::SERVICE_UNAVAILABLE,
            "service_unavailable",
        )
        .await;
    }
    let sign_in = json!({ "email": "nobody@example.com", "password": "whatever password" });
    let response = app.post("/v1/sessions", None, &sign_in).await;
    assert_problem(
        response,
        StatusCode::SERVICE_UNAVAILABLE,
        "service_unavailable",
    )
    .await;

    admin
        .batch_execute(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true"))
        .await
        .unwrap();
    let response = app
        .send(Method::PUT, &path, Some(&seller), Some(&price), &[])
        .await;
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "back once the database is"
    );
}
