//! Through the real command API and the real broker: a product created and published over HTTP
//! appears in the read model; and the admin listener's health and metrics.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::Value;
use uuid::Uuid;

use crate::{
    command_api_helpers::spawn_app,
    helpers::{eventually, spawn_projector, spawn_projector_on},
    history,
};

#[tokio::test]
async fn a_product_created_and_published_through_the_command_api_appears_in_products() {
    let app = spawn_app().await;
    let projector = spawn_projector_on(app.db.clone(), app.topics.clone()).await;
    let (seller_id, token) = app.seller().await;
    let id = app.create_product(&token, "E2E-KETTLE-1").await;
    let path = format!("/v1/products/{id}/publish");
    let published = app.send(Method::POST, &path, Some(&token), None, &[]).await;
    assert!(published.status().is_success(), "{}", published.status());

    let client = projector.db.connect().await.unwrap();
    let sql = format!(
        "SELECT to_jsonb(p) - 'search' FROM {}.products p WHERE id = $1 AND status = 'published'",
        projector.schema
    );
    let row: Value = eventually("the published product", Duration::from_secs(30), || async {
        client
            .query_opt(&sql, &[&id])
            .await
            .unwrap()
            .map(|r| r.get(0))
    })
    .await;
    assert_eq!(row["seller_id"], seller_id.to_string());
    assert_eq!(row["sku"], "E2E-KETTLE-1");
    assert_eq!(row["name"], "Kettle");
    assert_eq!(row["price_minor"], 2599);
    assert_eq!(row["stock"], 10);
    assert_eq!(row["version"], 2);
    let sql = format!("SELECT role FROM {}.users WHERE id = $1", projector.schema);
    let role: String = eventually("the seller's account", Duration::from_secs(10), || async {
        let row = client.query_opt(&sql, &[&seller_id]).await.unwrap()?;
        let role: String = row.get(0);
        (role == "seller").then_some(role)
    })
    .await;
    assert_eq!(role, "seller");
    projector.stop().await.unwrap();
}

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
