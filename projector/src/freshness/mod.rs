//! How far the read model is behind its sources, measured against the sources themselves and
//! sampled by every replica whatever it consumes, so that a stalled projection shows growing
//! lag even when no replica is consuming at all (a crashed replica, partitions owned by nobody,
//! a stuck relay):
//!
//! - Kafka: each partition's high watermark (the broker's ListOffsets) against its checkpoint.
//!   A partition behind its high watermark is *stalled* for as long as its checkpoint has not
//!   moved while it was behind.
//! - The event store: the oldest recorded event of each stream type that is not applied yet
//!   (`witness`), found through two functions that show positions, stream ids, versions and
//!   times, never a payload. This also catches what Kafka cannot show: events that never
//!   reached Kafka (a stuck relay, a lost topic) and events held back behind a gap.
//!
//! Each sample sets the gauges and writes `projection_status` in the active read schema, which
//! the query API's readiness reads. Missing functions (a read database apart from the event
//! store) leave the Kafka side alone, and the status says so.

mod witness;

use std::{collections::HashMap, time::Duration};

use anyhow::Context;
use chrono::{DateTime, Utc};
use deadpool_postgres::Pool;
use kafka::{Topics, probe::BrokerProbe};
use read_model::ReadSchema;
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio_postgres::GenericClient;

use self::witness::{Witnesses, seconds_between};
use crate::metrics as m;

type Key = (String, i32);

/// One partition as a sample saw it.
#[derive(Debug, Clone, PartialEq)]
struct PartitionLag {
    key: Key,
    messages: i64,
    stalled_seconds: f64,
}

/// Samples freshness every `interval` until `shutdown`.
#[derive(Debug)]
pub struct Freshness {
    pool: Pool,
    probe: BrokerProbe,
    topics: Topics,
    interval: Duration,
    /// When each partition was last seen caught up (database time).
    caught_up_at: HashMap<Key, DateTime<Utc>>,
    witnesses: Witnesses,
}

impl Freshness {
    pub fn new(pool: Pool, probe: BrokerProbe, topics: Topics, interval: Duration) -> Self {
        Self {
            pool,
            probe,
            topics,
            interval,
            caught_up_at: HashMap::new(),
            witnesses: Witnesses::default(),
        }
    }

    pub async fn run(mut self, mut shutdown: watch::Receiver<bool>) {
        loop {
            if let Err(error) = self.sample().await {
                tracing::warn!(error = format!("{error:#}"), "sampling freshness failed");
            }
            tokio::select! {
                changed = shutdown.changed() => if changed.is_err() || *shutdown.borrow() { return },
                () = tokio::time::sleep(self.interval) => {}
            }
        }
    }

    /// One sample: gauges set, `projection_status` written.
    pub async fn sample(&mut self) -> anyhow::Result<()> {
        let client = self
            .pool
            .get()
            .await
            .context("connecting to the read database")?;
        let Some(schema) = read_model::pointer::active(&**client).await? else {
            return Ok(());
        };
        self.adopt_stored_witnesses(&**client, &schema).await?;
        let kafka_now: DateTime<Utc> = client.query_one("SELECT now()", &[]).await?.get(0);
        let (partitions, broker) = match self.kafka_lag(&**client, &schema, kafka_now).await {
            Ok(partitions) => (partitions, json!({ "ok": true })),
            Err(error) => (
                Vec::new(),
                json!({ "ok": false, "reason": format!("{error:#}") }),
            ),
        };
        // The broker's answers can take seconds (a broker coming back): the event store is
        // asked, and the sample stamped, at one instant after them, so that what the sample says
        // is true as of its `sampled_at`.
        let now: DateTime<Utc> = client.query_one("SELECT now()", &[]).await?.get(0);
        let mut projections = serde_json::Map::new();
        let (mut worst, mut messages) = (0.0_f64, 0_i64);
        let topics = self.topics.clone();
        for topic in topics.all() {
            let Some(stream_type) = topics.stream_type_of(topic) else {
                continue;
            };
            let of_topic: Vec<&PartitionLag> =
                partitions.iter().filter(|p| p.key.0 == topic).collect();
            let stalled = of_topic
                .iter()
                .map(|p| p.stalled_seconds)
                .fold(0.0, f64::max);
            let behind: i64 = of_topic.iter().map(|p| p.messages).sum();
            let unprojected = self
                .witnesses
                .age(&**client, &schema, stream_type, now)
                .await?;
            let lag = stalled.max(unprojected.unwrap_or(0.0));
            let projection = m::projection_of(stream_type);
            metrics::gauge!(m::PROJECTION_LAG, "projection" => projection).set(lag);
            if let Some(age) = unprojected {
                metrics::gauge!(m::UNPROJECTED_EVENT_AGE, "projection" => projection).set(age);
            }
            projections.insert(
                projection.to_owned(),
                json!({
                    "lag_seconds": lag,
                    "stalled_seconds": stalled,
                    "unprojected_event_age_seconds": unprojected,
                    "messages_behind": behind,
                }),
            );
            worst = worst.max(lag);
            messages += behind;
        }
        let detail = json!({
            "projections": projections,
            "broker": broker,
            "event_store": self.witnesses.available(),
            "witnesses": self.witnesses.to_json(),
        });
        write_status(&**client, &schema, worst, messages, &detail, now).await
    }

    /// Takes over the witnesses the last sample stored (this replica's before a restart, or
    /// another replica's) where they are older than what this process saw: the projection is as
    /// old as the oldest event known unapplied, whoever saw it first. Without this, a restarted
    /// projector would start counting from the newest event and report a fresh projection.
    async fn adopt_stored_witnesses(
        &mut self,
        client: &impl GenericClient,
        schema: &ReadSchema,
    ) -> anyhow::Result<()> {
        let row = client
            .query_opt(
                &schema.sql("SELECT detail -> 'witnesses' FROM {schema}.projection_status"),
                &[],
            )
            .await
            .context("reading the stored witnesses")?;
        let Some(Value::Object(stored)) = row.and_then(|row| row.get::<_, Option<Value>>(0)) else {
            return Ok(());
        };
        let topics = self.topics.clone();
        for topic in topics.all() {
            let Some(stream_type) = topics.stream_type_of(topic) else {
                continue;
            };
            if let Some(witness) = stored.get(stream_type) {
                self.witnesses.adopt(stream_type, witness);
            }
        }
        Ok(())
    }

    /// Messages behind and stalled time of every partition of the topics.
    async fn kafka_lag(
        &mut self,
        client: &impl GenericClient,
        schema: &ReadSchema,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Vec<PartitionLag>> {
        let rows = client
            .query(
                &schema.sql(
                    "SELECT topic, partition, next_offset, updated_at FROM {schema}.checkpoints",
                ),
                &[],
            )
            .await
            .context("reading the checkpoints")?;
        let checkpoints: HashMap<Key, (i64, DateTime<Utc>)> = rows
            .iter()
            .map(|row| ((row.get(0), row.get(1)), (row.get(2), row.get(3))))
            .collect();
        let mut lags = Vec::new();
        let topics = self.topics.clone();
        for topic in topics.all() {
            for partition in self.probe.partitions(topic).await? {
                let key = (topic.to_owned(), partition);
                let (_, high) = self.probe.watermarks(topic, partition).await?;
                let (next, moved_at) = checkpoints.get(&key).copied().unwrap_or((0, now));
                // A high watermark below the checkpoint is not counted as lag: the Tansu
                // development broker reports the start of its newest record batch there, and a
                // log that really was replaced is restarted by the consumer (`resume`) within
                // seconds, while the event-store side below sees what it has not applied.
                let messages = (high - next).max(0);
                let stalled_seconds = if messages == 0 {
                    self.caught_up_at.insert(key.clone(), now);
                    0.0
                } else {
                    let since = self
                        .caught_up_at
                        .get(&key)
                        .copied()
                        .map_or(moved_at, |caught_up| caught_up.max(moved_at));
                    seconds_between(since, now)
                };
                metrics::gauge!(m::CONSUMER_LAG, "topic" => topic.to_owned(),
                    "partition" => partition.to_string())
                .set(messages as f64);
                lags.push(PartitionLag {
                    key,
                    messages,
                    stalled_seconds,
                });
            }
        }
        Ok(lags)
    }
}

async fn write_status(
    client: &impl GenericClient,
    schema: &ReadSchema,
    lag_seconds: f64,
    lag_messages: i64,
    detail: &Value,
    sampled_at: DateTime<Utc>,
) -> anyhow::Result<()> {
    client
        .execute(
            &schema.sql(
                "INSERT INTO {schema}.projection_status AS s
                     (singleton, lag_seconds, lag_messages, detail, sampled_at)
                 VALUES (true, $1, $2, $3, $4)
                 ON CONFLICT (singleton) DO UPDATE
                     SET lag_seconds = EXCLUDED.lag_seconds, lag_messages = EXCLUDED.lag_messages,
                         detail = EXCLUDED.detail, sampled_at = EXCLUDED.sampled_at",
            ),
            &[&lag_seconds, &lag_messages, detail, &sampled_at],
        )
        .await
        .context("writing the projection status")?;
    Ok(())
}
