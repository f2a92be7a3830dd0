//! Liveness, readiness (the read models answer) and the Prometheus endpoint.

use actix_web::{HttpResponse, web};
use metrics_exporter_prometheus::PrometheusHandle;
use serde_json::json;

use crate::startup::AppState;

pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    match platform::db::ping(&state.pool).await {
        Ok(()) => HttpResponse::Ok().json(json!({
            "status": "ready",
            "checks": { "database": { "ok": true } },
        })),
        Err(e) => HttpResponse::ServiceUnavailable().json(json!({
            "status": "not_ready",
            "checks": { "database": { "ok": false, "reason": format!("{e:#}") } },
        })),
    }
}

pub async fn metrics(handle: web::Data<PrometheusHandle>) -> HttpResponse {
    platform::prometheus::render(handle).await
}
