//! Read-your-writes: a request carrying `Consistency-Token: <stream id>:<version>` (what
//! command-api answers every write with) is held until the projection has applied that version
//! of that stream, for at most `CC_QUERY__CONSISTENCY_WAIT_MS`; past the bound it gets 503 with
//! `Retry-After`, never an answer older than the client's own write.
//!
//! A token is looked up once; if it is not applied yet, the request waits on the process's one
//! shared `waiter`, which costs the database nothing per waiting request. Every token the
//! projection has not reached, whether its stream is pending, someone else's or unknown, gets
//! the same 503 after the same wait, naming no version: the answer tells nothing about streams
//! that are not the caller's.

pub mod token;
pub mod waiter;

pub use token::Token;

use std::time::Instant;

use actix_web::{
    Error,
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    http::StatusCode,
    middleware::Next,
    web,
};
use platform::Problem;
use uuid::Uuid;

use crate::{error::ApiError, metrics as m, read_conn::ReadConn, state::AppState};

pub const HEADER: &str = "consistency-token";

/// Middleware: waits for the token's version (if the request has a token), then runs the route.
pub async fn read_your_writes(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    if let Some(value) = req.headers().get(HEADER) {
        let token = value.to_str().ok().and_then(Token::parse).ok_or_else(|| {
            ApiError::from(
                Problem::bad_request(
                    "invalid_consistency_token",
                    "Consistency-Token must be <stream id>:<version>, as returned by the command API",
                )
                .with_field("Consistency-Token", "must be <uuid>:<version of at least 1>"),
            )
        })?;
        let state = req
            .app_data::<web::Data<AppState>>()
            .cloned()
            .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("application state missing")))?;
        wait(&state, token).await?;
    }
    next.call(req).await
}

/// Returns once the read model has applied `token.version` of `token.stream_id`.
pub async fn wait(state: &AppState, token: Token) -> Result<(), ApiError> {
    let started = Instant::now();
    let record = |outcome: &'static str| {
        metrics::counter!(m::CONSISTENCY_WAITS, "outcome" => outcome).increment(1);
        metrics::histogram!(m::CONSISTENCY_WAIT_SECONDS).record(started.elapsed().as_secs_f64());
    };
    // Most tokens are applied by the time they come back: one lookup, no registration.
    let applied = applied_versions(state, &[token.stream_id]).await?;
    if applied
        .first()
        .is_some_and(|(_, version)| *version >= token.version)
    {
        record("immediate");
        return Ok(());
    }
    let Ok(mut registration) = state.consistency.register(token) else {
        record("refused");
        return Err(Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "too_many_waiting",
            "Too many requests are waiting for the read model",
        )
        .with_detail("retry shortly, or without Consistency-Token for a possibly older answer")
        .with_retry_after(1)
        .into());
    };
    match tokio::time::timeout(state.consistency_wait, &mut registration.done).await {
        Ok(Ok(())) => {
            record("waited");
            Ok(())
        }
        _ => {
            record("timeout");
            Err(Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "not_yet_consistent",
                "The read model has not caught up with your write yet",
            )
            .with_detail("the version in Consistency-Token is not readable here yet; retry shortly")
            .with_retry_after(1)
            .into())
        }
    }
}

/// Serves every waiting request of this process until it ends (see `waiter`).
pub async fn serve_waiters(state: web::Data<AppState>, db_config: tokio_postgres::Config) {
    let lookup = |streams: Vec<Uuid>| {
        let state = state.clone();
        async move { applied_versions(&state, &streams).await }
    };
    waiter::run(&state.consistency, db_config, lookup).await;
}

/// The applied versions of `streams` in the active schema, for those the projection has seen.
async fn applied_versions(
    state: &AppState,
    streams: &[Uuid],
) -> Result<Vec<(Uuid, i64)>, ApiError> {
    let conn = ReadConn::open(&state.pool, &state.schema).await?;
    let rows = conn
        .query(
            &conn.sql(
                "SELECT stream_id, version FROM {schema}.stream_versions WHERE stream_id = ANY($1)",
            ),
            &[&streams],
        )
        .await?;
    Ok(rows.iter().map(|row| (row.get(0), row.get(1))).collect())
}
