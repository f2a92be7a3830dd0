//! Attempt windows shared by every replica: an attempt is counted and judged in one statement,
//! so parallel attempts cannot all slip under a limit that each checked before any was counted.

use tokio_postgres::GenericClient;

use crate::error::StoreError;

/// One counter an attempt is charged to: `limit` attempts per `window_secs` for `key` in `bucket`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Charge {
    pub bucket: &'static str,
    pub key: String,
    pub limit: i32,
    pub window_secs: i32,
}

/// The first counter an attempt exceeded, and when its window ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exceeded {
    pub bucket: &'static str,
    pub retry_after_secs: u64,
}

/// Counts one attempt against every charge at once; `Some` names a counter now over its limit.
/// Rows are locked in key order, so two attempts charging the same counters cannot deadlock.
pub async fn charge(
    client: &impl GenericClient,
    charges: &[Charge],
) -> Result<Option<Exceeded>, StoreError> {
    let mut sorted: Vec<&Charge> = charges.iter().collect();
    sorted.sort_by(|a, b| (a.bucket, &a.key).cmp(&(b.bucket, &b.key)));
    sorted.dedup_by(|a, b| a.bucket == b.bucket && a.key == b.key);
    let buckets: Vec<&str> = sorted.iter().map(|c| c.bucket).collect();
    let keys: Vec<&str> = sorted.iter().map(|c| c.key.as_str()).collect();
    let windows: Vec<f64> = sorted.iter().map(|c| f64::from(c.window_secs)).collect();
    let rows = client
        .query(
            "INSERT INTO es.throttle_windows AS t (bucket, key, hits, expires_at)
             SELECT bucket, key, 1, now() + make_interval(secs => window_secs)
             FROM unnest($1::text[], $2::text[], $3::float8[]) AS c(bucket, key, window_secs)
             ORDER BY bucket, key
             ON CONFLICT (bucket, key) DO UPDATE SET
                 hits = CASE WHEN t.expires_at > now() THEN t.hits + 1 ELSE 1 END,
                 expires_at = CASE WHEN t.expires_at > now() THEN t.expires_at
                                   ELSE excluded.expires_at END
             RETURNING bucket, key, hits,
                       greatest(1, ceil(EXTRACT(EPOCH FROM expires_at - now())))::bigint",
            &[&buckets, &keys, &windows],
        )
        .await
        .map_err(StoreError::db("counting an attempt"))?;
    let exceeded = sorted.iter().find_map(|charge| {
        let row = rows
            .iter()
            .find(|r| r.get::<_, &str>(0) == charge.bucket && r.get::<_, &str>(1) == charge.key)?;
        (row.get::<_, i32>(2) > charge.limit).then(|| Exceeded {
            bucket: charge.bucket,
            retry_after_secs: u64::try_from(row.get::<_, i64>(3)).unwrap_or(1),
        })
    });
    Ok(exceeded)
}

/// Forgets the attempts on one counter (a sign-in that succeeded).
pub async fn forget(
    client: &impl GenericClient,
    bucket: &str,
    key: &str,
) -> Result<(), StoreError> {
    client
        .execute(
            "DELETE FROM es.throttle_windows WHERE bucket = $1 AND key = $2",
            &[&bucket, &key],
        )
        .await
        .map_err(StoreError::db("clearing an attempt counter"))?;
    Ok(())
}

/// Whether `client` signed in to `email` recently enough to skip the per-account budget.
pub async fn is_trusted(
    client: &impl GenericClient,
    email: &str,
    network: &str,
) -> Result<bool, StoreError> {
    let row = client
        .query_opt(
            "SELECT 1 FROM es.trusted_clients
             WHERE email = $1 AND client = $2 AND trusted_until > now()",
            &[&email, &network],
        )
        .await
        .map_err(StoreError::db("looking up a trusted client"))?;
    Ok(row.is_some())
}

/// Remembers that `network` signed in to `email`, for `days`.
pub async fn trust(
    client: &impl GenericClient,
    email: &str,
    network: &str,
    days: i32,
) -> Result<(), StoreError> {
    client
        .execute(
            "INSERT INTO es.trusted_clients (email, client, trusted_until)
             VALUES ($1, $2, now() + make_interval(days => $3))
             ON CONFLICT (email, client) DO UPDATE SET trusted_until = excluded.trusted_until",
            &[&email, &network, &days],
        )
        .await
        .map_err(StoreError::db("trusting a client"))?;
    Ok(())
}

/// Deletes ended windows and expired trust, so keys an attacker invents do not pile up.
pub async fn sweep(client: &impl GenericClient) -> Result<u64, StoreError> {
    let windows = client
        .execute(
            "DELETE FROM es.throttle_windows WHERE expires_at < now()",
            &[],
        )
        .await
        .map_err(StoreError::db("sweeping attempt windows"))?;
    let trusted = client
        .execute(
            "DELETE FROM es.trusted_clients WHERE trusted_until < now()",
            &[],
        )
        .await
        .map_err(StoreError::db("sweeping trusted clients"))?;
    Ok(windows + trusted)
}
