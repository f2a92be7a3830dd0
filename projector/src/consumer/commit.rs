//! The other half of the loop: committing a batch (with retries, fencing and the copy of the
//! offsets to Kafka), and moving partitions back to their checkpoints after a fenced batch or
//! a flip of the active read schema.

use std::time::{Duration, Instant};

use anyhow::Context;
use rdkafka::{
    Offset, TopicPartitionList,
    consumer::{CommitMode, Consumer},
};

use super::{Batch, Loop};
use crate::{
    apply::{ApplyError, CheckpointMove, Projection},
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
            .map(|((topic, partition), next)| CheckpointMove {
                topic: topic.clone(),
                partition: *partition,
                expected: Some(
                    self.positions
                        .get(&(topic.clone(), *partition))
                        .copied()
                        .unwrap_or(0),
                ),
                next_offset: *next,
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
                    self.lag.applied(&outcome);
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
            if super::stopping(&self.shutdown) {
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
            anyhow::Ok(crate::checkpoint::load(&**client, &schema, &topics.all()).await?)
        })?;
        for ((topic, partition), at) in self.positions.iter_mut() {
            *at = stored
                .get(&(topic.clone(), *partition))
                .copied()
                .unwrap_or(0);
            self.consumer
                .seek(
                    topic,
                    *partition,
                    self.resume.start(*at),
                    Duration::from_secs(10),
                )
                .with_context(|| format!("seeking {topic}/{partition}"))?;
        }
        self.resume.restarted(&self.positions);
        Ok(())
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
        self.projection = Projection::new(active.clone(), self.projection.topics().clone());
        self.consumer.context().set_schema(active);
        self.reseek()
    }
}
