//! A trace followed from an HTTP request through the event's metadata and Kafka headers into the
//! projector's JSON logs.

use std::time::Duration;

use e2e::{
    Stack,
    stack::{eventually, id_of, product_body},
};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use uuid::Uuid;

use crate::process::Service;

#[tokio::test]
async fn a_commands_traceparent_and_correlation_id_reach_the_projectors_json_logs() {
    let mut stack = Stack::start().await;
    // The in-process projector would log to this process; the binary's lines are captured.
    stack.stop_projector().await.unwrap();
    let (_, seller) = stack.seller().await;
    let trace_id = Uuid::new_v4().simple().to_string();
    let traceparent = format!("00-{trace_id}-00f067aa0ba902b7-01");
    let correlation = Uuid::new_v4().to_string();
    let response = stack
        .http
        .request(Method::POST, format!("{}/v1/products", stack.commands))
        .bearer_auth(&seller)
        .header("traceparent", &traceparent)
        .header("x-correlation-id", &correlation)
        .json(&product_body("TRACE-E2E-1"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let id = id_of(response).await.to_string();

    let env = [
        ("CC_LOG_FORMAT", "json"),
        ("RUST_LOG", "warn,projector::apply=debug"),
    ];
    let projector = Service::start("projector", &["run"], &stack.db, &stack.topics, &env);
    let line = eventually(
        "the applied event's log line",
        Duration::from_secs(60),
        || {
            let found = projector
                .lines()
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
