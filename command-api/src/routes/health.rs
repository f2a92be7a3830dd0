//! Liveness, readiness (PostgreSQL and the broker reachable, with the reasons in the body) and
//! the Prometheus endpoint.

use std::{sync::Arc, time::Duration};

use actix_web::{HttpResponse, web};
use metrics_exporter_prometheus::PrometheusHandle;
use rdkafka::consumer::{BaseConsumer, Consumer};
use serde_json::json;

use crate::startup::AppState;

/// The process is up. Checks nothing else, so a slow dependency never gets the pod killed.
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// Ready to take commands: the event store answers and the broker's metadata can be fetched.
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    let database = platform::db::ping(&state.pool).await;
    let broker = broker_reachable(state.broker_probe.clone()).await;
    let check = |result: &anyhow::Result<()>| match result {
        Ok(()) => json!({ "ok": true }),
        Err(e) => json!({ "ok": false, "reason": format!("{e:#}") }),
    };
    let body = json!({
        "status": if database.is_ok() && broker.is_ok() { "ready" } else { "not_ready" },
        "checks": { "database": check(&database), "broker": check(&broker) },
    });
    if database.is_ok() && broker.is_ok() {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

async fn broker_reachable(probe: Arc<BaseConsumer>) -> anyhow::Result<()> {
    tokio::task::spawn_blocking(move || {
        probe
            .fetch_metadata(None, Duration::from_secs(2))
            .map(|_| ())
            .map_err(|e| anyhow::anyhow!("broker metadata: {e}"))
    })
    .await?
}

/// `GET /metrics`, with the pool gauges sampled at scrape time.
pub async fn metrics(
    state: web::Data<AppState>,
    handle: web::Data<PrometheusHandle>,
) -> HttpResponse {
    crate::metrics::sample_pool(&state.pool);
    platform::prometheus::render(handle).await
}
