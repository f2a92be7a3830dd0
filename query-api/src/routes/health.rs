//! Liveness, readiness (the database answers and a read schema is active, with how fresh the
//! projection is) and the Prometheus endpoint.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use metrics_exporter_prometheus::PrometheusHandle;
use serde_json::json;

use crate::{error::ApiError, read_model::ReadConn, startup::AppState};

#[utoipa::path(get, path = "/health/live", tag = "operations",
    responses((status = 200, description = "The process serves HTTP")))]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// Ready means: a pooled connection answers and `read_meta.active` names a schema whose tables
/// exist. Freshness is reported, not judged: an idle catalog has an old checkpoint and is still
/// right, so lag alerts belong to the projector's consumer-lag metric.
#[utoipa::path(get, path = "/health/ready", tag = "operations",
    responses(
        (status = 200, description = "Ready: body has the active read schema and its last checkpoint"),
        (status = 503, description = "Database unreachable or no read schema active yet"),
    ))]
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    match read_model(&state).await {
        Ok(read_model) => HttpResponse::Ok().json(json!({
            "status": "ready",
            "checks": { "database": { "ok": true }, "read_model": read_model },
        })),
        Err(e) => {
            let reason = match &e {
                ApiError::Internal(inner) => format!("{inner:#}"),
                other => other.to_string(),
            };
            HttpResponse::ServiceUnavailable().json(json!({
                "status": "not_ready",
                "checks": { "read_model": { "ok": false, "reason": reason } },
            }))
        }
    }
}

async fn read_model(state: &AppState) -> Result<serde_json::Value, ApiError> {
    let conn = ReadConn::open(&state.pool, &state.schema).await?;
    // A handful of rows (one per topic partition), so max() is cheap.
    let row = conn
        .query_opt(
            &conn.sql("SELECT max(updated_at), now() FROM {schema}.checkpoints"),
            &[],
        )
        .await?;
    let (last, now): (Option<DateTime<Utc>>, Option<DateTime<Utc>>) = match &row {
        Some(row) => (row.try_get(0)?, row.try_get(1)?),
        None => (None, None),
    };
    let age = last
        .zip(now)
        .map(|(last, now)| (now - last).num_milliseconds() as f64 / 1000.0);
    Ok(json!({
        "ok": true,
        "schema": conn.schema.as_str(),
        "last_checkpoint_at": last,
        "seconds_since_last_checkpoint": age,
    }))
}

#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text format")))]
pub async fn metrics(
    state: web::Data<AppState>,
    handle: web::Data<PrometheusHandle>,
) -> HttpResponse {
    platform::pool_metrics::sample(&state.pool);
    platform::prometheus::render(handle).await
}
