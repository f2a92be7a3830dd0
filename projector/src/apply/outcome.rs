//! What one batch did, and the metrics it records once committed.

use std::{collections::BTreeMap, time::Instant};

use chrono::{DateTime, Utc};

use crate::metrics as m;

/// What one batch did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BatchOutcome {
    /// Events whose version was new for their stream (including unknown types, which are
    /// recorded in the audit table).
    pub applied: usize,
    /// Events at or below their stream's applied version: re-sends, replays.
    pub duplicates: usize,
    /// Events more than one version above their stream's applied version.
    pub gaps: usize,
    /// Events of a type or schema version this release does not know.
    pub unknown: usize,
    /// Streams with events in this batch but no creation event ever seen, so no row could be
    /// written (their events are still audited).
    pub not_created: usize,
    /// Applied events per topic.
    pub applied_per_topic: BTreeMap<String, u64>,
    /// Time of the newest applied event per topic, for the projection lag.
    pub last_event_at: BTreeMap<String, DateTime<Utc>>,
}

impl BatchOutcome {
    /// Records the batch's metrics; called only after COMMIT, so a rolled-back batch counts
    /// nothing.
    pub(super) fn record(&self, size: usize, started: Instant) {
        metrics::histogram!(m::BATCH_SIZE).record(size as f64);
        metrics::histogram!(m::BATCH_DURATION).record(started.elapsed().as_secs_f64());
        for (topic, count) in &self.applied_per_topic {
            metrics::counter!(m::EVENTS_APPLIED, "topic" => topic.clone()).increment(*count);
        }
        let skipped = [
            ("duplicate", self.duplicates),
            ("unknown_type", self.unknown),
            ("not_created", self.not_created),
        ];
        for (reason, count) in skipped {
            if count > 0 {
                metrics::counter!(m::EVENTS_SKIPPED, "reason" => reason).increment(count as u64);
            }
        }
        if self.gaps > 0 {
            metrics::counter!(m::VERSION_GAPS).increment(self.gaps as u64);
        }
    }
}
