//! `Idempotency-Key` records. A key is claimed at the start of the command's transaction and
//! completed with the response before commit, so a concurrent retry with the same key blocks on
//! the primary key and then sees the committed response; a failed command rolls back its claim.

use tokio_postgres::GenericClient;

use crate::error::StoreError;

/// How long a key is remembered.
pub const RETENTION_HOURS: i32 = 24;

/// A response recorded for a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub request_hash: Vec<u8>,
    pub status_code: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// What claiming a key found.
#[derive(Debug)]
pub enum Claim {
    /// The key is ours: run the command, then call [`complete`].
    Claimed,
    /// The key was used before (within the retention window).
    Replay(StoredResponse),
}

pub async fn claim(
    tx: &impl GenericClient,
    scope: &str,
    key: &str,
    request_hash: &[u8],
) -> Result<Claim, StoreError> {
    // An expired record is replaced rather than replayed.
    tx.execute(
        "DELETE FROM es.idempotency_keys
         WHERE scope = $1 AND key = $2 AND created_at < now() - make_interval(hours => $3)",
        &[&scope, &key, &RETENTION_HOURS],
    )
    .await
    .map_err(StoreError::db("expiring an idempotency key"))?;
    let inserted = tx
        .execute(
            "INSERT INTO es.idempotency_keys (scope, key, request_hash, status_code, headers, body)
             VALUES ($1, $2, $3, 0, '[]'::jsonb, ''::bytea)
             ON CONFLICT (scope, key) DO NOTHING",
            &[&scope, &key, &request_hash],
        )
        .await
        .map_err(StoreError::db("claiming an idempotency key"))?;
    if inserted == 1 {
        return Ok(Claim::Claimed);
    }
    let row = tx
        .query_one(
            "SELECT request_hash, status_code, headers, body FROM es.idempotency_keys
             WHERE scope = $1 AND key = $2",
            &[&scope, &key],
        )
        .await
        .map_err(StoreError::db("reading an idempotency key"))?;
    let headers: serde_json::Value = row.get(2);
    let headers = serde_json::from_value(headers).unwrap_or_default();
    let status: i16 = row.get(1);
    Ok(Claim::Replay(StoredResponse {
        request_hash: row.get(0),
        status_code: u16::try_from(status).unwrap_or(500),
        headers,
        body: row.get(3),
    }))
}

/// The completed response recorded for `key`, if any and not expired, without claiming it: for
/// commands that must answer a retry from the record before they can know their stream (a
/// mailed token is gone once used).
pub async fn completed(
    client: &impl GenericClient,
    scope: &str,
    key: &str,
) -> Result<Option<StoredResponse>, StoreError> {
    let row = client
        .query_opt(
            "SELECT request_hash, status_code, headers, body FROM es.idempotency_keys
             WHERE scope = $1 AND key = $2 AND status_code > 0
               AND created_at >= now() - make_interval(hours => $3)",
            &[&scope, &key, &RETENTION_HOURS],
        )
        .await
        .map_err(StoreError::db("reading an idempotency key"))?;
    Ok(row.map(|row| {
        let headers: serde_json::Value = row.get(2);
        let status: i16 = row.get(1);
        StoredResponse {
            request_hash: row.get(0),
            status_code: u16::try_from(status).unwrap_or(500),
            headers: serde_json::from_value(headers).unwrap_or_default(),
            body: row.get(3),
        }
    }))
}

/// Records the response for a claimed key, in the same transaction as the command's events.
pub async fn complete(
    tx: &impl GenericClient,
    scope: &str,
    key: &str,
    status_code: u16,
    headers: &[(String, String)],
    body: &[u8],
) -> Result<(), StoreError> {
    let headers = serde_json::to_value(headers).unwrap_or_default();
    let status = i16::try_from(status_code).unwrap_or(500);
    tx.execute(
        "UPDATE es.idempotency_keys SET status_code = $3, headers = $4, body = $5
         WHERE scope = $1 AND key = $2",
        &[&scope, &key, &status, &headers, &body],
    )
    .await
    .map_err(StoreError::db("completing an idempotency key"))?;
    Ok(())
}

/// Deletes records past the retention window; returns how many went.
pub async fn purge_expired(client: &impl GenericClient) -> Result<u64, StoreError> {
    client
        .execute(
            "DELETE FROM es.idempotency_keys WHERE created_at < now() - make_interval(hours => $1)",
            &[&RETENTION_HOURS],
        )
        .await
        .map_err(StoreError::db("purging idempotency keys"))
}
