//! The outbox relay: publishes every committed event to Kafka, in order per aggregate, and only
//! then removes it from the outbox.
//!
//! Exactly one replica relays at a time. Each one tries to take a session-level advisory lock on
//! a dedicated connection; the holder LISTENs on that same connection for commit notifications,
//! and if its process or connection dies PostgreSQL releases the lock and a standby takes over
//! within `standby_poll`. A crash between the broker's acknowledgement and the outbox delete
//! re-sends the batch: duplicates are possible on the wire, loss is not.

use std::time::Duration;

use anyhow::Context;
use chrono::Utc;
use deadpool_postgres::Pool;
use futures::{StreamExt, stream::FuturesOrdered};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use store::RecordedEvent;
use tokio::sync::{mpsc, watch};
use tokio_postgres::AsyncMessage;

use crate::{envelope, metrics as m, producer::idempotent_producer, settings::KafkaSettings};

/// Advisory lock key held by the active relay.
const RELAY_LOCK: i64 = 0x4343_5245_4c41_5901;

#[derive(Debug, Clone)]
pub struct RelayOptions {
    /// Events published per round trip.
    pub batch_size: i64,
    /// How often a standby retries the lock, and the active relay polls without a notification.
    pub standby_poll: Duration,
    pub idle_poll: Duration,
}

impl Default for RelayOptions {
    fn default() -> Self {
        Self {
            batch_size: 500,
            standby_poll: Duration::from_secs(1),
            idle_poll: Duration::from_millis(500),
        }
    }
}

pub struct Relay {
    pool: Pool,
    db_config: tokio_postgres::Config,
    settings: KafkaSettings,
    producer: FutureProducer,
    options: RelayOptions,
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
        db_config: tokio_postgres::Config,
        settings: KafkaSettings,
        options: RelayOptions,
    ) -> anyhow::Result<Self> {
        m::describe();
        let producer = idempotent_producer(&settings)?;
        Ok(Self {
            pool,
            db_config,
            settings,
            producer,
            options,
        })
    }

    /// Relays until `shutdown` turns true, then flushes the producer. Errors (lost connection,
    /// broker down) are logged and retried; the loop only ends on shutdown.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        while !*shutdown.borrow() {
            match self.lead_while_holding_lock(&mut shutdown).await {
                Ok(true) => tracing::info!("relay stepped down"),
                Ok(false) => {}
                Err(error) => {
                    metrics::counter!(m::RELAY_PUBLISH_FAILURES).increment(1);
                    tracing::warn!(error = format!("{error:#}"), "relay error; retrying");
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

    /// Takes the lock if free and relays until shutdown or a lost connection. Returns whether
    /// this replica was the leader.
    async fn lead_while_holding_lock(
        &self,
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
        // Only the leader creates missing topics. Where the platform owns them (KafkaTopic
        // resources, no Create ACL) this fails harmlessly and publishing goes on; if a topic
        // really is missing, produce fails and the events wait in the outbox.
        if let Err(error) = crate::topics::ensure_topics(&self.settings).await {
            tracing::warn!(
                error = format!("{error:#}"),
                "could not create topics; assuming they exist"
            );
        }
        loop {
            // Drain fully before waiting, so a burst is published in consecutive batches.
            while self.publish_pending_once().await? == self.options.batch_size as usize {}
            self.record_backlog().await;
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
    pub async fn publish_pending_once(&self) -> anyhow::Result<usize> {
        let published = self.produce_pending().await?;
        if !published.is_empty() {
            let positions: Vec<i64> = published.iter().map(|e| e.position).collect();
            let client = self.pool.get().await.context("getting a connection")?;
            store::outbox::mark_published(&**client, &positions).await?;
        }
        Ok(published.len())
    }

    /// Sends the oldest pending events and waits for every acknowledgement, without touching
    /// the outbox. Public so the crash tests can stop between the two steps.
    pub async fn produce_pending(&self) -> anyhow::Result<Vec<RecordedEvent>> {
        let pending = {
            let client = self.pool.get().await.context("getting a connection")?;
            store::outbox::pending(&**client, self.options.batch_size).await?
        };
        self.send_and_await_acks(&pending).await?;
        Ok(pending)
    }

    async fn send_and_await_acks(&self, pending: &[RecordedEvent]) -> anyhow::Result<()> {
        let mut acks = FuturesOrdered::new();
        for event in pending {
            let Some(topic) = self.settings.topics.for_stream_type(&event.stream_type) else {
                anyhow::bail!(
                    "event {} has stream type {:?}, which has no topic",
                    event.event_id,
                    event.stream_type
                );
            };
            let (key, headers, value) = envelope::encode(event);
            let record = FutureRecord::to(topic)
                .key(&key)
                .headers(headers)
                .payload(&value);
            // Enqueue only: every event of the batch is in flight at once and the acks are
            // awaited below, in order. Awaiting each send here capped the relay at one broker
            // round trip (plus linger) per event. The idempotent producer keeps per-partition
            // order with up to five requests in flight; a batch (500) never fills the local queue.
            let delivery = self
                .producer
                .send_result(record)
                .map_err(|(error, _)| error)
                .with_context(|| format!("queueing event {}", event.event_id))?;
            acks.push_back(async move { (delivery, event) });
        }
        while let Some((delivery, event)) = acks.next().await {
            delivery
                .await
                .context("the producer dropped a delivery")?
                .map_err(|(error, _)| error)
                .with_context(|| format!("publishing event {}", event.event_id))?;
            let topic = self
                .settings
                .topics
                .for_stream_type(&event.stream_type)
                .unwrap_or_default()
                .to_owned();
            metrics::counter!(m::RELAY_EVENTS_PUBLISHED, "topic" => topic).increment(1);
            let lag = (Utc::now() - event.recorded_at)
                .num_microseconds()
                .unwrap_or(0);
            metrics::histogram!(m::RELAY_COMMIT_TO_ACK).record(lag as f64 / 1e6);
        }
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
