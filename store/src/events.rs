//! Appending to and reading from the event log.

use chrono::{DateTime, Utc};
use tokio_postgres::{GenericClient, Row, types::Type};
use uuid::Uuid;

use crate::error::{StoreError, violated_unique_constraint};

/// Who and what caused an event; travels with it into Kafka headers and the audit trail.
#[derive(Debug, Clone)]
pub struct EventMetadata {
    pub correlation_id: Uuid,
    pub causation_id: Option<Uuid>,
    /// A user id, `system` or `anonymous`.
    pub actor: String,
    /// W3C trace context of the request that recorded the event.
    pub traceparent: Option<String>,
}

/// An event about to be appended.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub event_id: Uuid,
    pub event_type: &'static str,
    pub schema_version: i32,
    pub payload: serde_json::Value,
}

impl NewEvent {
    pub fn from_domain<E: domain::DomainEvent>(event: &E) -> Self {
        Self {
            // v7 ids sort by time, which keeps the unique index on event_id append-friendly.
            event_id: Uuid::now_v7(),
            event_type: event.event_type(),
            schema_version: event.schema_version(),
            payload: event.to_payload(),
        }
    }
}

/// An event as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedEvent {
    pub position: i64,
    pub event_id: Uuid,
    pub stream_id: Uuid,
    pub stream_type: String,
    pub stream_version: i64,
    pub event_type: String,
    pub schema_version: i32,
    pub payload: serde_json::Value,
    pub correlation_id: Uuid,
    pub causation_id: Option<Uuid>,
    pub actor: String,
    pub traceparent: Option<String>,
    pub recorded_at: DateTime<Utc>,
}

/// Columns in the order `RecordedEvent::from_row` reads them.
pub(crate) const EVENT_COLUMNS: &str = "position, event_id, stream_id, stream_type, stream_version, \
     event_type, schema_version, payload, correlation_id, causation_id, actor, traceparent, recorded_at";

impl RecordedEvent {
    pub(crate) fn from_row(row: &Row) -> Self {
        Self {
            position: row.get(0),
            event_id: row.get(1),
            stream_id: row.get(2),
            stream_type: row.get(3),
            stream_version: row.get(4),
            event_type: row.get(5),
            schema_version: row.get(6),
            payload: row.get(7),
            correlation_id: row.get(8),
            causation_id: row.get(9),
            actor: row.get(10),
            traceparent: row.get(11),
            recorded_at: row.get(12),
        }
    }

    /// Decodes the payload into the aggregate's event type.
    pub fn decode<E: domain::DomainEvent>(&self) -> Result<E, domain::EventDecodeError> {
        E::from_stored(&self.event_type, self.schema_version, self.payload.clone())
    }
}

/// Every event of one stream, oldest first.
pub async fn load_stream(
    client: &impl GenericClient,
    stream_id: Uuid,
) -> Result<Vec<RecordedEvent>, StoreError> {
    let sql = format!(
        "SELECT {EVENT_COLUMNS} FROM es.events WHERE stream_id = $1 ORDER BY stream_version"
    );
    // Unnamed and typed: one round trip, where `query` would prepare first. Every command
    // loads one or two streams, so this is on the write path's critical path.
    let rows = client
        .query_typed(&sql, &[(&stream_id, Type::UUID)])
        .await
        .map_err(StoreError::db("loading a stream"))?;
    Ok(rows.iter().map(RecordedEvent::from_row).collect())
}

/// Appends `events` after `expected_version` and queues each for the relay, inside the caller's
/// transaction. Fails with [`StoreError::VersionConflict`] when another writer got there first.
pub async fn append(
    tx: &impl GenericClient,
    stream_id: Uuid,
    stream_type: &str,
    expected_version: i64,
    events: &[NewEvent],
    metadata: &EventMetadata,
) -> Result<Vec<RecordedEvent>, StoreError> {
    // One round trip per event: the insert, its outbox row and the relay's wake-up in one
    // typed, unnamed statement (a prepare and a separate notify doubled the write's round trips).
    // The notification is delivered at commit, never for a rolled-back append, and PostgreSQL
    // folds repeats within one transaction into one.
    let sql = format!(
        "WITH inserted AS (
             INSERT INTO es.events (event_id, stream_id, stream_type, stream_version, event_type,
                                    schema_version, payload, correlation_id, causation_id, actor,
                                    traceparent)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
             RETURNING {EVENT_COLUMNS}
         ), queued AS (
             INSERT INTO es.outbox (position) SELECT position FROM inserted
         )
         SELECT {EVENT_COLUMNS} FROM inserted, (SELECT pg_notify($12, '')) AS notified"
    );
    let mut recorded = Vec::with_capacity(events.len());
    for (offset, event) in (1_i64..).zip(events) {
        let version = expected_version + offset;
        let row = tx
            .query_typed_one(
                &sql,
                &[
                    (&event.event_id, Type::UUID),
                    (&stream_id, Type::UUID),
                    (&stream_type, Type::TEXT),
                    (&version, Type::INT8),
                    (&event.event_type, Type::TEXT),
                    (&event.schema_version, Type::INT4),
                    (&event.payload, Type::JSONB),
                    (&metadata.correlation_id, Type::UUID),
                    (&metadata.causation_id, Type::UUID),
                    (&metadata.actor, Type::TEXT),
                    (&metadata.traceparent, Type::TEXT),
                    (&crate::outbox::OUTBOX_CHANNEL, Type::TEXT),
                ],
            )
            .await
            .map_err(|e| match violated_unique_constraint(&e) {
                Some("events_stream_version_key") => StoreError::VersionConflict,
                _ => StoreError::Database {
                    context: "appending an event",
                    source: e,
                },
            })?;
        recorded.push(RecordedEvent::from_row(&row));
    }
    Ok(recorded)
}
