//! Liveness and readiness (the database answers and a read schema is active, with how fresh the
//! projection is: the verdict on the public port, the reasons on the admin listener).

use actix_web::{HttpResponse, web};
use platform::health::Readiness;
use serde_json::json;

use crate::{error::ApiError, metrics as m, read_conn::ReadConn, state::AppState};

/// Ready means: a pooled connection answers and `read_meta.active` names a schema whose tables
/// exist. This port answers `{"status": ...}` alone; the admin listener's body also has each
/// check's reason and how fresh the projection is, from what the projector last sampled
/// against its sources (`projection_status`): `fresh`, or `stale` with why (behind by more than
/// `CC_QUERY__MAX_PROJECTION_LAG_SECS`, or no projector has sampled for that long). A stale
/// projection sets `"status": "degraded"` but keeps the answer 200 unless
/// `CC_QUERY__UNREADY_WHEN_STALE`: failing every replica's readiness at once would turn a stale
/// catalog into no catalog at all.
#[utoipa::path(get, path = "/health/ready", tag = "operations",
    responses(
        (status = 200, description = "Ready (`status` is `ready`, or `degraded` when the projection is stale); the reasons are on the admin listener"),
        (status = 503, description = "Database unreachable, no read schema active yet, or (with CC_QUERY__UNREADY_WHEN_STALE) a stale projection"),
    ))]
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    check(&state).await.for_public()
}

/// The admin listener's readiness: [`ready`] with every check's reason and the freshness sample.
pub async fn ready_details(state: web::Data<AppState>) -> HttpResponse {
    check(&state).await.for_operators()
}

async fn check(state: &AppState) -> Readiness {
    let checked = match read_model(state).await {
        Ok(checked) => checked,
        Err(e) => {
            let reason = match &e {
                ApiError::Internal(inner) => format!("{inner:#}"),
                other => other.to_string(),
            };
            return Readiness::new(
                false,
                json!({
                    "status": "not_ready",
                    "checks": { "read_model": { "ok": false, "reason": reason } },
                }),
            );
        }
    };
    let fresh = checked.freshness["ok"].as_bool().unwrap_or(false);
    metrics::gauge!(m::PROJECTION_STALE).set(if fresh { 0.0 } else { 1.0 });
    let body = json!({
        "status": if fresh { "ready" } else { "degraded" },
        "checks": {
            "database": { "ok": true },
            "read_model": checked.read_model,
            "projection": checked.freshness,
        },
    });
    Readiness::new(fresh || !state.freshness.unready_when_stale, body)
}

struct Checked {
    read_model: serde_json::Value,
    freshness: serde_json::Value,
}

async fn read_model(state: &AppState) -> Result<Checked, ApiError> {
    let conn = ReadConn::open(&state.pool, &state.schema).await?;
    // One row, written by the projector every few seconds.
    let row = conn
        .query_opt(
            &conn.sql(
                "SELECT lag_seconds, lag_messages, detail,
                        EXTRACT(EPOCH FROM now() - sampled_at)::float8
                 FROM {schema}.projection_status",
            ),
            &[],
        )
        .await?;
    let bound = state.freshness.max_lag.as_secs_f64();
    let freshness = match row {
        None => json!({
            "ok": false,
            "reason": "no projector has sampled this projection yet",
            "bound_seconds": bound,
        }),
        Some(row) => {
            let lag: f64 = row.try_get(0)?;
            let messages: i64 = row.try_get(1)?;
            let detail: serde_json::Value = row.try_get(2)?;
            let sampled_ago: f64 = row.try_get(3)?;
            let reason = if sampled_ago > bound {
                Some(format!(
                    "no projector has sampled the projection for {sampled_ago:.0} s"
                ))
            } else if lag > bound {
                Some(format!("the projection is {lag:.0} s behind its sources"))
            } else {
                None
            };
            json!({
                "ok": reason.is_none(),
                "reason": reason,
                "lag_seconds": lag,
                "messages_behind": messages,
                "sampled_seconds_ago": sampled_ago,
                "bound_seconds": bound,
                "detail": detail,
            })
        }
    };
    Ok(Checked {
        read_model: json!({ "ok": true, "schema": conn.schema.as_str() }),
        freshness,
    })
}
