//! Read-your-writes: `Consistency-Token` waits for the projection, within a bound.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use uuid::Uuid;

use crate::helpers::{ProductRow, problem_fields, set_stream_version, spawn_app, spawn_app_with};

#[tokio::test]
async fn a_token_already_applied_answers_at_once() {
    let app = spawn_app().await;
    let product = ProductRow::published("Ceramic mug");
    app.insert_product(&product).await;
    app.set_stream_version(product.id, 3).await;

    let token = format!("{}:2", product.id);
    let started = Instant::now();
    let response = app
        .get_with("/v1/products", None, &[("Consistency-Token", &token)])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(started.elapsed() < Duration::from_millis(500));
}

#[tokio::test]
async fn a_token_waits_until_the_projection_applies_its_version() {
    let app = spawn_app().await;
    let product = ProductRow::published("Ceramic mug");
    app.record_events(product.id, 2).await;
    app.set_stream_version(product.id, 1).await;

    // The "projector" applies version 2 (row and stream version in one transaction) 200 ms later.
    let writer = app.db.connect().await.expect("connection");
    let late = product.clone();
    let projector = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        writer.batch_execute("BEGIN").await.expect("begin");
        crate::helpers::insert_product_with(&writer, &late).await;
        set_stream_version(&writer, late.id, 2).await;
        writer.batch_execute("COMMIT").await.expect("commit");
    });

    let started = Instant::now();
    let response = app
        .get_with(
            &format!("/v1/products/{}", product.id),
            None,
            &[("Consistency-Token", &format!("{}:2", product.id))],
        )
        .await;
    let waited = started.elapsed();
    projector.await.expect("projector task");
    assert_eq!(response.status(), StatusCode::OK, "the write is visible");
    assert!(
        waited >= Duration::from_millis(200),
        "it waited ({waited:?})"
    );
    assert!(
        waited < Duration::from_millis(1_500),
        "not until the bound ({waited:?})"
    );
}

#[tokio::test]
async fn a_token_not_applied_within_the_bound_is_503_with_retry_after() {
    let app = spawn_app_with(|s| s.consistency_wait = Duration::from_millis(300)).await;
    let stream = Uuid::now_v7();
    app.record_events(stream, 5).await;
    app.set_stream_version(stream, 4).await;

    let started = Instant::now();
    let response = app
        .get_with(
            "/v1/categories",
            None,
            &[("Consistency-Token", &format!("{stream}:5"))],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.headers()["retry-after"], "1");
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(300) && waited < Duration::from_secs(2),
        "{waited:?}"
    );
    let body: serde_json::Value = response.json().await.expect("problem");
    assert_eq!(body["code"], "not_yet_consistent");

    // A written stream the projection has never seen waits the same way.
    let unseen = Uuid::now_v7();
    app.record_events(unseen, 1).await;
    let unseen = app
        .get_with(
            "/v1/categories",
            None,
            &[("Consistency-Token", &format!("{unseen}:1"))],
        )
        .await;
    assert_eq!(unseen.status(), StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn a_token_naming_a_version_never_written_is_412_at_once() {
    let app = spawn_app_with(|s| s.consistency_wait = Duration::from_secs(5)).await;
    let stream = Uuid::now_v7();
    app.record_events(stream, 2).await;
    app.set_stream_version(stream, 2).await;
    for token in [format!("{stream}:3"), format!("{}:1", Uuid::now_v7())] {
        let started = Instant::now();
        let response = app
            .get_with("/v1/categories", None, &[("Consistency-Token", &token)])
            .await;
        assert_eq!(
            response.status(),
            StatusCode::PRECONDITION_FAILED,
            "{token}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "no wait for {token}"
        );
        let body: serde_json::Value = response.json().await.expect("problem");
        assert_eq!(body["code"], "consistency_token_unknown");
    }
}

#[tokio::test]
async fn of_an_account_only_its_owner_learns_that_a_version_was_never_written() {
    let app = spawn_app_with(|s| s.consistency_wait = Duration::from_millis(200)).await;
    let (owner, other) = (Uuid::now_v7(), Uuid::now_v7());
    for user in [owner, other] {
        app.record_stream_events("user", user, 2).await;
        app.set_stream_version(user, 2).await;
    }
    let token = format!("{owner}:3");
    let as_owner = app.token(owner, "customer").await;
    let as_other = app.token(other, "customer").await;
    let answer = |bearer: Option<String>| {
        let token = token.clone();
        let app = &app;
        async move {
            let headers = [("Consistency-Token", token.as_str())];
            let response = app
                .get_with("/v1/categories", bearer.as_deref(), &headers)
                .await;
            response.status()
        }
    };
    assert_eq!(
        answer(Some(as_owner)).await,
        StatusCode::PRECONDITION_FAILED
    );
    // Anyone else gets what a pending write gets: the wait, then 503.
    assert_eq!(
        answer(Some(as_other)).await,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(answer(None).await, StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn a_malformed_token_is_400() {
    let app = spawn_app().await;
    for token in [
        "garbage",
        "1234:5",
        &format!("{}:0", Uuid::now_v7()),
        &format!("{}:", Uuid::now_v7()),
    ] {
        let response = app
            .get_with("/v1/products", None, &[("Consistency-Token", token)])
            .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{token}");
        let body: serde_json::Value = response.json().await.expect("problem");
        assert_eq!(problem_fields(&body), ["Consistency-Token"], "{token}");
    }
}

#[tokio::test]
async fn pending_and_foreign_streams_get_the_same_answer_naming_no_version() {
    let app = spawn_app_with(|s| s.consistency_wait = Duration::from_millis(200)).await;
    let someone_elses = Uuid::now_v7();
    app.record_events(someone_elses, 9).await;
    app.set_stream_version(someone_elses, 7).await;
    let pending = Uuid::now_v7();
    app.record_events(pending, 1).await;
    let tokens = [
        format!("{someone_elses}:8"),
        format!("{someone_elses}:9"),
        format!("{pending}:1"),
    ];
    let mut bodies = Vec::new();
    for token in &tokens {
        let response = app
            .get_with("/v1/categories", None, &[("Consistency-Token", token)])
            .await;
        assert_eq!(
            response.status(),
            StatusCode::SERVICE_UNAVAILABLE,
            "{token}"
        );
        assert_eq!(response.headers()["retry-after"], "1");
        let body: serde_json::Value = response.json().await.expect("problem");
        let detail = body["detail"].as_str().expect("detail");
        assert!(!detail.chars().any(|c| c.is_ascii_digit()), "{detail}");
        assert!(
            !body.to_string().contains(&someone_elses.to_string()),
            "{body}"
        );
        bodies.push(body);
    }
    assert!(
        bodies.windows(2).all(|pair| pair[0] == pair[1]),
        "{bodies:?}"
    );
}

#[tokio::test]
async fn beyond_the_waiter_cap_requests_are_refused_at_once() {
    let app = spawn_app_with(|s| {
        s.consistency_wait = Duration::from_millis(1_500);
        s.max_consistency_waiters = 2;
    })
    .await;
    let stream = Uuid::now_v7();
    app.record_events(stream, 1).await;
    let token = format!("{stream}:1");
    let requests = (0..6).map(|_| {
        let token = token.clone();
        let app = &app;
        async move {
            let response = app
                .get_with("/v1/categories", None, &[("Consistency-Token", &token)])
                .await;
            let status = response.status();
            let body: serde_json::Value = response.json().await.expect("problem");
            (status, body["code"].as_str().unwrap_or_default().to_owned())
        }
    });
    let answers = futures::future::join_all(requests).await;
    let refused = answers
        .iter()
        .filter(|(_, code)| code == "too_many_waiting")
        .count();
    let timed_out = answers
        .iter()
        .filter(|(_, code)| code == "not_yet_consistent")
        .count();
    assert!(
        answers
            .iter()
            .all(|(status, _)| *status == StatusCode::SERVICE_UNAVAILABLE)
    );
    assert_eq!((refused, timed_out), (4, 2), "{answers:?}");
}
