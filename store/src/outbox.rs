//! The relay's view of the outbox: the oldest pending events, and removal once Kafka acknowledged them.

use tokio_postgres::GenericClient;

use crate::{
    error::StoreError,
    events::{EVENT_COLUMNS, RecordedEvent},
};

/// Channel the append transaction notifies on commit, so the relay wakes at once.
pub const OUTBOX_CHANNEL: &str = "es_outbox";

/// Up to `limit` pending events in global position order. Per stream this is version order,
/// because version n+1 can only be appended after version n committed.
pub async fn pending(
    client: &impl GenericClient,
    limit: i64,
) -> Result<Vec<RecordedEvent>, StoreError> {
    let columns = EVENT_COLUMNS
        .split(", ")
        .map(|c| format!("e.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT {columns} FROM es.outbox o JOIN es.events e ON e.position = o.position
         ORDER BY o.position LIMIT $1"
    );
    let rows = client
        .query(&sql, &[&limit])
        .await
        .map_err(StoreError::db("reading the outbox"))?;
    Ok(rows.iter().map(RecordedEvent::from_row).collect())
}

/// Removes acknowledged events from the outbox.
pub async fn mark_published(
    client: &impl GenericClient,
    positions: &[i64],
) -> Result<u64, StoreError> {
    client
        .execute(
            "DELETE FROM es.outbox WHERE position = ANY($1)",
            &[&positions],
        )
        .await
        .map_err(StoreError::db("marking events published"))
}

/// Pending events and the age in seconds of the oldest, for the backlog metrics.
pub async fn backlog(client: &impl GenericClient) -> Result<(i64, f64), StoreError> {
    let row = client
        .query_one(
            "SELECT count(*), COALESCE(EXTRACT(EPOCH FROM clock_timestamp() - min(enqueued_at)), 0)::float8
             FROM es.outbox",
            &[],
        )
        .await
        .map_err(StoreError::db("measuring the outbox backlog"))?;
    Ok((row.get(0), row.get(1)))
}
