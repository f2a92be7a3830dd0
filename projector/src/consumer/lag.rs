//! How far behind the projector is: consumer lag per partition (high watermark minus
//! checkpoint), projection lag per projection (age of the last applied event, 0 once caught
//! up), and, for a rebuild or verify, progress towards the watermarks seen when it started.

use std::{
    collections::{BTreeMap, BTreeSet},
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use kafka::Topics;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};

use crate::{apply::BatchOutcome, metrics as m};

type Positions = BTreeMap<(String, i32), i64>;

#[derive(Debug)]
pub(super) struct LagSampler {
    topics: Topics,
    interval: Duration,
    last_sample: Option<Instant>,
    last_event_at: BTreeMap<String, DateTime<Utc>>,
    reported: BTreeSet<(String, i32)>,
}

impl LagSampler {
    pub fn new(topics: Topics, interval: Duration) -> Self {
        Self {
            topics,
            interval,
            last_sample: None,
            last_event_at: BTreeMap::new(),
            reported: BTreeSet::new(),
        }
    }

    /// Remembers the newest event time per topic of a committed batch.
    pub fn applied(&mut self, outcome: &BatchOutcome) {
        for (topic, time) in &outcome.last_event_at {
            let newest = self.last_event_at.entry(topic.clone()).or_insert(*time);
            *newest = (*newest).max(*time);
        }
    }

    /// Sets the gauges from the latest high watermarks, at most once per interval.
    pub fn maybe_sample(&mut self, highs: &Positions, positions: &Positions) {
        if self
            .last_sample
            .is_some_and(|at| at.elapsed() < self.interval)
        {
            return;
        }
        self.last_sample = Some(Instant::now());
        let mut lags: BTreeMap<(String, i32), i64> = BTreeMap::new();
        for (key, at) in positions {
            let Some(high) = highs.get(key) else { continue };
            let lag = (high - at).max(0);
            let (topic, partition) = key;
            metrics::gauge!(m::CONSUMER_LAG, "topic" => topic.clone(),
                "partition" => partition.to_string())
            .set(lag as f64);
            lags.insert(key.clone(), lag);
        }
        // Partitions another replica owns now: this one no longer lags on them.
        for (topic, partition) in self
            .reported
            .difference(&positions.keys().cloned().collect())
        {
            metrics::gauge!(m::CONSUMER_LAG, "topic" => topic.clone(),
                "partition" => partition.to_string())
            .set(0.0);
        }
        self.reported = positions.keys().cloned().collect();
        for topic in self.topics.all() {
            let behind = lags.iter().any(|((t, _), lag)| t == topic && *lag > 0);
            let age = match (behind, self.last_event_at.get(topic)) {
                (true, Some(time)) => (Utc::now() - *time).num_milliseconds().max(0) as f64 / 1e3,
                // Caught up, or nothing applied yet to measure from.
                _ => 0.0,
            };
            let projection = m::projection_of(self.topics.stream_type_of(topic).unwrap_or(""));
            metrics::gauge!(m::PROJECTION_LAG, "projection" => projection).set(age);
        }
    }
}

/// The watermarks a rebuild or verify must reach: every partition of the topics, as the broker
/// reported them when it started. Events published later are the live projector's business
/// until the flip, and the rebuilt schema's own after it (its checkpoints carry on).
#[derive(Debug)]
pub(super) struct CatchUp {
    /// (low, high) watermark per partition.
    targets: BTreeMap<(String, i32), (i64, i64)>,
    /// When every partition first reached its target.
    reached_at: Option<Instant>,
    logged_at: Instant,
}

/// How long a busy topic may keep the consumer from an idle poll once the targets are reached.
const SETTLE: Duration = Duration::from_secs(5);

impl CatchUp {
    pub fn snapshot<C: ConsumerContext>(
        consumer: &BaseConsumer<C>,
        topics: &Topics,
    ) -> anyhow::Result<Self> {
        let mut targets = BTreeMap::new();
        for topic in topics.all() {
            let metadata = consumer.fetch_metadata(Some(topic), Duration::from_secs(10))?;
            for partition in metadata.topics().iter().flat_map(|t| t.partitions()) {
                let (low, high) =
                    consumer.fetch_watermarks(topic, partition.id(), Duration::from_secs(10))?;
                targets.insert((topic.to_owned(), partition.id()), (low, high));
            }
        }
        anyhow::ensure!(!targets.is_empty(), "the topics have no partitions");
        Ok(Self {
            targets,
            reached_at: None,
            logged_at: Instant::now(),
        })
    }

    /// Fraction applied, 0 to 1; notes when every partition reached its target.
    pub fn progress(&mut self, positions: &Positions) -> f64 {
        let (mut done, mut total, mut reached) = (0_i64, 0_i64, true);
        for (key, (low, high)) in &self.targets {
            let at = positions.get(key).copied();
            reached &= at.is_some_and(|at| at >= *high);
            total += high - low;
            done += (at.unwrap_or(0).min(*high) - low).max(0);
        }
        if reached {
            self.reached_at.get_or_insert_with(Instant::now);
        }
        let fraction = if total == 0 {
            1.0
        } else {
            done as f64 / total as f64
        };
        if self.logged_at.elapsed() >= SETTLE {
            self.logged_at = Instant::now();
            tracing::info!(done, total, "catching up: {:.1} %", fraction * 100.0);
        }
        fraction
    }

    /// Caught up: the targets are reached and a poll found nothing more (or the topics are too
    /// busy for that to happen soon). The idle poll matters with a broker whose high watermark
    /// is the start of its last record batch rather than its end (the Tansu test broker): the
    /// rest of that batch is read before stopping.
    pub fn done(&self, idle: bool) -> bool {
        self.reached_at
            .is_some_and(|at| idle || at.elapsed() >= SETTLE)
    }
}
