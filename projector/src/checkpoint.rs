//! The consumer position stored with the read model: the next offset per topic partition,
//! moved in the batch transaction and read back when partitions are assigned.
//!
//! Each move names where the checkpoint must stand before it (`expected`), so the update is a
//! compare-and-set: two consumers that both believe they own a partition (a rebalance racing a
//! slow batch, a zombie past its session timeout) cannot both apply the same offsets. The row
//! lock makes the second wait for the first to commit, then its compare fails.

use std::collections::{BTreeMap, HashMap};

use kafka::DecodedEvent;
use tokio_postgres::GenericClient;

use crate::{
    apply::{ApplyError, db},
    schema::ReadSchema,
};

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
}

impl CheckpointMove {
    /// Unfenced moves past the last event of each partition in `events`.
    pub fn unfenced(events: &[DecodedEvent]) -> Vec<CheckpointMove> {
        let mut next: BTreeMap<(&str, i32), i64> = BTreeMap::new();
        for event in events {
            let slot = next
                .entry((event.topic.as_str(), event.partition))
                .or_insert(0);
            *slot = (*slot).max(event.offset + 1);
        }
        next.into_iter()
            .map(|((topic, partition), next_offset)| CheckpointMove {
                topic: topic.to_owned(),
                partition,
                expected: None,
                next_offset,
            })
            .collect()
    }
}

/// Inserts the row, or moves it if it stands where expected (unfenced: if it moves forward).
/// `$4` NULL means "no expectation".
const ADVANCE: &str = "
    INSERT INTO {schema}.checkpoints AS c (topic, partition, next_offset, updated_at)
    VALUES ($1, $2, $3, now())
    ON CONFLICT (topic, partition) DO UPDATE
        SET next_offset = EXCLUDED.next_offset, updated_at = now()
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

/// The stored next offset of every partition of `topics` that has a checkpoint.
pub async fn load(
    client: &impl GenericClient,
    schema: &ReadSchema,
    topics: &[&str],
) -> Result<HashMap<(String, i32), i64>, ApplyError> {
    let topics: Vec<String> = topics.iter().map(|t| (*t).to_owned()).collect();
    let rows = client
        .query(
            &schema.sql(
                "SELECT topic, partition, next_offset FROM {schema}.checkpoints
                 WHERE topic = ANY($1)",
            ),
            &[&topics],
        )
        .await
        .map_err(db("loading checkpoints"))?;
    Ok(rows
        .iter()
        .map(|row| ((row.get(0), row.get(1)), row.get(2)))
        .collect())
}
