//! The consumer's rebalance callback: an assigned partition starts at the offset stored in the
//! read schema's checkpoint table, never at Kafka's committed offset; a revoked one is let go.
//!
//! librdkafka runs this callback inside `poll`, on the consumer loop's own thread, between two
//! batches: the loop never polls while a batch transaction is open. So a revocation can only
//! find a batch that is still being collected (nothing written yet); the loop sees the new
//! assignment generation and drops it ("rolls it back"), and the partition's next owner starts
//! from the checkpoint, which is exactly where that batch would have started.
//!
//! Fetching starts `resume_rewind` messages before the checkpoint, and the loop skips
//! everything below it. Kafka serves any offset and the rewind only costs re-reading a few
//! messages once per assignment; but a broker that can only fetch from a record-batch boundary
//! (the Tansu test and dev broker returns nothing for an offset inside a multi-record batch)
//! would otherwise never deliver the rest of a batch that a checkpoint splits.

use std::{
    collections::{BTreeMap, HashMap},
    sync::{Mutex, MutexGuard},
    time::Duration,
};

use deadpool_postgres::Pool;
use rdkafka::{
    ClientContext, Offset, Statistics, TopicPartitionList,
    consumer::{BaseConsumer, Consumer, ConsumerContext, RebalanceProtocol},
    error::KafkaResult,
    types::RDKafkaRespErr,
};
use tokio::{runtime::Handle, sync::watch};

use crate::{checkpoint, metrics as m, schema::ReadSchema};

/// The partitions this consumer owns and where each one's checkpoint stood when assigned.
#[derive(Debug, Clone, Default)]
pub struct Assignment {
    /// Bumped by every rebalance: a batch collected under an older generation is dropped.
    pub generation: u64,
    pub positions: BTreeMap<(String, i32), i64>,
}

#[derive(Debug)]
pub struct ProjectorContext {
    runtime: Handle,
    pool: Pool,
    schema: Mutex<ReadSchema>,
    shutdown: watch::Receiver<bool>,
    resume_rewind: i64,
    assignment: Mutex<Assignment>,
    /// High watermark per partition from librdkafka's statistics (fetch responses carry it),
    /// so sampling lag costs no broker round trip on the consumer thread.
    high_watermarks: Mutex<BTreeMap<(String, i32), i64>>,
}

/// Where to start fetching a partition whose checkpoint is `next` (absent: never consumed).
pub fn fetch_start(next: Option<i64>, rewind: i64) -> Offset {
    match next {
        Some(next) if next > rewind => Offset::Offset(next - rewind),
        _ => Offset::Beginning,
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding these locks leaves plain data behind, still usable.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl ProjectorContext {
    pub fn new(
        runtime: Handle,
        pool: Pool,
        schema: ReadSchema,
        shutdown: watch::Receiver<bool>,
        resume_rewind: i64,
    ) -> Self {
        Self {
            runtime,
            pool,
            schema: Mutex::new(schema),
            shutdown,
            resume_rewind: resume_rewind.max(0),
            assignment: Mutex::new(Assignment::default()),
            high_watermarks: Mutex::new(BTreeMap::new()),
        }
    }

    pub fn assignment(&self) -> Assignment {
        lock(&self.assignment).clone()
    }

    /// The latest high watermarks reported by librdkafka's statistics.
    pub fn high_watermarks(&self) -> BTreeMap<(String, i32), i64> {
        lock(&self.high_watermarks).clone()
    }

    /// The schema whose checkpoints later assignments start from (the live loop follows a flip).
    pub fn set_schema(&self, schema: ReadSchema) {
        *lock(&self.schema) = schema;
    }

    fn assign(&self, consumer: &BaseConsumer<Self>, tpl: &mut TopicPartitionList, eager: bool) {
        metrics::counter!(m::REBALANCES, "kind" => "assign").increment(1);
        let partitions: Vec<(String, i32)> = tpl
            .elements()
            .iter()
            .map(|e| (e.topic().to_owned(), e.partition()))
            .collect();
        let Some(stored) = self.stored_positions(&partitions) else {
            // Shutting down while the database is unreachable: take nothing, leave soon.
            report(eager.then(|| consumer.assign(&TopicPartitionList::new())));
            return;
        };
        for (topic, partition) in &partitions {
            let next = stored.get(&(topic.clone(), *partition)).copied();
            let offset = fetch_start(next, self.resume_rewind);
            report(Some(tpl.set_partition_offset(topic, *partition, offset)));
        }
        report(Some(if eager {
            consumer.assign(tpl)
        } else {
            consumer.incremental_assign(tpl)
        }));
        let mut assignment = lock(&self.assignment);
        if eager {
            assignment.positions.clear();
        }
        for key in partitions {
            let at = stored.get(&key).copied().unwrap_or(0);
            assignment.positions.insert(key, at);
        }
        assignment.generation += 1;
        metrics::gauge!(m::ASSIGNED_PARTITIONS).set(assignment.positions.len() as f64);
        tracing::info!(partitions = ?assignment.positions, "partitions assigned at their checkpoints");
    }

    fn revoke(&self, consumer: &BaseConsumer<Self>, tpl: &TopicPartitionList, eager: bool) {
        metrics::counter!(m::REBALANCES, "kind" => "revoke").increment(1);
        let mut assignment = lock(&self.assignment);
        if eager {
            assignment.positions.clear();
            report(Some(consumer.unassign()));
        } else {
            for e in tpl.elements() {
                assignment
                    .positions
                    .remove(&(e.topic().to_owned(), e.partition()));
            }
            report(Some(consumer.incremental_unassign(tpl)));
        }
        assignment.generation += 1;
        metrics::gauge!(m::ASSIGNED_PARTITIONS).set(assignment.positions.len() as f64);
        tracing::info!(revoked = tpl.count(), "partitions revoked");
    }

    /// The checkpoints of `partitions`, retried until the database answers; `None` if the
    /// process is asked to stop first. Blocking here is safe: this thread is not a runtime
    /// worker, and librdkafka keeps heartbeating from its own threads meanwhile.
    fn stored_positions(
        &self,
        partitions: &[(String, i32)],
    ) -> Option<HashMap<(String, i32), i64>> {
        let mut topics: Vec<&str> = partitions.iter().map(|(t, _)| t.as_str()).collect();
        topics.sort_unstable();
        topics.dedup();
        let mut delay = Duration::from_millis(100);
        loop {
            let schema = lock(&self.schema).clone();
            let loaded = self.runtime.block_on(async {
                let client = self.pool.get().await?;
                anyhow::Ok(checkpoint::load(&**client, &schema, &topics).await?)
            });
            match loaded {
                Ok(stored) => return Some(stored),
                Err(error) => {
                    tracing::warn!(
                        error = format!("{error:#}"),
                        "cannot load checkpoints; retrying"
                    );
                    if super::stopping(&self.shutdown) {
                        return None;
                    }
                    std::thread::sleep(delay);
                    delay = (delay * 2).min(Duration::from_secs(5));
                }
            }
        }
    }
}

/// librdkafka errors inside the callback cannot be returned anywhere; they are logged.
fn report(result: Option<KafkaResult<()>>) {
    if let Some(Err(error)) = result {
        tracing::error!(%error, "rebalance step failed");
    }
}

impl ClientContext for ProjectorContext {
    /// Called from `poll` every `statistics.interval.ms`.
    fn stats(&self, statistics: Statistics) {
        let mut highs = lock(&self.high_watermarks);
        for (name, topic) in statistics.topics {
            for (id, partition) in topic.partitions {
                // -1 is librdkafka's internal "unassigned" partition; -1001 means unknown.
                if id >= 0 && partition.hi_offset >= 0 {
                    highs.insert((name.clone(), id), partition.hi_offset);
                }
            }
        }
    }
}

impl ConsumerContext for ProjectorContext {
    fn rebalance(
        &self,
        consumer: &BaseConsumer<Self>,
        err: RDKafkaRespErr,
        tpl: &mut TopicPartitionList,
    ) {
        let eager = !matches!(
            consumer.rebalance_protocol(),
            RebalanceProtocol::Cooperative
        );
        match err {
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS => {
                self.assign(consumer, tpl, eager)
            }
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS => {
                self.revoke(consumer, tpl, eager)
            }
            other => {
                // librdkafka's advice for a failed rebalance: drop the assignment and rejoin.
                metrics::counter!(m::REBALANCES, "kind" => "error").increment(1);
                tracing::error!(error = ?other, "rebalance failed; dropping the assignment");
                let mut assignment = lock(&self.assignment);
                assignment.positions.clear();
                assignment.generation += 1;
                report(Some(consumer.unassign()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use rdkafka::Offset;

    use super::fetch_start;

    #[test]
    fn fetching_starts_a_rewind_before_the_checkpoint_and_never_before_the_log() {
        assert_eq!(fetch_start(None, 1000), Offset::Beginning);
        assert_eq!(fetch_start(Some(400), 1000), Offset::Beginning);
        assert_eq!(fetch_start(Some(5000), 1000), Offset::Offset(4000));
        assert_eq!(fetch_start(Some(5000), 0), Offset::Offset(5000));
    }
}
