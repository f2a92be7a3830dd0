//! Read-your-writes: a request carrying `Consistency-Token: <stream id>:<version>` (what
//! command-api answers every write with) is held until the projection has applied that version
//! of that stream, for at most `CC_QUERY__CONSISTENCY_WAIT_MS`; past the bound it gets 503 with
//! `Retry-After`, never an answer older than the client's own write.
//!
//! Why polling `stream_versions` every 15 ms rather than LISTEN: a LISTEN needs a dedicated
//! connection per replica plus a NOTIFY from the projector per batch, for a saving of at most
//! one poll interval; the poll is a primary-key lookup and most waits end within a few polls.

use std::time::{Duration, Instant};

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

/// How often a waiting request looks at the projection again.
const POLL: Duration = Duration::from_millis(15);

/// A parsed `Consistency-Token`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub stream_id: Uuid,
    pub version: i64,
}

impl Token {
    pub fn parse(raw: &str) -> Option<Self> {
        let (stream, version) = raw.trim().split_once(':')?;
        let stream_id = stream.parse().ok()?;
        let version = version.parse().ok().filter(|v: &i64| *v >= 1)?;
        Some(Self { stream_id, version })
    }
}

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
    let deadline = started + state.consistency_wait;
    let mut polls = 0_u32;
    loop {
        let applied = applied_version(state, token.stream_id).await?;
        if applied >= token.version {
            let outcome = if polls == 0 { "immediate" } else { "waited" };
            metrics::counter!(m::CONSISTENCY_WAITS, "outcome" => outcome).increment(1);
            metrics::histogram!(m::CONSISTENCY_WAIT_SECONDS)
                .record(started.elapsed().as_secs_f64());
            return Ok(());
        }
        let now = Instant::now();
        if now >= deadline {
            metrics::counter!(m::CONSISTENCY_WAITS, "outcome" => "timeout").increment(1);
            metrics::histogram!(m::CONSISTENCY_WAIT_SECONDS)
                .record(started.elapsed().as_secs_f64());
            return Err(Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "not_yet_consistent",
                "The read model has not caught up with your write yet",
            )
            .with_detail(format!(
                "stream {} is at version {applied} here, the token asks for {}; retry shortly",
                token.stream_id, token.version
            ))
            .with_retry_after(1)
            .into());
        }
        polls += 1;
        tokio::time::sleep(POLL.min(deadline - now)).await;
    }
}

/// The stream's highest applied version in the active schema (0 when none yet). The connection
/// goes back to the pool between polls, so waiting requests do not starve the others.
async fn applied_version(state: &AppState, stream_id: Uuid) -> Result<i64, ApiError> {
    let conn = ReadConn::open(&state.pool, &state.schema).await?;
    let row = conn
        .query_opt(
            &conn.sql("SELECT version FROM {schema}.stream_versions WHERE stream_id = $1"),
            &[&stream_id],
        )
        .await?;
    Ok(row.map_or(0, |row| row.get(0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_a_uuid_and_a_positive_version() {
        let id = Uuid::nil();
        assert_eq!(
            Token::parse(&format!("{id}:3")),
            Some(Token {
                stream_id: id,
                version: 3
            })
        );
        for bad in [
            "",
            "abc",
            &format!("{id}"),
            &format!("{id}:0"),
            &format!("{id}:x"),
            "x:1",
        ] {
            assert_eq!(Token::parse(bad), None, "{bad:?}");
        }
    }
}
