//! Sessions and their refresh tokens (migration V10): started at sign-in, rotated on every
//! refresh, ended on sign-out, on reuse of a spent refresh token, and by the events that change
//! who a user is. Tokens arrive here already hashed; nothing in this module sees one.

use std::time::Duration;

use tokio_postgres::{GenericClient, types::Type};
use uuid::Uuid;

use crate::error::StoreError;

/// Why a session ended, as stored in `es.sessions.end_reason` and counted in metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    SignedOut,
    /// A refresh token was presented after it had been spent: someone holds a copy.
    RefreshTokenReused,
    PasswordChanged,
    /// The password was set with a mailed reset token.
    PasswordReset,
    RoleChanged,
    Deactivated,
    /// The user's personal data was erased.
    Erased,
}

impl EndReason {
    pub fn as_str(self) -> &'static str {
        match self {
            EndReason::SignedOut => "signed_out",
            EndReason::RefreshTokenReused => "refresh_token_reused",
            EndReason::PasswordChanged => "password_changed",
            EndReason::PasswordReset => "password_reset",
            EndReason::RoleChanged => "role_changed",
            EndReason::Deactivated => "deactivated",
            EndReason::Erased => "erased",
        }
    }
}

/// How long a session and each of its refresh tokens may live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetimes {
    /// From sign-in to the session's end, however often it is refreshed.
    pub session: Duration,
    /// From a refresh token's issue to its expiry, if unused.
    pub refresh_token: Duration,
}

fn secs(duration: Duration) -> f64 {
    duration.as_secs_f64()
}

/// Starts a session for `user_id` whose first refresh token hashes to `token_hash`.
pub async fn start(
    client: &impl GenericClient,
    user_id: Uuid,
    token_hash: &[u8],
    lifetimes: Lifetimes,
) -> Result<Uuid, StoreError> {
    let session_id = Uuid::now_v7();
    client
        .execute(
            "WITH session AS (
                 INSERT INTO es.sessions (id, user_id, expires_at)
                 VALUES ($1, $2, clock_timestamp() + make_interval(secs => $4))
                 RETURNING id, expires_at
             )
             INSERT INTO es.refresh_tokens (token_hash, session_id, expires_at)
             SELECT $3, id, least(expires_at, clock_timestamp() + make_interval(secs => $5))
             FROM session",
            &[
                &session_id,
                &user_id,
                &token_hash,
                &secs(lifetimes.session),
                &secs(lifetimes.refresh_token),
            ],
        )
        .await
        .map_err(StoreError::db("starting a session"))?;
    Ok(session_id)
}

/// What presenting a refresh token came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refresh {
    /// The token was live and is now spent; its successor is stored.
    Rotated { session_id: Uuid, user_id: Uuid },
    /// No such token, or its session ended or expired, or it expired unused.
    Invalid,
    /// The token had been spent already: its session is now ended.
    Reused { session_id: Uuid },
}

/// Spends the refresh token hashing to `presented` and stores `successor` in its place, in the
/// caller's transaction. The rows are locked, so of two requests with the same token one rotates
/// and the other is reuse. Commit whatever this returns: a reuse ends the session.
pub async fn refresh(
    tx: &impl GenericClient,
    presented: &[u8],
    successor: &[u8],
    refresh_token_ttl: Duration,
) -> Result<Refresh, StoreError> {
    let row = tx
        .query_opt(
            "SELECT s.id, s.user_id, s.ended_at IS NULL AND s.expires_at > clock_timestamp(),
                    t.spent_at IS NOT NULL, t.expires_at > clock_timestamp()
             FROM es.refresh_tokens t JOIN es.sessions s ON s.id = t.session_id
             WHERE t.token_hash = $1
             FOR UPDATE OF t, s",
            &[&presented],
        )
        .await
        .map_err(StoreError::db("reading a refresh token"))?;
    let Some(row) = row else {
        return Ok(Refresh::Invalid);
    };
    let (session_id, user_id): (Uuid, Uuid) = (row.get(0), row.get(1));
    let (session_live, spent, unexpired): (bool, bool, bool) = (row.get(2), row.get(3), row.get(4));
    if !session_live {
        return Ok(Refresh::Invalid);
    }
    if spent {
        end(tx, session_id, EndReason::RefreshTokenReused).await?;
        return Ok(Refresh::Reused { session_id });
    }
    if !unexpired {
        return Ok(Refresh::Invalid);
    }
    tx.execute(
        "WITH spent AS (
             UPDATE es.refresh_tokens SET spent_at = clock_timestamp() WHERE token_hash = $1
         )
         INSERT INTO es.refresh_tokens (token_hash, session_id, expires_at)
         SELECT $2, id, least(expires_at, clock_timestamp() + make_interval(secs => $4))
         FROM es.sessions WHERE id = $3",
        &[
            &presented,
            &successor,
            &session_id,
            &secs(refresh_token_ttl),
        ],
    )
    .await
    .map_err(StoreError::db("rotating a refresh token"))?;
    Ok(Refresh::Rotated {
        session_id,
        user_id,
    })
}

/// Ends one session; `false` when it had ended already (or never existed).
pub async fn end(
    client: &impl GenericClient,
    session_id: Uuid,
    reason: EndReason,
) -> Result<bool, StoreError> {
    let ended = client
        .execute(
            "UPDATE es.sessions SET ended_at = clock_timestamp(), end_reason = $2
             WHERE id = $1 AND ended_at IS NULL",
            &[&session_id, &reason.as_str()],
        )
        .await
        .map_err(StoreError::db("ending a session"))?;
    Ok(ended == 1)
}

/// Ends every live session of `user_id`, in the caller's transaction; returns how many.
pub async fn end_all(
    tx: &impl GenericClient,
    user_id: Uuid,
    reason: EndReason,
) -> Result<u64, StoreError> {
    tx.execute(
        "UPDATE es.sessions SET ended_at = clock_timestamp(), end_reason = $2
         WHERE user_id = $1 AND ended_at IS NULL",
        &[&user_id, &reason.as_str()],
    )
    .await
    .map_err(StoreError::db("ending a user's sessions"))
}

/// Whether `session_id` has neither ended nor expired.
pub async fn is_live(client: &impl GenericClient, session_id: Uuid) -> Result<bool, StoreError> {
    // Typed and unnamed: one round trip, where `query_one` prepares first. Every authenticated
    // command asks this, inside its transaction.
    let row = client
        .query_typed_one(
            "SELECT es.session_is_live($1)",
            &[(&session_id, Type::UUID)],
        )
        .await
        .map_err(StoreError::db("checking a session"))?;
    Ok(row.get(0))
}

/// Deletes sessions that ended or expired more than `keep` ago (their refresh tokens with them);
/// returns how many.
pub async fn sweep(client: &impl GenericClient, keep: Duration) -> Result<u64, StoreError> {
    client
        .execute(
            "DELETE FROM es.sessions
             WHERE least(coalesce(ended_at, expires_at), expires_at)
                   < clock_timestamp() - make_interval(secs => $1)",
            &[&secs(keep)],
        )
        .await
        .map_err(StoreError::db("sweeping ended sessions"))
}
