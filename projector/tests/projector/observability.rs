//! What an operator sees of the real binary: a trace followed from an HTTP request through the
//! event's metadata and Kafka headers into the projector's JSON logs, and every documented
//! metric on the admin listener's `/metrics`.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::Value;
use testkit::{TestDatabase, unique_topics};
use uuid::Uuid;

use crate::{
    command_api_helpers::{id_of, product_body, spawn_app},
    helpers::{ProjectorProcess, create_topics, eventually},
    history,
};

/// Series that only a fault or another subcommand produces, so `projector run` over healthy
/// traffic cannot show them, and why.
const NOT_FROM_RUN: [(&str, &str); 2] = [
    (
        "projector_batch_failures_total",
        "a batch rolled back (fenced by another replica, or the database failed); replicas.rs",
    ),
    (
        "projector_rebuild_progress",
        "set only by `projector rebuild` and `verify`; rebuild.rs",
    ),
];

#[tokio::test]
async fn a_commands_traceparent_and_correlation_id_reach_the_projectors_json_logs() {
    let app = spawn_app().await;
    let (_, seller) = app.seller().await;
    let trace_id = Uuid::new_v4().simple().to_string();
    let traceparent = format!("00-{trace_id}-00f067aa0ba902b7-01");
    let correlation = Uuid::new_v4().to_string();
    let response = app
        .send(
            Method::POST,
            "/v1/products",
            Some(&seller),
            Some(&product_body("TRACE-E2E-1")),
            &[
                ("traceparent", traceparent.as_str()),
                ("x-correlation-id", correlation.as_str()),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let id = id_of(response).await.to_string();

    let group = format!("projector-trace-{}", Uuid::new_v4().simple());
    let env = [
        ("CC_LOG_FORMAT", "json"),
        ("RUST_LOG", "warn,projector::apply=debug"),
    ];
    let projector = ProjectorProcess::start_capturing_logs(&app.db, &app.topics, &group, &env);
    let line = eventually(
        "the applied event's log line",
        Duration::from_secs(60),
        || {
            let lines = projector.log_lines();
            let found = lines
                .iter()
                .filter_map(|line| serde_json::from_str::<Value>(line).ok())
                .find(|line| line["message"] == "event applied" && line["stream"] == id.as_str());
            async move { found }
        },
    )
    .await;
    assert_eq!(line["trace_id"], trace_id.as_str(), "{line}");
    assert_eq!(line["traceparent"], traceparent.as_str(), "{line}");
    assert_eq!(line["correlation_id"], correlation.as_str(), "{line}");
    assert_eq!(line["event_type"], "product.created", "{line}");
    assert_eq!(line["level"], "DEBUG", "{line}");
}

#[tokio::test]
async fn the_admin_listener_serves_every_documented_projector_metric_after_traffic() {
    let db = TestDatabase::create().await.unwrap();
    let topics = unique_topics();
    let kafka = create_topics(&topics, 1).await;
    let id = Uuid::now_v7();
    let events = history::decide_product(id, history::lifecycle(id, id, 2));
    let recorded = history::record(id, "product", &events, history::now());
    // Version 5 never arrives (a gap), and versions 1-2 arrive twice (duplicates).
    history::produce(&kafka, &recorded[..4]).await;
    history::produce(&kafka, &recorded[5..]).await;
    history::produce(&kafka, &recorded[..2]).await;

    let group = format!("projector-metrics-{}", Uuid::new_v4().simple());
    // A process of its own, so every series found was recorded by this traffic alone.
    let projector = ProjectorProcess::start(&db, &topics, &group, 100);
    let mut expected = testkit::metrics::documented(include_str!("../../src/metrics.rs"));
    expected.extend(testkit::metrics::platform_documented());
    expected.retain(|name| NOT_FROM_RUN.iter().all(|(other, _)| other != name));
    assert!(expected.len() >= 10, "documented: {expected:?}");
    // Lag and partitions are sampled every 500 ms, the events applied whenever they arrive.
    let deadline = Instant::now() + Duration::from_secs(60);
    let (scraped, missing) = loop {
        let text = projector.scrape().await.unwrap_or_default();
        let missing = testkit::metrics::missing(&text, &expected);
        if missing.is_empty() || Instant::now() > deadline {
            break (text, missing);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(missing.is_empty(), "/metrics lacks {missing:?}:\n{scraped}");
    assert!(
        scraped.contains("projector_events_skipped_total{reason=\"duplicate\"}"),
        "{scraped}"
    );
    assert!(
        scraped.contains("projector_version_gaps_total"),
        "{scraped}"
    );
}
