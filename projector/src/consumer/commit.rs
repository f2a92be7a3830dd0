//! The other half of the loop: committing a batch (with retries, fencing and the copy of the
//! offsets to Kafka), moving partitions back to their checkpoints after a fenced batch or a flip
//! of the active read schema, and restarting a partition whose log was replaced.

use std::time::{Duration, Instant};

use anyhow::Context;
use rdkafka::{
    Offset, TopicPartitionList,
    consumer::{CommitMode, Consumer},
};

use super::{Batch, Loop, positions::Key, stop::stopping};
use crate::{
    apply::{ApplyError, CheckpointMove, checkpoint},
    metrics as m, schema,
};

impl Loop {
    /// Applies the batch, retrying database failures until it commits or the process is asked
    /// to stop; a fenced batch is dropped and the partitions re-read from their checkpoints.
    pub(super) fn apply(&mut self) {
        let batch = std::mem::take(&mut self.batch);
        let moves: Vec<CheckpointMove> = batch
            .next
            .iter()
            .map(|(key, next)| CheckpointMove {
                topic: key.0.clone(),
                partition: key.1,
                expected: Some(self.positions.get(key).copied().unwrap_or(0)),
                next_offset: *next,
                last_event_id: batch.last_ids.get(key).copied().flatten(),
            })
            .collect();
        let mut delay = Duration::from_millis(100);
        loop {
            let result = self.runtime.block_on(async {
                let mut client = self.pool.get().await.map_err(anyhow::Error::from)?;
                self.projection
                    .apply(&mut client, &batch.events, &moves)
                    .await
                    .map_err(anyhow::Error::from)
            });
            let error = match result {
                Ok(outcome) => {
                    tracing::debug!(
                        messages = batch.messages,
                        applied = outcome.applied,
                        duplicates = outcome.duplicates,
                        "batch committed"
                    );
                    for step in &moves {
                        self.positions
                            .insert((step.topic.clone(), step.partition), step.next_offset);
                    }
                    self.commit_to_kafka(&moves);
                    return;
                }
                Err(error) => error,
            };
            if let Some(ApplyError::Fenced { .. }) = error.downcast_ref::<ApplyError>() {
                metrics::counter!(m::BATCH_FAILURES, "reason" => "fenced").increment(1);
                tracing::warn!(error = %error, "batch fenced off: another consumer moved the checkpoint; re-reading");
                if let Err(error) = self.reseek() {
                    tracing::error!(
                        error = format!("{error:#}"),
                        "re-reading the checkpoints failed"
                    );
                }
                return;
            }
            metrics::counter!(m::BATCH_FAILURES, "reason" => "database").increment(1);
            tracing::error!(
                error = format!("{error:#}"),
                "batch failed and was rolled back; retrying"
            );
            if stopping(&self.shutdown) {
                tracing::warn!(
                    "stopping with the batch rolled back; its partitions' next owner applies it"
                );
                return;
            }
            std::thread::sleep(delay);
            delay = (delay * 2).min(Duration::from_secs(5));
        }
    }

    /// A copy of the checkpoints for Kafka's lag metrics (KEDA). Asynchronous and best effort.
    fn commit_to_kafka(&self, moves: &[CheckpointMove]) {
        let mut tpl = TopicPartitionList::new();
        for step in moves {
            let offset = Offset::Offset(step.next_offset);
            if tpl
                .add_partition_offset(&step.topic, step.partition, offset)
                .is_err()
            {
                return;
            }
        }
        if let Err(error) = self.consumer.commit(&tpl, CommitMode::Async) {
            tracing::debug!(%error, "copying offsets to Kafka failed (only lag metrics suffer)");
        }
    }

    /// Moves every owned partition back to its stored checkpoint (after a fenced batch, or a
    /// flip to another schema).
    fn reseek(&mut self) -> anyhow::Result<()> {
        self.batch = Batch::default();
        let topics = self.projection.topics().clone();
        let schema = self.projection.schema().clone();
        let stored = self.runtime.block_on(async {
            let client = self.pool.get().await?;
            anyhow::Ok(checkpoint::load(&**client, &schema, &topics.all()).await?)
        })?;
        let keys: Vec<Key> = self.positions.keys().cloned().collect();
        for key in keys {
            let checkpoint = stored.get(&key).cloned().unwrap_or_default();
            self.positions.insert(key.clone(), checkpoint.next_offset);
            self.consumer
                .seek(
                    &key.0,
                    key.1,
                    self.resume.start(checkpoint.next_offset),
                    Duration::from_secs(10),
                )
                .with_context(|| format!("seeking {}/{}", key.0, key.1))?;
            self.resume
                .begin(key, checkpoint.next_offset, checkpoint.last_event_id);
        }
        Ok(())
    }

    /// The partition's log is not the one its checkpoint was taken on: move the checkpoint to 0
    /// (compare-and-set, like any move) and read the partition from its first message again.
    /// Every event already applied is skipped by its stream version.
    pub(super) fn restart(&mut self, key: &Key) {
        let Some(expected) = self.positions.get(key).copied() else {
            return;
        };
        let schema = self.projection.schema().clone();
        let restarted = self.runtime.block_on(async {
            let client = self.pool.get().await?;
            anyhow::Ok(checkpoint::restart(&**client, &schema, key, expected).await?)
        });
        match restarted {
            Ok(true) => {
                metrics::counter!(m::LOG_RESTARTS, "topic" => key.0.clone()).increment(1);
                tracing::warn!(
                    topic = key.0,
                    partition = key.1,
                    from = expected,
                    "the partition's log was replaced; reading it again from offset 0"
                );
                self.positions.insert(key.clone(), 0);
                self.resume.begin(key.clone(), 0, None);
                self.consumer.context().forget(key);
                if let Err(error) =
                    self.consumer
                        .seek(&key.0, key.1, Offset::Beginning, Duration::from_secs(10))
                {
                    tracing::error!(%error, "seeking to the beginning failed");
                }
            }
            // Someone else moved the checkpoint meanwhile: start over from what is stored.
            Ok(false) => {
                if let Err(error) = self.reseek() {
                    tracing::error!(error = format!("{error:#}"), "re-reading the checkpoints");
                }
            }
            Err(error) => {
                // The database is down: the partition is checked again once it is back.
                tracing::warn!(
                    error = format!("{error:#}"),
                    "cannot restart the partition yet"
                );
                self.resume.begin(key.clone(), expected, None);
            }
        }
    }

    /// Live mode: after a rebuild flipped `read_meta.active`, continue in the new schema from
    /// its checkpoints (the rebuild's positions), so no event is applied twice or skipped.
    pub(super) fn follow_active(&mut self) -> anyhow::Result<()> {
        let Some((every, last)) = self.follow_active else {
            return Ok(());
        };
        if last.elapsed() < every {
            return Ok(());
        }
        self.follow_active = Some((every, Instant::now()));
        let active = self.runtime.block_on(async {
            let client = self.pool.get().await?;
            schema::active(&**client).await
        });
        let active = match active {
            Ok(Some(active)) if &active != self.projection.schema() => active,
            Ok(_) => return Ok(()),
            Err(error) => {
                tracing::warn!(error = format!("{error:#}"), "cannot read read_meta.active");
                return Ok(());
            }
        };
        tracing::info!(from = %self.projection.schema(), to = %active, "following the flip to a new read schema");
        self.projection = self.projection.on_schema(active);
        self.reseek()
    }
}
