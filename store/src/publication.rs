//! Where the relay's acknowledged messages landed on each topic partition, and re-queueing
//! history for the relay when a broker lost it. See `migrations/V6__published_offsets.sql`.

use std::collections::HashMap;

use tokio_postgres::GenericClient;

use crate::error::StoreError;

/// The offset after the last acknowledged message, per (topic, partition).
pub async fn offsets(
    client: &impl GenericClient,
) -> Result<HashMap<(String, i32), i64>, StoreError> {
    let rows = client
        .query(
            "SELECT topic, partition, next_offset FROM es.published_offsets",
            &[],
        )
        .await
        .map_err(StoreError::db("reading the published offsets"))?;
    Ok(rows
        .iter()
        .map(|row| ((row.get(0), row.get(1)), row.get(2)))
        .collect())
}

/// Moves each partition's offset forward to `next` (never back: acknowledgements of one
/// batch may be recorded after a later one's only if the relay changed hands, and the later
/// one is right).
pub async fn advance(
    tx: &impl GenericClient,
    moves: &[(String, i32, i64)],
) -> Result<(), StoreError> {
    if moves.is_empty() {
        return Ok(());
    }
    let topics: Vec<&str> = moves.iter().map(|m| m.0.as_str()).collect();
    let partitions: Vec<i32> = moves.iter().map(|m| m.1).collect();
    let next: Vec<i64> = moves.iter().map(|m| m.2).collect();
    tx.execute(
        "INSERT INTO es.published_offsets AS p (topic, partition, next_offset)
         SELECT * FROM UNNEST($1::text[], $2::integer[], $3::bigint[])
         ON CONFLICT (topic, partition) DO UPDATE
             SET next_offset = GREATEST(p.next_offset, EXCLUDED.next_offset),
                 updated_at = clock_timestamp()",
        &[&topics, &partitions, &next],
    )
    .await
    .map_err(StoreError::db("recording the published offsets"))?;
    Ok(())
}

/// Forgets what was published to `topic`, which a broker lost: its offsets start again.
pub async fn forget_topic(tx: &impl GenericClient, topic: &str) -> Result<u64, StoreError> {
    tx.execute(
        "DELETE FROM es.published_offsets WHERE topic = $1",
        &[&topic],
    )
    .await
    .map_err(StoreError::db("forgetting a topic's published offsets"))
}

/// Queues every stored event of `stream_type` (all types with `None`) from `from_position` to
/// `to_position` (inclusive) for the relay again; returns how many were queued. Events still
/// waiting are left as they are. The relay drains the outbox in position order, so history goes
/// out in per-stream order, with the same event ids as the first time.
pub async fn requeue(
    tx: &impl GenericClient,
    stream_type: Option<&str>,
    from_position: i64,
    to_position: i64,
) -> Result<u64, StoreError> {
    tx.execute(
        "INSERT INTO es.outbox (position)
         SELECT position FROM es.events
         WHERE position BETWEEN $1 AND $2 AND ($3::text IS NULL OR stream_type = $3)
         ORDER BY position
         ON CONFLICT (position) DO NOTHING",
        &[&from_position, &to_position, &stream_type],
    )
    .await
    .map_err(StoreError::db("re-queueing history for the relay"))
}

/// The highest position in the store (0 when empty).
pub async fn head_position(client: &impl GenericClient) -> Result<i64, StoreError> {
    let row = client
        .query_one("SELECT COALESCE(max(position), 0) FROM es.events", &[])
        .await
        .map_err(StoreError::db("reading the store's head position"))?;
    Ok(row.get(0))
}

/// Events from `from_position` to `to_position` still waiting in the outbox.
pub async fn waiting_between(
    client: &impl GenericClient,
    from_position: i64,
    to_position: i64,
) -> Result<i64, StoreError> {
    let row = client
        .query_one(
            "SELECT count(*) FROM es.outbox WHERE position BETWEEN $1 AND $2",
            &[&from_position, &to_position],
        )
        .await
        .map_err(StoreError::db("counting re-queued events"))?;
    Ok(row.get(0))
}
