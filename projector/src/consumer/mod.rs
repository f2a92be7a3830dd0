//! The consumer loop: poll → collect a batch (bounded by count and by time) → apply it in one
//! transaction with the checkpoint → copy the offsets to Kafka, which only feeds lag-based
//! autoscaling (correctness never reads them back).
//!
//! The loop runs on a thread of its own, not on a runtime worker: librdkafka calls the
//! rebalance callback from `poll`, and that callback must read checkpoints before it returns.
//! Database calls from this thread go through `Handle::block_on`.

mod commit;
pub mod context;
mod lag;
mod resume;

use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};

use anyhow::Context;
use deadpool_postgres::Pool;
use kafka::{DecodedEvent, KafkaSettings};
use rdkafka::{
    Message,
    consumer::{BaseConsumer, Consumer},
};
use tokio::{runtime::Handle, sync::watch};

use self::{
    context::ProjectorContext,
    lag::{CatchUp, LagSampler},
    resume::Resume,
};
use crate::{apply::Projection, metrics as m, schema::ReadSchema, settings::ConsumerSettings};

/// How long an idle poll waits: bounds how late the loop notices SIGTERM or a flip.
const IDLE_POLL: Duration = Duration::from_millis(200);
/// Once a batch has an event, how long a poll waits for the next before the batch is applied.
/// librdkafka fetches ahead, so under load the next message is already local and batches fill
/// up; a lone event is applied at once instead of waiting out `batch_max_wait` (which cost
/// every quiet write 50 ms of freshness).
const DRAINED: Duration = Duration::from_millis(2);

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
}

/// Why the loop returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finish {
    /// Asked to stop; the last batch was committed (or rolled back if the database was down).
    Stopped,
    /// Reached the watermarks seen at start (only with `stop_when_caught_up`).
    CaughtUp,
}

/// Consumes until `shutdown` turns true (or, for rebuilds, until caught up), then leaves the
/// group. Blocking: call it from a thread that is not a runtime worker.
pub fn run(
    options: Options,
    pool: Pool,
    runtime: Handle,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<Finish> {
    let settings = &options.settings;
    let session_ms = settings.session_timeout.as_millis().max(1);
    let context = ProjectorContext::new(
        runtime.clone(),
        pool.clone(),
        options.schema.clone(),
        shutdown.clone(),
        settings.resume_rewind,
    );
    let consumer: BaseConsumer<ProjectorContext> = options
        .kafka
        .client_config()
        .set("group.id", &settings.group_id)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        // Partitions are always assigned with an offset; this only applies when that offset is
        // out of range (a rewind below the log start): start at the earliest, skip up to the
        // checkpoint.
        .set("auto.offset.reset", "earliest")
        .set("session.timeout.ms", session_ms.to_string())
        .set(
            "fetch.wait.max.ms",
            settings
                .fetch_max_wait
                .as_millis()
                .clamp(1, 1000)
                .to_string(),
        )
        .set(
            "heartbeat.interval.ms",
            (session_ms / 4).clamp(1, 3000).to_string(),
        )
        .set(
            "statistics.interval.ms",
            settings
                .lag_sample_interval
                .as_millis()
                .max(100)
                .to_string(),
        )
        .create_with_context(context)
        .context("creating the Kafka consumer")?;
    let topics = options.kafka.topics.clone();
    consumer
        .subscribe(&topics.all())
        .context("subscribing to the event topics")?;
    let catch_up = if options.stop_when_caught_up {
        Some(CatchUp::snapshot(&consumer, &topics)?)
    } else {
        None
    };
    let mut consumer_loop = Loop {
        lag: LagSampler::new(topics.clone(), settings.lag_sample_interval),
        projection: Projection::new(options.schema.clone(), topics),
        follow_active: options.follow_active.map(|every| (every, Instant::now())),
        settings: options.settings.clone(),
        consumer,
        runtime,
        pool,
        shutdown,
        catch_up,
        resume: Resume::new(settings.resume_rewind),
        generation: 0,
        positions: BTreeMap::new(),
        batch: Batch::default(),
    };
    let finish = consumer_loop.run();
    // Dropping the consumer closes it: the revocation callback runs, the group is left at once
    // (no session timeout to wait out), and the other replicas take the partitions.
    drop(consumer_loop);
    tracing::info!(?finish, "consumer closed");
    finish
}

type Positions = BTreeMap<(String, i32), i64>;

/// Asked to stop: `true` was sent, or the sender is gone (its owner ended without saying so,
/// e.g. a runtime shutting down; looping on would keep the process from exiting).
fn stopping(shutdown: &watch::Receiver<bool>) -> bool {
    *shutdown.borrow() || shutdown.has_changed().is_err()
}

/// The batch being collected: decoded events, and per partition the offset after its last
/// message (undecodable messages move that too, so a poison message is passed, not retried).
#[derive(Debug, Default)]
struct Batch {
    events: Vec<DecodedEvent>,
    next: Positions,
    messages: usize,
}

struct Loop {
    consumer: BaseConsumer<ProjectorContext>,
    runtime: Handle,
    pool: Pool,
    projection: Projection,
    settings: ConsumerSettings,
    shutdown: watch::Receiver<bool>,
    follow_active: Option<(Duration, Instant)>,
    catch_up: Option<CatchUp>,
    lag: LagSampler,
    resume: Resume,
    /// The assignment generation `positions` belongs to.
    generation: u64,
    /// Checkpoint of every owned partition, as this loop last read or wrote it.
    positions: Positions,
    batch: Batch,
}

impl Loop {
    fn run(&mut self) -> anyhow::Result<Finish> {
        loop {
            if stopping(&self.shutdown) {
                return Ok(Finish::Stopped);
            }
            self.collect();
            let idle = self.batch.messages == 0;
            if !idle {
                self.apply();
            }
            let highs = self.consumer.context().high_watermarks();
            self.lag.maybe_sample(&highs, &self.positions);
            for ((topic, partition), offset) in self.resume.stalled(&highs, &self.positions) {
                if let Err(error) =
                    self.consumer
                        .seek(&topic, partition, offset, Duration::from_secs(10))
                {
                    tracing::error!(%error, topic, partition, "seeking further back failed");
                }
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
                None => {
                    // A rebalance returns from poll without a message: drop what was collected.
                    if self.sync_assignment() {
                        first_at = None;
                    } else {
                        // Idle, or nothing more fetched: apply what there is now.
                        break;
                    }
                }
                Some(Err(error)) => {
                    tracing::warn!(%error, "consumer error");
                    if first_at.is_none() {
                        break;
                    }
                }
                Some(Ok((key, offset, decoded))) => {
                    let Some(from) = self.batch.next.get(&key).or(self.positions.get(&key)) else {
                        continue; // fetched before its partition was revoked
                    };
                    let from = *from;
                    if let Some(checkpoint) = self.positions.get(&key).copied()
                        && let Some(again) = self.resume.check(&key, offset, checkpoint)
                    {
                        if let Err(error) =
                            self.consumer
                                .seek(&key.0, key.1, again, Duration::from_secs(10))
                        {
                            tracing::error!(%error, "seeking further back failed");
                        }
                        continue;
                    }
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
                    self.batch.next.insert(key, offset + 1);
                    self.batch.messages += 1;
                    first_at.get_or_insert_with(Instant::now);
                }
            }
        }
    }

    /// Adopts a new assignment from the rebalance callback; true if there was one (and the
    /// batch in collection was dropped: none of it was written).
    fn sync_assignment(&mut self) -> bool {
        let assignment = self.consumer.context().assignment();
        if assignment.generation == self.generation {
            return false;
        }
        if self.batch.messages > 0 {
            tracing::info!(
                messages = self.batch.messages,
                "rebalance: dropping the batch in collection; the partitions' owners start at the checkpoints"
            );
        }
        self.batch = Batch::default();
        self.generation = assignment.generation;
        self.positions = assignment.positions;
        self.resume.restarted(&self.positions);
        true
    }
}
