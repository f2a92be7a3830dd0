//! Applying one batch of decoded events to a read schema. One transaction holds everything the
//! batch changes: the checkpoint moves (first, fenced), the audit rows, the stream versions, and
//! the product, category and user rows. Either all of it commits or none of it does, which is
//! what makes a kill at any moment lose and double nothing.
//!
//! [`Projection::apply_events`] is the entry point for tests and tools that have events but no
//! consumer; the consumer loop calls [`Projection::apply`] with the positions it owns.

pub mod checkpoint;
mod error;
mod fold;
mod journal;
mod outcome;
mod products;
mod users;

use std::{sync::Arc, time::Instant};

use kafka::{DecodedEvent, Topics};
use personal::Keyring;
use read_model::ReadSchema;
use tokio_postgres::Client;

use self::error::db;
pub use self::{checkpoint::CheckpointMove, error::ApplyError, outcome::BatchOutcome};

/// Applies events to one read schema.
#[derive(Debug, Clone)]
pub struct Projection {
    schema: ReadSchema,
    topics: Topics,
    keyring: Arc<Keyring>,
}

impl Projection {
    pub fn new(schema: ReadSchema, topics: Topics, keyring: Arc<Keyring>) -> Self {
        Self {
            schema,
            topics,
            keyring,
        }
    }

    /// The same projection onto another read schema (a rebuild's, after the flip).
    pub fn on_schema(&self, schema: ReadSchema) -> Self {
        Self {
            schema,
            ..self.clone()
        }
    }

    pub fn schema(&self) -> &ReadSchema {
        &self.schema
    }

    pub fn topics(&self) -> &Topics {
        &self.topics
    }

    /// Applies `events` (in the order they were read) and moves the checkpoints in `moves`, in
    /// one transaction. Fails with [`ApplyError::Fenced`], changing nothing, when a checkpoint
    /// is not where the caller expected it.
    pub async fn apply(
        &self,
        client: &mut Client,
        events: &[DecodedEvent],
        moves: &[CheckpointMove],
    ) -> Result<BatchOutcome, ApplyError> {
        let started = Instant::now();
        let tx = client
            .transaction()
            .await
            .map_err(db("starting the batch"))?;
        // A batch need not wait for its WAL flush: the rows and the checkpoint commit together
        // or not at all, so a database crash that forgets the last batches (at most
        // `wal_writer_delay` x 3 of them) moves the checkpoint back with the rows, and the
        // events are applied again from Kafka. Nothing is lost or doubled, and the replay no
        // longer waits for one fsync per batch. The command side keeps synchronous commits.
        tx.batch_execute("SET LOCAL synchronous_commit = off")
            .await
            .map_err(db("relaxing the batch's commit"))?;
        // First, so the checkpoint rows are locked (in a fixed order) before any other row:
        // a second consumer of the same partition waits here, then finds itself fenced.
        checkpoint::advance(&tx, &self.schema, moves).await?;
        let mut outcome = BatchOutcome::default();
        let fresh = journal::record(&tx, &self.schema, &self.topics, events, &mut outcome).await?;
        let of_type = |stream_type: &str| -> Vec<journal::Fresh<'_>> {
            fresh
                .iter()
                .filter(|f| f.stream_type == stream_type)
                .cloned()
                .collect()
        };
        products::apply(&tx, &self.schema, &of_type("product"), &mut outcome).await?;
        let users = of_type("user");
        users::apply(&tx, &self.schema, &users, &self.keyring, &mut outcome).await?;
        if !fresh.is_empty() {
            // Delivered at commit, once per transaction, to query-api's consistency waiters.
            tx.execute("SELECT pg_notify($1, '')", &[&read_model::APPLIED_CHANNEL])
                .await
                .map_err(db("announcing the batch"))?;
        }
        tx.commit().await.map_err(db("committing the batch"))?;
        outcome.record(events.len(), started);
        log_applied(&fresh);
        Ok(outcome)
    }

    /// Applies `events` and moves each partition's checkpoint past them without fencing: for
    /// tests and tools that hold events but own no partition.
    pub async fn apply_events(
        &self,
        client: &mut Client,
        events: &[DecodedEvent],
    ) -> Result<BatchOutcome, ApplyError> {
        self.apply(client, events, &CheckpointMove::unfenced(events))
            .await
    }
}

/// One debug line per applied event, after COMMIT, with the trace and correlation ids it
/// carries: how a request's trace is followed from HTTP through the event's metadata and Kafka
/// headers into this process (`RUST_LOG=info,projector::apply=debug`). Debug rather than info
/// because a replay applies millions; duplicates are logged by the gate, also at debug.
fn log_applied(fresh: &[journal::Fresh<'_>]) {
    if !tracing::enabled!(tracing::Level::DEBUG) {
        return;
    }
    for applied in fresh {
        let event = applied.event;
        let traceparent = event.traceparent.as_deref();
        tracing::debug!(
            trace_id = traceparent.and_then(platform::trace_context::trace_id_of),
            traceparent,
            correlation_id = event.correlation_id.map(tracing::field::display),
            causation_id = event.causation_id.map(tracing::field::display),
            event_id = %event.event_id,
            event_type = event.event_type,
            stream = %event.stream_id,
            version = event.stream_version,
            topic = event.topic,
            partition = event.partition,
            offset = event.offset,
            "event applied"
        );
    }
}
