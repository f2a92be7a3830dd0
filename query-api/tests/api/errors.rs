//! Bad input is a 400 problem naming the parameter, never a 500; slow queries hit the
//! statement timeout and answer 503.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use uuid::Uuid;

use crate::helpers::{SCHEMA, problem_fields, spawn_app, spawn_app_with, test_settings};

#[tokio::test]
async fn bad_query_parameters_are_400_problems_naming_each_parameter() {
    let app = spawn_app().await;
    let product = Uuid::now_v7();
    // Signed in: the audit routes refuse anonymous callers before judging any parameter.
    let admin = app.token(Uuid::now_v7(), "admin").await;
    let cases: Vec<(String, Vec<&str>)> = vec![
        ("/v1/products?min_price=abc".into(), vec!["min_price"]),
        ("/v1/products?max_price=-5".into(), vec!["max_price"]),
        ("/v1/products?in_stock=yes".into(), vec!["in_stock"]),
        ("/v1/products?seller=bob".into(), vec!["seller"]),
        (
            "/v1/products?category=Not%20A%20Slug!".into(),
            vec!["category"],
        ),
        ("/v1/products?sort=cheapest".into(), vec!["sort"]),
        (
            "/v1/products?include_total=maybe".into(),
            vec!["include_total"],
        ),
        (format!("/v1/products?q={}", "x".repeat(201)), vec!["q"]),
        ("/v1/products?q=".into(), vec!["q"]),
        (
            "/v1/products?category=a&category=b".into(),
            vec!["category"],
        ),
        ("/v1/products?colour=red".into(), vec!["colour"]),
        (
            "/v1/products?limit=0&in_stock=1&sort=x".into(),
            vec!["in_stock", "sort", "limit"],
        ),
        ("/v1/categories?page=2".into(), vec!["page"]),
        (format!("/v1/products/{product}?expand=all"), vec!["expand"]),
        (
            format!("/v1/audit/products/{product}/events?after_version=-1"),
            vec!["after_version"],
        ),
        (
            format!("/v1/audit/users/{product}/events?limit=1000"),
            vec!["limit"],
        ),
        (format!("/v1/audit/products/{product}/state"), vec!["as_of"]),
        (
            format!("/v1/audit/products/{product}/state?as_of=yesterday"),
            vec!["as_of"],
        ),
    ];
    for (path, fields) in cases {
        let response = app.get_as(&path, &admin).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json",
            "{path}"
        );
        let body: serde_json::Value = response.json().await.expect("problem body");
        assert_eq!(body["status"], 400, "{path}");
        assert_eq!(problem_fields(&body), fields, "{path}");
    }
}

#[tokio::test]
async fn a_malformed_id_or_unknown_route_is_a_404_problem() {
    let app = spawn_app().await;
    let response = app.get("/v1/products/not-a-uuid").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let response = app.get("/v1/nothing-here").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn every_pooled_session_has_the_configured_statement_timeout() {
    let app = spawn_app().await;
    // `Application::build` makes its pool from exactly these settings.
    let mut settings = test_settings(&app.db);
    settings.database.statement_timeout = Duration::from_millis(750);
    let pool = settings.database.pool().expect("pool");
    let client = pool.get().await.expect("connection");
    let row = client
        .query_one("SHOW statement_timeout", &[])
        .await
        .expect("SHOW");
    assert_eq!(row.get::<_, String>(0), "750ms");
}

#[tokio::test]
async fn a_query_past_the_statement_timeout_answers_503_with_retry_after() {
    let app = spawn_app_with(|s| s.database.statement_timeout = Duration::from_millis(300)).await;
    // Hold a lock that the listing must wait for: waiting counts against statement_timeout.
    let mut locker = app.db.connect().await.expect("connection");
    let tx = locker.transaction().await.expect("transaction");
    tx.batch_execute(&format!(
        "LOCK TABLE {SCHEMA}.products IN ACCESS EXCLUSIVE MODE"
    ))
    .await
    .expect("lock");

    let started = Instant::now();
    let response = app.get("/v1/products").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.headers()["retry-after"], "1");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "bounded by the timeout"
    );
    tx.rollback().await.expect("rollback");

    assert_eq!(app.get("/v1/products").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_unreachable_database_is_503_with_retry_after_not_500() {
    let app = spawn_app_with(|s| {
        s.database.url =
            secrecy::SecretString::from("postgres://postgres@127.0.0.1:9/none".to_owned());
    })
    .await;
    for path in ["/v1/products", "/v1/categories"] {
        let response = app.get(path).await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE, "{path}");
        assert_eq!(response.headers()["retry-after"], "1");
    }
    assert_eq!(
        app.get("/health/ready").await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
}

#[tokio::test]
async fn nul_bytes_and_broken_utf8_in_parameters_paths_and_headers_are_400() {
    let app = spawn_app().await;
    for path in [
        "/v1/products?q=%00",
        "/v1/products?q=kettle%ff",
        "/v1/products?category=%00",
        "/v1/products/%00",
        "/v1/audit/products/%c3/events",
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json",
            "{path}"
        );
    }
    let response = app
        .http
        .get(format!("{}/v1/products", app.address))
        .header(
            "consistency-token",
            reqwest::header::HeaderValue::from_bytes(b"\xff").unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}
