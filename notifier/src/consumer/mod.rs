//! The consumer loop: stand by until this replica holds the notifier lock (`leadership`), then
//! assign every partition of the user topic to itself, each from the consumer group's committed
//! offset (`resume`), and handle the messages one at a time, in order: a message that fails for
//! a reason that may pass is retried in place with a backoff, never skipped; once handled, its
//! offset is committed to the group.
//!
//! Partitions are assigned, not subscribed: the group is only where offsets are kept. Joining
//! it would let the broker decide who consumes, and the Tansu development broker can leave a
//! restarted member with no partitions for minutes.
//!
//! The loop runs on a thread of its own, not on a runtime worker: librdkafka's `poll` blocks.
//! Database and SMTP calls from this thread go through `Handle::block_on`.

mod assignment;
pub mod context;
pub mod resume;

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::Context;
use kafka::KafkaSettings;
use rdkafka::{
    Message, Offset,
    consumer::{BaseConsumer, CommitMode},
    message::OwnedMessage,
};
use tokio::{runtime::Handle, sync::watch};

use self::{
    context::NotifierContext,
    resume::{Resume, Verdict},
};
use crate::{
    backoff::Backoff, handler::Handler, leadership::Leadership, metrics as m,
    settings::ConsumerSettings, status::Status,
};

/// How long an idle poll waits: bounds how late the loop notices SIGTERM or a lost lock.
const IDLE_POLL: Duration = Duration::from_millis(200);
/// How often the topic's partitions are listed again (a topic created later, partitions added).
const PARTITIONS_REFRESH: Duration = Duration::from_secs(5);
/// How soon the listing is tried again when it failed or found no topic.
const PARTITIONS_RETRY: Duration = Duration::from_secs(1);
/// How often silent partitions are reviewed and the lag reported.
const REVIEW_EVERY: Duration = Duration::from_secs(1);
/// How often at most the Kafka client is replaced after broker trouble.
const RENEW_EVERY: Duration = Duration::from_secs(5);
/// How often librdkafka reports statistics (the lag).
const STATISTICS_INTERVAL_MS: &str = "2000";
/// Longest wait for the broker in a metadata, offsets or commit request.
const BROKER_TIMEOUT: Duration = Duration::from_secs(10);

/// What the loop consumes and how.
#[derive(Debug, Clone)]
pub struct Options {
    pub kafka: KafkaSettings,
    pub settings: ConsumerSettings,
    /// Where the notifier lock is held.
    pub leader: platform::db::PgTarget,
}

/// Why a term as the active replica ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Stopped,
    LostLock,
    /// The Kafka client saw the broker fail or the topic change: go on with a fresh one.
    Renew,
}

/// Consumes until `shutdown` turns true. Blocking: call it from a thread that is not a
/// runtime worker.
pub fn run(
    options: Options,
    handler: Handler,
    runtime: Handle,
    status: Arc<Status>,
    shutdown: watch::Receiver<bool>,
) {
    let mut worker = Worker {
        leadership: Leadership::new(options.leader.clone(), &options.settings.group_id),
        options,
        handler,
        runtime,
        status,
        shutdown,
    };
    let mut standing_by = false;
    while !worker.stopping() {
        match worker.runtime.block_on(worker.leadership.try_acquire()) {
            Ok(true) => {
                standing_by = false;
                worker.status.set_active(true);
                tracing::info!("this replica is now the active notifier");
                let end = worker.lead();
                worker.status.set_active(false);
                worker.runtime.block_on(worker.leadership.release());
                tracing::info!(?end, "no longer the active notifier");
            }
            Ok(false) if !standing_by => {
                standing_by = true;
                tracing::info!("another replica is the active notifier; standing by");
            }
            Ok(false) => {}
            Err(error) => tracing::warn!(
                error = format!("{error:#}"),
                "cannot reach PostgreSQL for the notifier lock"
            ),
        }
        worker.pause(worker.options.settings.standby_poll);
    }
    tracing::info!("consumer stopped");
}

/// Whether the loop was asked to stop (or the sender is gone, which means the same).
fn stopping(shutdown: &watch::Receiver<bool>) -> bool {
    *shutdown.borrow() || shutdown.has_changed().is_err()
}

struct Worker {
    options: Options,
    handler: Handler,
    leadership: Leadership,
    runtime: Handle,
    status: Arc<Status>,
    shutdown: watch::Receiver<bool>,
}

/// One Kafka client's share of a term as the active replica.
struct Term {
    consumer: BaseConsumer<NotifierContext>,
    partitions: BTreeMap<i32, Resume>,
    /// Partitions with a handled message since the last synchronous commit.
    dirty: BTreeSet<i32>,
    list_due: Instant,
    reviewed_at: Instant,
    suspect: bool,
}

impl Worker {
    fn stopping(&self) -> bool {
        stopping(&self.shutdown)
    }

    /// Sleeps `delay` unless asked to stop first; returns whether the loop may go on.
    fn pause(&self, delay: Duration) -> bool {
        let mut shutdown = self.shutdown.clone();
        self.runtime.block_on(async {
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                _ = shutdown.changed() => {}
            }
        });
        !self.stopping()
    }

    /// Consumes while this replica holds the lock, with a fresh Kafka client after broker
    /// trouble.
    fn lead(&mut self) -> End {
        let mut renewed_at: Option<Instant> = None;
        loop {
            if let Some(at) = renewed_at
                && let Some(wait) = RENEW_EVERY.checked_sub(at.elapsed())
                && !self.pause(wait)
            {
                return End::Stopped;
            }
            renewed_at = Some(Instant::now());
            let mut term = match self.term() {
                Ok(term) => term,
                Err(error) => {
                    tracing::error!(error = format!("{error:#}"), "creating the Kafka consumer");
                    continue;
                }
            };
            let end = self.consume(&mut term);
            self.commit_sync(&term);
            if end != End::Renew {
                return end;
            }
            tracing::info!("renewing the Kafka client after broker trouble");
        }
    }

    fn term(&self) -> anyhow::Result<Term> {
        let settings = &self.options.settings;
        let consumer = self
            .options
            .kafka
            .client_config()
            .set("group.id", &settings.group_id)
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            // Applies when an assigned offset is out of range: a log shorter than the offset
            // (replaced) or starting after it. Every event that called for a mail is deduped.
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
            .create_with_context(NotifierContext::default())
            .context("creating the Kafka consumer")?;
        Ok(Term {
            consumer,
            partitions: BTreeMap::new(),
            dirty: BTreeSet::new(),
            list_due: Instant::now(),
            reviewed_at: Instant::now(),
            suspect: false,
        })
    }

    fn consume(&mut self, term: &mut Term) -> End {
        loop {
            if self.stopping() {
                return End::Stopped;
            }
            if !self.runtime.block_on(self.leadership.still_held()) {
                return End::LostLock;
            }
            if Instant::now() >= term.list_due {
                self.assign_new_partitions(term);
            }
            if term.suspect {
                return End::Renew;
            }
            let polled = term
                .consumer
                .poll(IDLE_POLL)
                .map(|result| result.map(|message| message.detach()));
            match polled {
                None => {}
                Some(Err(error)) => {
                    tracing::warn!(%error, "consumer error");
                    term.suspect = true;
                }
                Some(Ok(message)) => {
                    if let Some(end) = self.take(term, &message) {
                        return end;
                    }
                }
            }
            if term.reviewed_at.elapsed() >= REVIEW_EVERY {
                self.review(term);
            }
        }
    }

    /// Handles one delivered message (unless it was handled before); `Some` ends the term.
    fn take(&mut self, term: &mut Term, message: &OwnedMessage) -> Option<End> {
        let (partition, offset) = (message.partition(), message.offset());
        let resume = term.partitions.get_mut(&partition)?;
        match resume.check(offset) {
            Verdict::Skip => return None,
            Verdict::FromBeginning => {
                self.seek(term, partition, Offset::Beginning);
                return None;
            }
            Verdict::Handle => {}
        }
        if let Some(end) = self.handle_with_retries(message) {
            return Some(end);
        }
        if let Some(resume) = term.partitions.get_mut(&partition) {
            resume.handled(offset);
        }
        term.dirty.insert(partition);
        self.commit(term, &[partition], CommitMode::Async);
        None
    }

    /// Handles `message`, retrying failures that may pass with a backoff, in place: nothing
    /// behind it is handled meanwhile. `Some` when stopping or no longer holding the lock
    /// before it was handled (the offset stays, the next active replica retries it).
    fn handle_with_retries(&mut self, message: &OwnedMessage) -> Option<End> {
        let settings = &self.options.settings;
        let mut backoff = Backoff::new(settings.retry_initial, settings.retry_max);
        loop {
            let error = match self.runtime.block_on(self.handler.handle(message)) {
                Ok(()) => return None,
                Err(error) => error,
            };
            metrics::counter!(m::RETRIES).increment(1);
            let delay = backoff.next_delay();
            tracing::warn!(
                %error,
                partition = message.partition(),
                offset = message.offset(),
                retry_in_ms = delay.as_millis() as u64,
                "handling a message failed; retrying it"
            );
            if !self.pause(delay) {
                return Some(End::Stopped);
            }
            if !self.runtime.block_on(self.leadership.still_held()) {
                return Some(End::LostLock);
            }
        }
    }
}
