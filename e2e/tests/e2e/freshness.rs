//! Health and metrics tell the truth: events recorded but stuck before the read model (here a
//! relay that does not run, so nothing reaches Kafka) show as growing projection lag in the
//! projector's metrics and as a stale projection in query-api's readiness, never as "ready,
//! lag 0".

use std::time::Duration;

use e2e::{
    Stack,
    stack::{Options, eventually},
};
use serde_json::Value;

/// `projector_projection_lag_seconds{projection="products"}` on the projector's `/metrics`.
async fn product_lag(stack: &Stack) -> Option<f64> {
    let text = reqwest::get(format!("{}/metrics", stack.projector_admin))
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    text.lines().find_map(|line| {
        line.strip_prefix("projector_projection_lag_seconds{projection=\"products\"} ")?
            .trim()
            .parse()
            .ok()
    })
}

#[tokio::test]
async fn events_that_never_reach_the_read_model_show_as_growing_lag_and_a_stale_readiness() {
    let mut stack = Stack::start_with(Options {
        relay: false,
        max_projection_lag: Duration::from_secs(2),
        ..Options::default()
    })
    .await;
    let (_, token) = stack.seller().await;
    stack.create_product(&token, "STUCK-1").await;

    let first = eventually("a lag above a second", Duration::from_secs(30), || async {
        product_lag(&stack).await.filter(|lag| *lag > 1.0)
    })
    .await;
    let later = eventually(
        "the lag to keep growing",
        Duration::from_secs(30),
        || async { product_lag(&stack).await.filter(|lag| *lag > first + 1.0) },
    )
    .await;
    assert!(later > first);

    let body: Value = eventually(
        "query-api to call it stale",
        Duration::from_secs(30),
        || async {
            let response = reqwest::get(format!("{}/health/ready", stack.queries_admin))
                .await
                .ok()?;
            let body: Value = response.json().await.ok()?;
            (body["status"] == "degraded").then_some(body)
        },
    )
    .await;
    let reason = body["checks"]["projection"]["reason"]
        .as_str()
        .unwrap_or_default();
    assert!(reason.contains("behind its sources"), "{body}");
    stack.stop_projector().await.unwrap();
}
