//! The consumer loop: review which partitions this replica owns (`ownership`: leases in
//! PostgreSQL, not the broker's group coordinator) → poll → collect a batch (bounded by count
//! and by time) → apply it in one transaction with the checkpoint → copy the offsets to Kafka,
//! which only feeds lag-based autoscaling (correctness never reads them back).
//!
//! The loop runs on a thread of its own, not on a runtime worker: librdkafka's `poll` blocks.
//! Database calls from this thread go through `Handle::block_on`.

pub mod catch_up;
mod commit;
pub mod context;
pub mod ownership;
pub mod positions;
pub mod resume;
pub mod stop;

use std::time::{Duration, Instant};

use anyhow::Context;
use deadpool_postgres::Pool;
use kafka::{DecodedEvent, KafkaSettings};
use rdkafka::{
    Message,
    consumer::{BaseConsumer, Consumer},
};
use read_model::ReadSchema;
use tokio::{runtime::Handle, sync::watch};
use uuid::Uuid;

use self::{
    catch_up::CatchUp,
    context::ProjectorContext,
    ownership::Ownership,
    positions::{Key, Positions},
    resume::{Resume, Verdict},
    stop::stopping,
};
use crate::{apply::Projection, metrics as m, settings::ConsumerSettings};

/// How long an idle poll waits: bounds how late the loop notices SIGTERM, a flip or a lease.
const IDLE_POLL: Duration = Duration::from_millis(200);
/// Once a batch has an event, how long a poll waits for the next before the batch is applied.
/// librdkafka fetches ahead, so under load the next message is already local and batches fill
/// up; a lone event is applied at once instead of waiting out `batch_max_wait` (which cost
/// every quiet write 50 ms of freshness).
const DRAINED: Duration = Duration::from_millis(2);
/// How often the topics' partitions are listed again: a topic created later, partitions added,
/// a topic recreated by the relay after a broker lost it.
const PARTITIONS_REFRESH: Duration = Duration::from_secs(5);
/// How often at most the Kafka client is replaced after broker trouble (`renew_client_if_suspect`).
const RENEW_EVERY: Duration = Duration::from_secs(5);
/// How often librdkafka reports statistics (the high watermarks of fetched partitions).
const STATISTICS_INTERVAL_MS: &str = "1000";

/// What to consume, into which schema, and when to stop.
#[derive(Debug, Clone)]
pub struct Options {
    pub settings: ConsumerSettings,
    pub kafka: KafkaSettings,
    pub schema: ReadSchema,
    /// Live mode: check `read_meta.active` this often and move to a newly activated schema.
    pub follow_active: Option<Duration>,
    /// Rebuild and verify: stop once every partition reached the watermark seen at start.
    pub stop_when_caught_up: bool,
    /// Live replicas share the partitions through leases on this connection; `None` (rebuild,
    /// verify) consumes every partition alone.
    pub leases: Option<platform::db::PgTarget>,
    pub keyring: std::sync::Arc<personal::Keyring>,
}

/// Why the loop returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finish {
    /// Asked to stop; the last batch was committed (or rolled back if the database was down).
    Stopped,
    /// Reached the watermarks seen at start (only with `stop_when_caught_up`).
    CaughtUp,
}

/// Consumes until `shutdown` turns true (or, for rebuilds, until caught up), then lets its
/// partitions go. Blocking: call it from a thread that is not a runtime worker.
pub fn run(
    options: Options,
    pool: Pool,
    runtime: Handle,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<Finish> {
    let settings = &options.settings;
    let consumer = create_consumer(&options.kafka, settings)?;
    let ownership = match options.leases.clone() {
        Some(config) => Ownership::leased(config, &settings.group_id),
        None => Ownership::exclusive(),
    };
    let mut consumer_loop = Loop {
        kafka: options.kafka.clone(),
        suspect_since: None,
        renewed_at: Instant::now(),
        projection: Projection::new(
            options.schema.clone(),
            options.kafka.topics.clone(),
            options.keyring.clone(),
        ),
        follow_active: options.follow_active.map(|every| (every, Instant::now())),
        resume: Resume::new(settings.resume_rewind),
        settings: options.settings.clone(),
        consumer,
        runtime,
        pool,
        shutdown,
        catch_up: None,
        ownership,
        partitions: Vec::new(),
        partitions_listed: None,
        positions: Positions::new(),
        batch: Batch::default(),
    };
    let finish = consumer_loop.start(options.stop_when_caught_up);
    let finish = match finish {
        Ok(()) => consumer_loop.run(),
        Err(error) => Err(error),
    };
    consumer_loop.ownership.release_all(&consumer_loop.runtime);
    metrics::gauge!(m::ASSIGNED_PARTITIONS).set(0.0);
    tracing::info!(?finish, "consumer closed");
    finish
}

/// The Kafka client of the loop. Only for the offsets' copy does it name the group, which it
/// never joins (partitions are assigned by `ownership`).
fn create_consumer(
    kafka: &KafkaSettings,
    settings: &ConsumerSettings,
) -> anyhow::Result<BaseConsumer<ProjectorContext>> {
    kafka
        .client_config()
        .set("group.id", &settings.group_id)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        // Partitions are always assigned with an offset; this applies when that offset is out
        // of range: a rewind below the log start, or a checkpoint past a log that was lost.
        .set("auto.offset.reset", "earliest")
        .set(
            "fetch.wait.max.ms",
            settings
                .fetch_max_wait
                .as_millis()
                .clamp(1, 1000)
                .to_string(),
        )
        .set("statistics.interval.ms", STATISTICS_INTERVAL_MS)
        .create_with_context(ProjectorContext::default())
        .context("creating the Kafka consumer")
}

/// The batch being collected: decoded events, and per partition the offset after its last
/// message and that message's event id (undecodable messages move the offset too, so a poison
/// message is passed, not retried).
#[derive(Debug, Default)]
struct Batch {
    events: Vec<DecodedEvent>,
    next: Positions,
    last_ids: std::collections::BTreeMap<Key, Option<Uuid>>,
    messages: usize,
}

struct Loop {
    consumer: BaseConsumer<ProjectorContext>,
    kafka: KafkaSettings,
    /// Since when the client has seen the broker fail or a topic's partitions change (see
    /// `renew_client_if_suspect`).
    suspect_since: Option<Instant>,
    renewed_at: Instant,
    runtime: Handle,
    pool: Pool,
    projection: Projection,
    settings: ConsumerSettings,
    shutdown: watch::Receiver<bool>,
    follow_active: Option<(Duration, Instant)>,
    catch_up: Option<CatchUp>,
    ownership: Ownership,
    /// Every partition of the topics, as last listed.
    partitions: Vec<Key>,
    partitions_listed: Option<Instant>,
    resume: Resume,
    /// Checkpoint of every owned partition, as this loop last read or wrote it.
    positions: Positions,
    batch: Batch,
}

impl Loop {
    /// Lists the partitions (waiting for the broker if it is down); for a rebuild, takes the
    /// watermarks it must reach.
    fn start(&mut self, stop_when_caught_up: bool) -> anyhow::Result<()> {
        let mut delay = Duration::from_millis(200);
        while self.partitions.is_empty() {
            if stopping(&self.shutdown) {
                return Ok(());
            }
            self.list_partitions();
            if self.partitions.is_empty() {
                std::thread::sleep(delay);
                delay = (delay * 2).min(Duration::from_secs(5));
            }
        }
        if stop_when_caught_up {
            self.catch_up = Some(CatchUp::snapshot(&self.consumer, &self.partitions)?);
        }
        Ok(())
    }

    fn run(&mut self) -> anyhow::Result<Finish> {
        loop {
            if stopping(&self.shutdown) {
                return Ok(Finish::Stopped);
            }
            self.review_ownership();
            self.renew_client_if_suspect();
            self.collect();
            let idle = self.batch.messages == 0;
            if !idle {
                self.apply();
            }
            let highs = self.consumer.context().high_watermarks();
            for (key, verdict) in self.resume.review(&highs) {
                self.act(&key, verdict);
            }
            if let Some(catch_up) = &mut self.catch_up {
                let fraction = catch_up.progress(&self.positions);
                let schema = self.projection.schema().to_string();
                metrics::gauge!(m::REBUILD_PROGRESS, "schema" => schema).set(fraction);
                if catch_up.done(idle) {
                    return Ok(Finish::CaughtUp);
                }
            }
            self.follow_active()?;
        }
    }

    /// Every partition of the topics, from the broker's metadata; kept as it was when the
    /// broker does not answer.
    fn list_partitions(&mut self) {
        let mut listed = Vec::new();
        for topic in self.projection.topics().all() {
            match self
                .consumer
                .fetch_metadata(Some(topic), Duration::from_secs(5))
            {
                Ok(metadata) => listed.extend(
                    metadata
                        .topics()
                        .iter()
                        .filter(|t| t.name() == topic && t.error().is_none())
                        .flat_map(|t| t.partitions().iter().map(|p| (topic.to_owned(), p.id()))),
                ),
                Err(error) => {
                    tracing::warn!(%error, topic, "cannot list the topic's partitions");
                    return;
                }
            }
        }
        listed.sort();
        if !self.partitions.is_empty() && listed != self.partitions {
            tracing::warn!(before = ?self.partitions, now = ?listed, "the topics' partitions changed");
            self.suspect_since.get_or_insert_with(Instant::now);
        }
        self.partitions = listed;
        self.partitions_listed = Some(Instant::now());
    }

    /// Takes up partitions the leases gave this replica and lets go of those they took away.
    fn review_ownership(&mut self) {
        if self
            .partitions_listed
            .is_none_or(|at| at.elapsed() >= PARTITIONS_REFRESH)
        {
            self.list_partitions();
        }
        let change = self.ownership.review(&self.runtime, &self.partitions);
        if !change.lost.is_empty() {
            let mut released = rdkafka::TopicPartitionList::new();
            for key in &change.lost {
                released.add_partition(&key.0, key.1);
                self.positions.remove(key);
                self.resume.forget(key);
            }
            if let Err(error) = self.consumer.incremental_unassign(&released) {
                tracing::error!(%error, "unassigning partitions failed");
            }
            tracing::info!(partitions = ?change.lost, "partitions released");
        }
        if !change.gained.is_empty() {
            self.take_up(&change.gained);
        }
        if !change.lost.is_empty() || !change.gained.is_empty() {
            metrics::counter!(m::REBALANCES, "kind" => "lease").increment(1);
            metrics::gauge!(m::ASSIGNED_PARTITIONS).set(self.positions.len() as f64);
        }
    }

    /// Starts consuming `keys` at their stored checkpoints (retrying the read until the
    /// database answers or the loop is asked to stop).
    fn take_up(&mut self, keys: &[Key]) {
        let Some(stored) = self.stored_checkpoints() else {
            return;
        };
        let mut assigned = rdkafka::TopicPartitionList::new();
        for key in keys {
            let checkpoint = stored.get(key).cloned().unwrap_or_default();
            self.consumer.context().forget(key);
            let start = self.resume.start(checkpoint.next_offset);
            if assigned.add_partition_offset(&key.0, key.1, start).is_err() {
                continue;
            }
            self.positions.insert(key.clone(), checkpoint.next_offset);
            self.resume.begin(
                key.clone(),
                checkpoint.next_offset,
                checkpoint.last_event_id,
            );
        }
        if let Err(error) = self.consumer.incremental_assign(&assigned) {
            tracing::error!(%error, "assigning partitions failed");
        }
        let at: Positions = keys
            .iter()
            .filter_map(|key| Some((key.clone(), *self.positions.get(key)?)))
            .collect();
        tracing::info!(partitions = ?at, "partitions taken up at their checkpoints");
    }

    fn stored_checkpoints(
        &self,
    ) -> Option<std::collections::HashMap<Key, crate::apply::checkpoint::Stored>> {
        let topics = self.projection.topics().clone();
        let mut delay = Duration::from_millis(100);
        loop {
            let schema = self.projection.schema().clone();
            let loaded = self.runtime.block_on(async {
                let client = self.pool.get().await?;
                anyhow::Ok(crate::apply::checkpoint::load(&**client, &schema, &topics.all()).await?)
            });
            match loaded {
                Ok(stored) => return Some(stored),
                Err(error) => {
                    tracing::warn!(
                        error = format!("{error:#}"),
                        "cannot load checkpoints; retrying"
                    );
                    if stopping(&self.shutdown) {
                        return None;
                    }
                    std::thread::sleep(delay);
                    delay = (delay * 2).min(Duration::from_secs(5));
                }
            }
        }
    }

    /// Replaces the Kafka client by a fresh one, at most every [`RENEW_EVERY`], once it has seen
    /// the broker fail or a topic's partitions change, and takes the owned partitions up again at
    /// their checkpoints. Why: a broker that restarts empty gets its topics back with new topic
    /// ids, and librdkafka 2.12 can crash (a stale entry in its metadata cache,
    /// confluentinc/librdkafka#4964, #5280) when a client that cached the old id learns the new
    /// one. A fresh client never saw the old id. Costs one re-fetch from the rewind.
    fn renew_client_if_suspect(&mut self) {
        if self.suspect_since.is_none() || self.renewed_at.elapsed() < RENEW_EVERY {
            return;
        }
        let fresh = match create_consumer(&self.kafka, &self.settings) {
            Ok(fresh) => fresh,
            Err(error) => {
                tracing::error!(error = format!("{error:#}"), "renewing the Kafka client");
                return;
            }
        };
        tracing::info!("renewing the Kafka client after broker trouble");
        self.consumer = fresh;
        self.suspect_since = None;
        self.renewed_at = Instant::now();
        self.batch = Batch::default();
        let owned: Vec<Key> = self.positions.keys().cloned().collect();
        for key in &owned {
            self.resume.forget(key);
        }
        self.positions.clear();
        if !owned.is_empty() {
            self.take_up(&owned);
        }
    }

    /// Carries out what `resume` decided for a partition.
    fn act(&mut self, key: &Key, verdict: Verdict) {
        match verdict {
            Verdict::Continue => {}
            Verdict::Seek(offset) => {
                if let Err(error) =
                    self.consumer
                        .seek(&key.0, key.1, offset, Duration::from_secs(10))
                {
                    tracing::error!(%error, topic = key.0, partition = key.1, "seeking further back failed");
                }
            }
            Verdict::Restart => self.restart(key),
        }
    }

    /// Polls until the batch is full, its time is up, the topics are idle, or shutdown.
    fn collect(&mut self) {
        let mut first_at: Option<Instant> = None;
        while self.batch.messages < self.settings.batch_size && !stopping(&self.shutdown) {
            let timeout = match first_at {
                None => IDLE_POLL,
                Some(at) => match self.settings.batch_max_wait.checked_sub(at.elapsed()) {
                    Some(left) if !left.is_zero() => left.min(DRAINED),
                    _ => break,
                },
            };
            // Decoded at once, so the message's borrow of the consumer ends here.
            let polled = self.consumer.poll(timeout).map(|result| {
                result.map(|message| {
                    let key = (message.topic().to_owned(), message.partition());
                    (key, message.offset(), kafka::envelope::decode(&message))
                })
            });
            match polled {
                // Idle, or nothing more fetched: apply what there is now.
                None => break,
                Some(Err(error)) => {
                    tracing::warn!(%error, "consumer error");
                    self.suspect_since.get_or_insert_with(Instant::now);
                    if first_at.is_none() {
                        break;
                    }
                }
                Some(Ok((key, offset, decoded))) => {
                    if !self.positions.contains_key(&key) {
                        continue; // fetched before its partition was released
                    }
                    let event_id = decoded.as_ref().ok().map(|event| event.event_id);
                    let verdict = self.resume.check(&key, offset, event_id);
                    if verdict != Verdict::Continue {
                        // Whatever was collected of this partition is dropped with it.
                        self.batch
                            .events
                            .retain(|e| (e.topic.as_str(), e.partition) != (key.0.as_str(), key.1));
                        self.batch.next.remove(&key);
                        self.batch.last_ids.remove(&key);
                        self.act(&key, verdict);
                        continue;
                    }
                    let from = self
                        .batch
                        .next
                        .get(&key)
                        .or(self.positions.get(&key))
                        .copied()
                        .unwrap_or(0);
                    if offset < from {
                        continue; // below the checkpoint (see `fetch_start`) or already taken
                    }
                    match decoded {
                        Ok(event) => self.batch.events.push(event),
                        Err(error) => {
                            metrics::counter!(m::EVENTS_SKIPPED, "reason" => "undecodable")
                                .increment(1);
                            tracing::warn!(%error, "message without a valid envelope: skipped");
                        }
                    }
                    self.batch.next.insert(key.clone(), offset + 1);
                    self.batch.last_ids.insert(key, event_id);
                    self.batch.messages += 1;
                    first_at.get_or_insert_with(Instant::now);
                }
            }
        }
    }
}
