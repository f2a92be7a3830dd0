//! How far the read model is behind its sources, measured against the sources themselves and
//! sampled by every replica whatever it consumes, so that a stalled projection shows growing
//! lag even when no replica is consuming at all (a crashed replica, partitions owned by nobody,
//! a stuck relay):
//!
//! - Kafka: each partition's high watermark (the broker's ListOffsets) against its checkpoint.
//!   A partition behind its high watermark is *stalled* for as long as its checkpoint has not
//!   moved while it was behind.
//! - The event store: the newest recorded event of each stream type (`es.latest_event`, a
//!   function that shows three columns of one row) against the stream's applied version. An
//!   event seen unprojected is remembered as the *witness*; the projection is as old as the
//!   oldest witness not yet applied. This also catches what Kafka cannot show: events that never
//!   reached Kafka (a stuck relay, a lost topic) and events held back behind a gap.
//!
//! Each sample sets the gauges and writes `projection_status` in the active read schema, which
//! the query API's readiness reads. A missing `es.latest_event` (a read database apart from
//! the event store) leaves the Kafka side alone, and the status says so.

use std::{collections::HashMap, time::Duration};

use anyhow::Context;
use chrono::{DateTime, Utc};
use deadpool_postgres::Pool;
use kafka::{Topics, probe::BrokerProbe};
use read_model::ReadSchema;
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio_postgres::{GenericClient, error::SqlState};
use uuid::Uuid;

use crate::metrics as m;

type Key = (String, i32);

/// The newest event of a stream type seen not yet applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Witness {
    stream_id: Uuid,
    version: i64,
    recorded_at: DateTime<Utc>,
}

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
    witnesses: HashMap<&'static str, Witness>,
    /// Whether `es.latest_event` can be called; `None` until the first try.
    event_store: Option<bool>,
}

impl Freshness {
    pub fn new(pool: Pool, probe: BrokerProbe, topics: Topics, interval: Duration) -> Self {
        Self {
            pool,
            probe,
            topics,
            interval,
            caught_up_at: HashMap::new(),
            witnesses: HashMap::new(),
            event_store: None,
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
        let now: DateTime<Utc> = client.query_one("SELECT now()", &[]).await?.get(0);
        let (partitions, broker) = match self.kafka_lag(&**client, &schema, now).await {
            Ok(partitions) => (partitions, json!({ "ok": true })),
            Err(error) => (
                Vec::new(),
                json!({ "ok": false, "reason": format!("{error:#}") }),
            ),
        };
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
                .unprojected_age(&**client, &schema, stream_type, now)
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
            "event_store": self.event_store.unwrap_or(false),
        });
        write_status(&**client, &schema, worst, messages, &detail).await
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

    /// How long the oldest event of `stream_type` seen recorded but not applied has waited;
    /// `None` when the event store cannot be asked.
    async fn unprojected_age(
        &mut self,
        client: &impl GenericClient,
        schema: &ReadSchema,
        stream_type: &'static str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Option<f64>> {
        if self.event_store == Some(false) {
            return Ok(None);
        }
        let newest = match client
            .query_opt(
                "SELECT stream_id, stream_version, recorded_at FROM es.latest_event($1)",
                &[&stream_type],
            )
            .await
        {
            Ok(row) => row.map(|row| Witness {
                stream_id: row.get(0),
                version: row.get(1),
                recorded_at: row.get(2),
            }),
            Err(error) if is_missing(&error) => {
                tracing::warn!(
                    error = %error,
                    "es.latest_event is not available here: freshness is measured against Kafka only"
                );
                self.event_store = Some(false);
                return Ok(None);
            }
            Err(error) => return Err(error).context("reading the newest recorded event"),
        };
        self.event_store = Some(true);
        if let Some(witness) = self.witnesses.get(stream_type).copied()
            && applied(client, schema, witness.stream_id).await? >= witness.version
        {
            self.witnesses.remove(stream_type);
        }
        if !self.witnesses.contains_key(stream_type)
            && let Some(newest) = newest
            && applied(client, schema, newest.stream_id).await? < newest.version
        {
            self.witnesses.insert(stream_type, newest);
        }
        Ok(Some(
            self.witnesses
                .get(stream_type)
                .map_or(0.0, |witness| seconds_between(witness.recorded_at, now)),
        ))
    }
}

/// The applied version of a stream (0 before its first event).
async fn applied(
    client: &impl GenericClient,
    schema: &ReadSchema,
    stream_id: Uuid,
) -> anyhow::Result<i64> {
    let row = client
        .query_opt(
            &schema.sql("SELECT version FROM {schema}.stream_versions WHERE stream_id = $1"),
            &[&stream_id],
        )
        .await
        .context("reading a stream's applied version")?;
    Ok(row.map_or(0, |row| row.get(0)))
}

async fn write_status(
    client: &impl GenericClient,
    schema: &ReadSchema,
    lag_seconds: f64,
    lag_messages: i64,
    detail: &Value,
) -> anyhow::Result<()> {
    client
        .execute(
            &schema.sql(
                "INSERT INTO {schema}.projection_status AS s
                     (singleton, lag_seconds, lag_messages, detail, sampled_at)
                 VALUES (true, $1, $2, $3, now())
                 ON CONFLICT (singleton) DO UPDATE
                     SET lag_seconds = EXCLUDED.lag_seconds, lag_messages = EXCLUDED.lag_messages,
                         detail = EXCLUDED.detail, sampled_at = EXCLUDED.sampled_at",
            ),
            &[&lag_seconds, &lag_messages, detail],
        )
        .await
        .context("writing the projection status")?;
    Ok(())
}

/// The function or the schema is not there, or this role may not call it.
fn is_missing(error: &tokio_postgres::Error) -> bool {
    error.code().is_some_and(|code| {
        [
            SqlState::UNDEFINED_FUNCTION,
            SqlState::INVALID_SCHEMA_NAME,
            SqlState::UNDEFINED_TABLE,
            SqlState::INSUFFICIENT_PRIVILEGE,
        ]
        .contains(code)
    })
}

fn seconds_between(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    ((to - from).num_milliseconds().max(0)) as f64 / 1e3
}
