//! Tokens the notifier mailed (email verification, password reset), as command-api sees them:
//! it finds a token's owner by the token's hash, uses it up in the transaction of the event it
//! proves, and discards the rest of a user's tokens when they stop making sense. The notifier
//! has the rows written by `es.issue_mailed_token` (migrations V12, V13); this side only reads
//! and deletes them.

use tokio_postgres::GenericClient;
use uuid::Uuid;

use crate::error::StoreError;

/// The two kinds of mailed token; each has its own table and lifetime (V12's CHECKs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    EmailVerification,
    PasswordReset,
}

impl TokenKind {
    fn table(self) -> &'static str {
        match self {
            TokenKind::EmailVerification => "es.email_verification_tokens",
            TokenKind::PasswordReset => "es.password_reset_tokens",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::EmailVerification => "email_verification",
            TokenKind::PasswordReset => "password_reset",
        }
    }
}

/// The user an unexpired token of `kind` belongs to, if any.
pub async fn owner(
    client: &impl GenericClient,
    kind: TokenKind,
    token_hash: &[u8],
) -> Result<Option<Uuid>, StoreError> {
    let sql = format!(
        "SELECT user_id FROM {} WHERE token_hash = $1 AND expires_at > clock_timestamp()",
        kind.table()
    );
    let row = client
        .query_opt(&sql, &[&token_hash])
        .await
        .map_err(StoreError::db("looking up a mailed token"))?;
    Ok(row.map(|row| row.get(0)))
}

/// Uses up `user_id`'s unexpired token `token_hash` and discards every other token of that kind
/// the user holds. False if the token was not there (expired, used meanwhile, someone else's):
/// of two transactions presenting one token, the second finds nothing, since the first's DELETE
/// holds the row until it commits.
pub async fn consume(
    tx: &impl GenericClient,
    kind: TokenKind,
    user_id: Uuid,
    token_hash: &[u8],
) -> Result<bool, StoreError> {
    let sql = format!(
        "DELETE FROM {} WHERE token_hash = $1 AND user_id = $2 AND expires_at > clock_timestamp()",
        kind.table()
    );
    let used = tx
        .execute(&sql, &[&token_hash, &user_id])
        .await
        .map_err(StoreError::db("using a mailed token"))?;
    if used == 0 {
        return Ok(false);
    }
    discard(tx, kind, user_id).await?;
    Ok(true)
}

/// Deletes every token of `kind` that `user_id` holds.
pub async fn discard(
    tx: &impl GenericClient,
    kind: TokenKind,
    user_id: Uuid,
) -> Result<u64, StoreError> {
    let sql = format!("DELETE FROM {} WHERE user_id = $1", kind.table());
    tx.execute(&sql, &[&user_id])
        .await
        .map_err(StoreError::db("discarding mailed tokens"))
}

/// Deletes expired tokens of both kinds (housekeeping) and returns how many.
pub async fn sweep(client: &impl GenericClient) -> Result<u64, StoreError> {
    let mut swept = 0;
    for kind in [TokenKind::EmailVerification, TokenKind::PasswordReset] {
        let sql = format!(
            "DELETE FROM {} WHERE expires_at <= clock_timestamp()",
            kind.table()
        );
        swept += client
            .execute(&sql, &[])
            .await
            .map_err(StoreError::db("sweeping expired mailed tokens"))?;
    }
    Ok(swept)
}
