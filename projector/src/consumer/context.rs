//! The consumer's client context: librdkafka's statistics, from which the loop learns each
//! assigned partition's high watermark (fetch responses carry it) without a broker round trip.

use std::sync::{Mutex, MutexGuard};

use rdkafka::{ClientContext, Statistics, consumer::ConsumerContext};

use super::positions::{Key, Positions};

#[derive(Debug, Default)]
pub struct ProjectorContext {
    high_watermarks: Mutex<Positions>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves plain data behind, still usable.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl ProjectorContext {
    /// The latest high watermarks of the fetched partitions.
    pub fn high_watermarks(&self) -> Positions {
        lock(&self.high_watermarks).clone()
    }

    /// Forgets what is known of a partition, so a new assignment is judged on fresh numbers
    /// (a broker restarted meanwhile may have a shorter log).
    pub fn forget(&self, key: &Key) {
        lock(&self.high_watermarks).remove(key);
    }
}

impl ClientContext for ProjectorContext {
    /// Called from `poll` every `statistics.interval.ms`.
    fn stats(&self, statistics: Statistics) {
        let mut highs = lock(&self.high_watermarks);
        for (name, topic) in statistics.topics {
            for (id, partition) in topic.partitions {
                // -1 is librdkafka's internal "unassigned" partition; -1001 means unknown.
                if id >= 0 && partition.hi_offset >= 0 && partition.fetch_state == "active" {
                    highs.insert((name.clone(), id), partition.hi_offset);
                }
            }
        }
    }
}

/// Partitions are assigned by the loop itself (see `ownership`), so no rebalance callback runs.
impl ConsumerContext for ProjectorContext {}
