//! Readiness (PostgreSQL and the broker reachable, with the reasons in the body) and
//! the Prometheus endpoint.

use actix_web::{HttpResponse, web};
use metrics_exporter_prometheus::PrometheusHandle;

use crate::state::AppState;

/// Ready to take commands: the event store answers and the broker's metadata can be fetched.
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    let database = platform::db::ping(&state.pool).await;
    let broker = state.broker_probe.check().await;
    platform::health::readiness(&[("database", &database), ("broker", &broker)])
}

/// `GET /metrics`, with the pool gauges sampled at scrape time.
pub async fn metrics(
    state: web::Data<AppState>,
    handle: web::Data<PrometheusHandle>,
) -> HttpResponse {
    platform::pool_metrics::sample(&state.pool);
    platform::prometheus::render(handle).await
}
