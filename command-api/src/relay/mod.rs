//! The outbox relay: publishes every committed event to Kafka, in order per aggregate, and only
//! then removes it from the outbox. It belongs to the write side because it reads the outbox;
//! Kafka is only its transport.
//!
//! Exactly one replica relays at a time. Each one tries to take a session-level advisory lock on
//! a dedicated connection; the holder LISTENs on that same connection for commit notifications,
//! and if its process or connection dies PostgreSQL releases the lock and a standby takes over
//! within `standby_poll`. A crash between the broker's acknowledgement and the outbox delete
//! re-sends the batch: duplicates are possible on the wire, loss is not.
//!
//! It also notices when the broker lost what was published (see [`lost_log`]) and queues the
//! topic's history again, so Kafka can always be rebuilt from the event store; the operator's
//! `command-api republish` queues history the same way.

pub mod lost_log;
pub mod publish;

use std::time::{Duration, Instant};

use anyhow::Context;
use deadpool_postgres::Pool;
use futures::StreamExt;
use kafka::{KafkaSettings, probe::BrokerProbe, producer::idempotent_producer};
use rdkafka::producer::{FutureProducer, Producer};
use tokio::sync::{mpsc, watch};
use tokio_postgres::AsyncMessage;

pub use self::publish::outgoing;
use self::{
    lost_log::Published,
    publish::{Landed, send_and_await_acks},
};
use crate::metrics as m;

/// Advisory lock key held by the active relay.
pub const RELAY_LOCK: i64 = 0x4343_5245_4c41_5901;

#[derive(Debug, Clone)]
pub struct RelayOptions {
    /// Events published per round trip.
    pub batch_size: i64,
    /// How often a standby retries the lock, and the active relay polls without a notification.
    pub standby_poll: Duration,
    pub idle_poll: Duration,
    /// How often the active relay checks that the broker still has what it published.
    pub log_check: Duration,
}

impl Default for RelayOptions {
    fn default() -> Self {
        Self {
            batch_size: 500,
            standby_poll: Duration::from_secs(1),
            idle_poll: Duration::from_millis(500),
            log_check: Duration::from_secs(10),
        }
    }
}

pub struct Relay {
    pool: Pool,
    db_config: platform::db::PgTarget,
    settings: KafkaSettings,
    producer: FutureProducer,
    probe: BrokerProbe,
    options: RelayOptions,
    /// What the active relay knows it published; loaded when it takes the lock.
    published: Published,
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relay")
            .field("topics", &self.settings.topics)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Relay {
    pub fn new(
        pool: Pool,
        db_config: platform::db::PgTarget,
        settings: KafkaSettings,
        options: RelayOptions,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            producer: idempotent_producer(&settings)?,
            probe: BrokerProbe::new(&settings)?,
            pool,
            db_config,
            settings,
            options,
            published: Published::new(),
        })
    }

    /// Relays until `shutdown` turns true, then flushes the producer. Errors (lost connection,
    /// broker down) are logged and retried; the loop only ends on shutdown.
    pub async fn run(mut self, mut shutdown: watch::Receiver<bool>) {
        while !*shutdown.borrow() {
            match self.lead_while_holding_lock(&mut shutdown).await {
                Ok(true) => tracing::info!("relay stepped down"),
                Ok(false) => {}
                Err(error) => {
                    metrics::counter!(m::RELAY_PUBLISH_FAILURES).increment(1);
                    tracing::warn!(error = format!("{error:#}"), "relay error; retrying");
                    self.renew_producer();
                }
            }
            metrics::gauge!(m::RELAY_ACTIVE).set(0.0);
            tokio::select! {
                _ = shutdown.changed() => {}
                () = tokio::time::sleep(self.options.standby_poll) => {}
            }
        }
        let producer = self.producer.clone();
        let _ = tokio::task::spawn_blocking(move || producer.flush(Duration::from_secs(10))).await;
        tracing::info!("relay stopped");
    }

    /// A new producer after a failed batch: the old one may be fenced for good (an idempotent
    /// producer whose broker restarted and forgot its id), and a fresh one asks for a new id.
    /// Nothing is lost: the failed batch is still in the outbox.
    fn renew_producer(&mut self) {
        match idempotent_producer(&self.settings) {
            Ok(producer) => self.producer = producer,
            Err(error) => tracing::error!(error = format!("{error:#}"), "renewing the producer"),
        }
    }

    /// Takes the lock if free and relays until shutdown or a lost connection. Returns whether
    /// this replica was the leader.
    async fn lead_while_holding_lock(
        &mut self,
        shutdown: &mut watch::Receiver<bool>,
    ) -> anyhow::Result<bool> {
        let (client, mut connection) = platform::db::connect_dedicated(&self.db_config).await?;
        let (notify_tx, mut notifications) = mpsc::unbounded_channel();
        // Drive the dedicated connection and forward its notifications; the channel closing
        // means the connection (and with it the lock) is gone.
        let driver = tokio::spawn(async move {
            let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
            while let Some(Ok(message)) = messages.next().await {
                if let AsyncMessage::Notification(_) = message
                    && notify_tx.send(()).is_err()
                {
                    break;
                }
            }
        });
        let leader: bool = client
            .query_one("SELECT pg_try_advisory_lock($1)", &[&RELAY_LOCK])
            .await
            .context("trying the relay lock")?
            .get(0);
        if !leader {
            driver.abort();
            return Ok(false);
        }
        client
            .batch_execute(&format!("LISTEN {}", store::OUTBOX_CHANNEL))
            .await
            .context("listening for outbox notifications")?;
        metrics::gauge!(m::RELAY_ACTIVE).set(1.0);
        tracing::info!("this replica is now the active relay");
        self.ensure_topics().await;
        self.published = {
            let client = self.pool.get().await.context("getting a connection")?;
            store::publication::offsets(&**client).await?
        };
        self.check_for_emptied_partitions().await?;
        let mut last_check = Instant::now();
        loop {
            // Drain fully before waiting, so a burst is published in consecutive batches.
            while self.publish_pending_once().await? == self.options.batch_size as usize {}
            self.record_backlog().await;
            if last_check.elapsed() >= self.options.log_check {
                self.check_for_emptied_partitions().await?;
                last_check = Instant::now();
            }
            tokio::select! {
                _ = shutdown.changed() => break,
                notified = notifications.recv() => {
                    if notified.is_none() {
                        anyhow::bail!("lost the relay's database connection");
                    }
                    // Coalesce a burst of notifications into one drain.
                    while notifications.try_recv().is_ok() {}
                }
                () = tokio::time::sleep(self.options.idle_poll) => {}
            }
        }
        driver.abort();
        Ok(true)
    }

    /// Publishes one batch and removes it from the outbox; returns how many events went out.
    pub async fn publish_pending_once(&mut self) -> anyhow::Result<usize> {
        let (pending, landed) = self.produce_pending().await?;
        if pending.is_empty() {
            return Ok(0);
        }
        let positions: Vec<i64> = pending.iter().map(|e| e.position).collect();
        let lost = lost_log::truncated_topics(&self.published, &landed);
        let moves = lost_log::advanced(&landed);
        let mut client = self.pool.get().await.context("getting a connection")?;
        let tx = client.transaction().await.context("starting the mark")?;
        store::outbox::mark_published(&*tx, &positions).await?;
        for topic in &lost {
            self.requeue_topic(
                &tx,
                topic,
                "an acknowledgement landed below the published offset",
            )
            .await?;
        }
        store::publication::advance(&*tx, &moves).await?;
        tx.commit().await.context("committing the mark")?;
        for topic in &lost {
            self.published.retain(|(t, _), _| t != topic);
        }
        for (topic, partition, next) in moves {
            let slot = self.published.entry((topic, partition)).or_insert(0);
            *slot = (*slot).max(next);
        }
        Ok(pending.len())
    }

    /// Sends the oldest pending events and waits for every acknowledgement, without touching
    /// the outbox. Public so the crash tests can stop between the two steps.
    pub async fn produce_pending(
        &self,
    ) -> anyhow::Result<(Vec<store::RecordedEvent>, Vec<Landed>)> {
        let pending = {
            let client = self.pool.get().await.context("getting a connection")?;
            store::outbox::pending(&**client, self.options.batch_size).await?
        };
        let landed = send_and_await_acks(&self.producer, &self.settings.topics, &pending).await?;
        Ok((pending, landed))
    }

    /// Creates missing topics (only the leader does). Where the platform owns them (KafkaTopic
    /// resources, no Create ACL) this fails harmlessly and publishing goes on; if a topic really
    /// is missing, produce fails and the events wait in the outbox. Run at every log check too:
    /// a broker that lost its topics gets them back before anything is published to it.
    async fn ensure_topics(&self) {
        if let Err(error) = kafka::admin::ensure_topics(&self.settings).await {
            tracing::warn!(
                error = format!("{error:#}"),
                "could not create topics; assuming they exist"
            );
        }
    }

    /// Queues the history of every topic with a partition the broker now reports empty,
    /// although we published to it.
    async fn check_for_emptied_partitions(&mut self) -> anyhow::Result<()> {
        self.ensure_topics().await;
        let mut lost = std::collections::BTreeSet::new();
        for ((topic, partition), next) in &self.published {
            if lost.contains(topic) {
                continue;
            }
            // A broker that does not answer has not thereby lost anything: check next time.
            let Ok((_, high)) = self.probe.watermarks(topic, *partition).await else {
                continue;
            };
            if lost_log::emptied(*next, high) {
                lost.insert(topic.clone());
            }
        }
        if lost.is_empty() {
            return Ok(());
        }
        let mut client = self.pool.get().await.context("getting a connection")?;
        let tx = client.transaction().await.context("starting the requeue")?;
        for topic in &lost {
            self.requeue_topic(&tx, topic, "a partition we published to is empty")
                .await?;
        }
        tx.commit().await.context("committing the requeue")?;
        self.published.retain(|(topic, _), _| !lost.contains(topic));
        Ok(())
    }

    /// Forgets the topic's offsets and queues its whole history again, in `tx`.
    async fn requeue_topic(
        &self,
        tx: &tokio_postgres::Transaction<'_>,
        topic: &str,
        why: &str,
    ) -> anyhow::Result<()> {
        let Some(stream_type) = self.settings.topics.stream_type_of(topic) else {
            return Ok(());
        };
        store::publication::forget_topic(tx, topic).await?;
        let head = store::publication::head_position(tx).await?;
        let queued = store::publication::requeue(tx, Some(stream_type), 1, head).await?;
        metrics::counter!(m::RELAY_LOG_LOSSES, "topic" => topic.to_owned()).increment(1);
        tracing::error!(
            topic,
            reason = why,
            queued,
            "the broker lost this topic's log; publishing its history again from the event store"
        );
        Ok(())
    }

    async fn record_backlog(&self) {
        let Ok(client) = self.pool.get().await else {
            return;
        };
        if let Ok((count, oldest_age)) = store::outbox::backlog(&**client).await {
            metrics::gauge!(m::RELAY_OUTBOX_BACKLOG).set(count as f64);
            metrics::gauge!(m::RELAY_OUTBOX_OLDEST_AGE).set(oldest_age);
        }
    }
}
