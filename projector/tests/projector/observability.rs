//! What an operator sees of the real binary: every documented metric on the admin listener's
//! `/metrics` (the trace followed into its JSON logs is in `e2e/tests/e2e/tracing.rs`).

use std::time::{Duration, Instant};

use testkit::{TestDatabase, unique_topics};
use uuid::Uuid;

use crate::{
    helpers::{ProjectorProcess, create_topics},
    history,
};

/// Series that only a fault or another subcommand produces, so `projector run` over healthy
/// traffic cannot show them, and why.
const NOT_FROM_RUN: [(&str, &str); 3] = [
    (
        "projector_batch_failures_total",
        "a batch rolled back (fenced by another replica, or the database failed); replicas.rs",
    ),
    (
        "projector_rebuild_progress",
        "set only by `projector rebuild` and `verify`; rebuild.rs",
    ),
    (
        "projector_log_restarts_total",
        "a partition whose log was replaced; e2e/tests/broker_loss.rs wipes the broker",
    ),
];

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
