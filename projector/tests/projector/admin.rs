//! The admin listener of a projector in this process: health, readiness and metrics after
//! traffic through the real broker.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;
use uuid::Uuid;

use crate::{
    helpers::{eventually, spawn_projector},
    history,
};

#[tokio::test]
async fn the_admin_listener_reports_ready_and_serves_the_projector_metrics() {
    let projector = spawn_projector().await;
    let get = |path: &str| reqwest::get(format!("{}{path}", projector.admin));
    assert_eq!(get("/health/live").await.unwrap().status(), StatusCode::OK);
    let ready = get("/health/ready").await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["status"], "ready", "{body}");

    let id = Uuid::now_v7();
    let events = history::decide_product(id, history::lifecycle(id, id, 2));
    let recorded = history::record(id, "product", &events, history::now());
    history::produce(&projector.kafka(), &recorded).await;
    let client = projector.db.connect().await.unwrap();
    let sql = format!(
        "SELECT version FROM {}.stream_versions WHERE stream_id = $1",
        projector.schema
    );
    eventually("the events applied", Duration::from_secs(30), || async {
        let row = client.query_opt(&sql, &[&id]).await.unwrap()?;
        (row.get::<_, i64>(0) == 10).then_some(())
    })
    .await;
    let metrics = eventually("sampled lag", Duration::from_secs(10), || async {
        let text = get("/metrics").await.ok()?.text().await.ok()?;
        text.contains("projector_consumer_lag").then_some(text)
    })
    .await;
    for name in [
        "projector_events_applied_total",
        "projector_batch_size",
        "projector_batch_duration_seconds",
        "projector_projection_lag_seconds",
        "projector_assigned_partitions",
    ] {
        assert!(metrics.contains(name), "/metrics lacks {name}");
    }
    assert_eq!(get("/nope").await.unwrap().status(), StatusCode::NOT_FOUND);
    projector.stop().await.unwrap();
}
