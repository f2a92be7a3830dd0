//! The consumer position stored with the read model: the next offset per topic partition,
//! moved in the batch transaction and read back when partitions are assigned.
//!
//! Each move names where the checkpoint must stand before it (`expected`), so the update is a
//! compare-and-set: two consumers that both believe they own a partition (a rebalance racing a
//! slow batch, a zombie past its session timeout) cannot both apply the same offsets. The row
//! lock makes the second wait for the first to commit, then its compare fails.

use std::collections::{BTreeMap, HashMap};

use kafka::DecodedEvent;
use read_model::ReadSchema;
use tokio_postgres::GenericClient;
use uuid::Uuid;

use super::error::{ApplyError, db};

/// One partition's checkpoint move within a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointMove {
    pub topic: String,
    pub partition: i32,
    /// Where the checkpoint must stand for the batch to apply; `None` skips the check (tests and
    /// tools), and the checkpoint then only ever moves forward. A partition without a row
    /// stands at 0.
    pub expected: Option<i64>,
    /// The offset after the batch's last message of this partition.
    pub next_offset: i64,
    /// The event id of that last message (`None` if it did not decode): what a later start
    /// checks to know it resumes on the same log.
    pub last_event_id: Option<Uuid>,
}

/// A stored checkpoint: where to resume, and the event id of the message just before it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stored {
    pub next_offset: i64,
    pub last_event_id: Option<Uuid>,
}

impl CheckpointMove {
    /// Unfenced moves past the last event of each partition in `events`.
    pub fn unfenced(events: &[DecodedEvent]) -> Vec<CheckpointMove> {
        let mut next: BTreeMap<(&str, i32), (i64, Uuid)> = BTreeMap::new();
        for event in events {
            let slot = next
                .entry((event.topic.as_str(), event.partition))
                .or_insert((0, event.event_id));
            if event.offset + 1 > slot.0 {
                *slot = (event.offset + 1, event.event_id);
            }
        }
        next.into_iter()
            .map(|((topic, partition), (next_offset, last))| CheckpointMove {
                topic: topic.to_owned(),
                partition,
                expected: None,
                next_offset,
                last_event_id: Some(last),
            })
            .collect()
    }
}

/// Inserts the row, or moves it if it stands where expected (unfenced: if it moves forward).
/// `$4` NULL means "no expectation".
const ADVANCE: &str = "
    INSERT INTO {schema}.checkpoints AS c (topic, partition, next_offset, last_event_id, updated_at)
    VALUES ($1, $2, $3, $5, now())
    ON CONFLICT (topic, partition) DO UPDATE
        SET next_offset = EXCLUDED.next_offset, last_event_id = EXCLUDED.last_event_id,
            updated_at = now()
        WHERE c.next_offset = $4
           OR ($4::bigint IS NULL AND c.next_offset <= EXCLUDED.next_offset)";

/// Moves every checkpoint in `moves`, in (topic, partition) order so concurrent batches lock
/// rows in one order and cannot deadlock. Fails with [`ApplyError::Fenced`] on a stale move.
pub async fn advance(
    tx: &impl GenericClient,
    schema: &ReadSchema,
    moves: &[CheckpointMove],
) -> Result<(), ApplyError> {
    let mut sorted: Vec<&CheckpointMove> = moves.iter().collect();
    sorted.sort_by(|a, b| (&a.topic, a.partition).cmp(&(&b.topic, b.partition)));
    let statement = tx
        .prepare(&schema.sql(ADVANCE))
        .await
        .map_err(db("preparing the checkpoint move"))?;
    for step in sorted {
        let moved = tx
            .execute(
                &statement,
                &[
                    &step.topic,
                    &step.partition,
                    &step.next_offset,
                    &step.expected,
                    &step.last_event_id,
                ],
            )
            .await
            .map_err(db("moving the checkpoint"))?;
        if moved == 0
            && let Some(expected) = step.expected
        {
            return Err(ApplyError::Fenced {
                topic: step.topic.clone(),
                partition: step.partition,
                expected,
            });
        }
    }
    Ok(())
}

/// The stored checkpoint of every partition of `topics` that has one.
pub async fn load(
    client: &impl GenericClient,
    schema: &ReadSchema,
    topics: &[&str],
) -> Result<HashMap<(String, i32), Stored>, ApplyError> {
    let topics: Vec<String> = topics.iter().map(|t| (*t).to_owned()).collect();
    let rows = client
        .query(
            &schema.sql(
                "SELECT topic, partition, next_offset, last_event_id FROM {schema}.checkpoints
                 WHERE topic = ANY($1)",
            ),
            &[&topics],
        )
        .await
        .map_err(db("loading checkpoints"))?;
    Ok(rows
        .iter()
        .map(|row| {
            let stored = Stored {
                next_offset: row.get(2),
                last_event_id: row.get(3),
            };
            ((row.get(0), row.get(1)), stored)
        })
        .collect())
}

/// Moves a partition's checkpoint back to 0 if it still stands at `expected`: its log was
/// replaced, and the partition is read from the start again. Returns whether it moved.
pub async fn restart(
    client: &impl GenericClient,
    schema: &ReadSchema,
    key: &(String, i32),
    expected: i64,
) -> Result<bool, ApplyError> {
    let moved = client
        .execute(
            &schema.sql(
                "UPDATE {schema}.checkpoints
                 SET next_offset = 0, last_event_id = NULL, updated_at = now()
                 WHERE topic = $1 AND partition = $2 AND next_offset = $3",
            ),
            &[&key.0, &key.1, &expected],
        )
        .await
        .map_err(db("restarting a checkpoint"))?;
    // No row at all stands at 0 already.
    Ok(moved == 1 || expected == 0)
}
