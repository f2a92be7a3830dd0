//! Read-your-writes: a request carrying `Consistency-Token: <stream id>:<version>` (what
//! command-api answers every write with) is held until the projection has applied that version
//! of that stream, for at most `CC_QUERY__CONSISTENCY_WAIT_MS`; past the bound it gets 503 with
//! `Retry-After`, never an answer older than the client's own write.
//!
//! A token is looked up once; if it is not applied yet, the request waits on the process's one
//! shared `waiter`, which costs the database nothing per waiting request. A token naming a
//! version the event store never recorded gets 412 at once (`es.version_never_written`): no
//! wait can help it, it is a client's mistake rather than an outage, and a made-up token must
//! not hold a waiter. The store says so only of streams that do not exist, of products and of
//! the caller's own account; a token naming anyone else's account waits like a pending one, and
//! on a standby (whose store may lag) every token waits. Every token that is not applied in time
//! gets the same 503, naming no version.

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
    // An empty value counts as no header, as for every header the API reads.
    let value = req.headers().get(HEADER).filter(|v| !v.is_empty());
    if let Some(value) = value {
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
        // Whose token it is decides what the store may say (see above); a bad bearer token is
        // the route's to refuse.
        let caller = platform::token::bearer_claims(req.request())
            .ok()
            .flatten()
            .map(|claims| claims.sub);
        if wait(&state, token, caller).await? == Wait::NeverWritten {
            // The route still checks its own parameters first: a request that is wrong in any
            // case gets that answer (400, 404), not the 412. Nothing is written, so running it
            // costs one read.
            let response = next.call(req).await?;
            if response.status().is_client_error() {
                return Ok(response);
            }
            return Err(never_written_problem().into());
        }
    }
    next.call(req).await
}

/// How a wait for a token ended, when it did not end in an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// The read model has applied the token's version.
    Applied,
    /// The event store has no such version: no wait could ever end in it.
    NeverWritten,
}

fn never_written_problem() -> ApiError {
    Problem::new(
        StatusCode::PRECONDITION_FAILED,
        "consistency_token_unknown",
        "Consistency-Token names a version that was never written",
    )
    .with_detail("send the Consistency-Token of a write this API answered")
    .into()
}

/// Returns once the read model has applied `token.version` of `token.stream_id`, or at once
/// when the store says that version was never written (asked on behalf of `caller`).
pub async fn wait(state: &AppState, token: Token, caller: Option<Uuid>) -> Result<Wait, ApiError> {
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
        return Ok(Wait::Applied);
    }
    if never_written(state, token, caller).await? {
        record("never_written");
        return Ok(Wait::NeverWritten);
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
            Ok(Wait::Applied)
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

/// Whether the event store says `token` names a version never written (never on a standby,
/// whose copy of the store may be behind the primary that recorded it).
async fn never_written(
    state: &AppState,
    token: Token,
    caller: Option<Uuid>,
) -> Result<bool, ApiError> {
    let conn = ReadConn::open(&state.pool, &state.schema).await?;
    let row = conn
        .query_opt(
            "SELECT es.version_never_written($1, $2, $3) AND NOT pg_is_in_recovery()",
            &[&token.stream_id, &token.version, &caller],
        )
        .await?;
    let never = row
        .map(|row| row.try_get::<_, Option<bool>>(0))
        .transpose()?;
    Ok(never.flatten().unwrap_or(false))
}

/// Serves every waiting request of this process until it ends (see `waiter`).
pub async fn serve_waiters(state: web::Data<AppState>, db_config: platform::db::PgTarget) {
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
