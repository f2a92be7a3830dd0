//! How far a rebuild or verify has come: progress towards the watermarks every partition had
//! when it started, and when it may stop.

use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};

use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};

use super::positions::{Key, Positions};

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
        partitions: &[Key],
    ) -> anyhow::Result<Self> {
        let mut targets = BTreeMap::new();
        for (topic, partition) in partitions {
            let (low, high) =
                consumer.fetch_watermarks(topic, *partition, Duration::from_secs(10))?;
            targets.insert((topic.clone(), *partition), (low, high));
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
