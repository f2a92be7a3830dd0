//! The consumer's client context: librdkafka's statistics, from which the loop learns how many
//! messages of its partitions are not handled yet, without a broker round trip.

use std::sync::Mutex;

use rdkafka::{ClientContext, Statistics, consumer::ConsumerContext};

#[derive(Debug, Default)]
pub struct NotifierContext {
    /// Summed over the fetched partitions; `None` until the first report.
    lag: Mutex<Option<i64>>,
}

impl NotifierContext {
    pub fn lag(&self) -> Option<i64> {
        // A panic while holding the lock leaves a plain number behind, still usable.
        *self
            .lag
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl ClientContext for NotifierContext {
    /// Called from `poll` every `statistics.interval.ms`.
    fn stats(&self, statistics: Statistics) {
        let lag = statistics
            .topics
            .values()
            .flat_map(|topic| topic.partitions.iter())
            // -1 is librdkafka's internal "unassigned" partition; a negative lag is unknown.
            .filter(|(id, partition)| **id >= 0 && partition.fetch_state == "active")
            .map(|(_, partition)| partition.consumer_lag.max(0))
            .sum();
        *self
            .lag
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(lag);
    }
}

/// Partitions are assigned by the loop itself, so no rebalance callback runs.
impl ConsumerContext for NotifierContext {}
