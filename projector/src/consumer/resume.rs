//! Making sure a partition really resumes at its checkpoint, on the log the checkpoint was
//! taken on. Fetching starts a little before the checkpoint (`positions::fetch_start`), and
//! until the message just before the checkpoint has been seen again, the partition is
//! *pending*:
//!
//! - That message's event id is the one the checkpoint recorded: the log is the same; go on.
//! - Another id there, or a log whose high watermark is below the checkpoint: the topic was
//!   recreated, a broker lost it, or Kafka was rebuilt from the event store (the relay's
//!   re-publishing, `command-api republish`). Offsets mean nothing any more, so the partition
//!   restarts from offset 0; events already applied are skipped by their stream version, so
//!   re-reading changes nothing but time.
//! - The first message comes from above the checkpoint: the broker skipped offsets. The Tansu
//!   development broker only serves record batches that start at or after the fetch offset, so
//!   a fetch inside a batch silently loses the rest of it; Kafka never does this for our topics
//!   (no compaction, no transactions). The partition is fetched again from eight times further
//!   back, at last from the beginning.
//! - No message at all for a while, although the high watermark says there are some: the same
//!   Tansu quirk when the checkpoint lies inside the partition's last batch. Fetched again from
//!   further back too.

use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};

use rdkafka::Offset;
use uuid::Uuid;

use super::positions::{Key, Positions, fetch_start};

/// How long a pending partition may wait for its first message before its high watermark is
/// compared with its checkpoint.
const STALL: Duration = Duration::from_secs(2);

/// What to do with a delivered message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Handle it as usual (the loop skips anything below the checkpoint).
    Continue,
    /// Fetch the partition again from this offset; ignore the message.
    Seek(Offset),
    /// The log is not the checkpoint's: restart the partition from offset 0.
    Restart,
}

#[derive(Debug)]
struct Pending {
    checkpoint: i64,
    /// The event id of the message at `checkpoint - 1`, when the checkpoint recorded one.
    last_event_id: Option<Uuid>,
    rewind: i64,
    since: Instant,
    first_seen: bool,
}

#[derive(Debug)]
pub struct Resume {
    initial_rewind: i64,
    pending: BTreeMap<Key, Pending>,
}

impl Resume {
    pub fn new(initial_rewind: i64) -> Self {
        Self {
            initial_rewind: initial_rewind.max(1),
            pending: BTreeMap::new(),
        }
    }

    /// Where to fetch a partition whose checkpoint is `checkpoint` (0: none yet) from.
    pub fn start(&self, checkpoint: i64) -> Offset {
        fetch_start(checkpoint, self.initial_rewind)
    }

    /// A partition (re)starts fetching from [`Resume::start`] of `checkpoint`.
    pub fn begin(&mut self, key: Key, checkpoint: i64, last_event_id: Option<Uuid>) {
        if checkpoint == 0 {
            self.pending.remove(&key);
            return;
        }
        self.pending.insert(
            key,
            Pending {
                checkpoint,
                last_event_id,
                rewind: self.initial_rewind,
                since: Instant::now(),
                first_seen: false,
            },
        );
    }

    /// The partition is no longer consumed here.
    pub fn forget(&mut self, key: &Key) {
        self.pending.remove(key);
    }

    /// Partitions still proving their log.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Checks a delivered message of `key` at `offset` (with its event id, if it decoded).
    pub fn check(&mut self, key: &Key, offset: i64, event_id: Option<Uuid>) -> Verdict {
        let Some(pending) = self.pending.get_mut(key) else {
            return Verdict::Continue;
        };
        let before_checkpoint = pending.checkpoint - 1;
        if !pending.first_seen {
            pending.first_seen = true;
            if offset > before_checkpoint {
                let (rewind, checkpoint) = (pending.rewind, pending.checkpoint);
                return match self.widen(key, rewind, checkpoint) {
                    Some(again) => {
                        tracing::warn!(
                            topic = key.0,
                            partition = key.1,
                            checkpoint,
                            first = offset,
                            "the broker skipped offsets before the checkpoint; fetching from further back"
                        );
                        Verdict::Seek(again)
                    }
                    // From the very beginning the log starts above the checkpoint: it is not
                    // the log the checkpoint was taken on.
                    None => self.restart(key),
                };
            }
        }
        if offset < before_checkpoint {
            return Verdict::Continue;
        }
        let expected = pending.last_event_id;
        if offset == before_checkpoint && (expected.is_none() || expected == event_id) {
            self.pending.remove(key);
            return Verdict::Continue;
        }
        tracing::warn!(
            topic = key.0,
            partition = key.1,
            offset,
            expected = expected.map(tracing::field::display),
            found = event_id.map(tracing::field::display),
            "the message before the checkpoint is not the one it was taken after"
        );
        self.restart(key)
    }

    /// Partitions to act on from the latest high watermarks: restart those whose log is shorter
    /// than their checkpoint, fetch again those still silent although messages exist.
    pub fn review(&mut self, highs: &Positions) -> Vec<(Key, Verdict)> {
        let mut verdicts = Vec::new();
        let keys: Vec<Key> = self.pending.keys().cloned().collect();
        for key in keys {
            let Some(high) = highs.get(&key).copied() else {
                continue;
            };
            let Some(pending) = self.pending.get(&key) else {
                continue;
            };
            let (checkpoint, rewind) = (pending.checkpoint, pending.rewind);
            if high < checkpoint {
                tracing::warn!(
                    topic = key.0,
                    partition = key.1,
                    checkpoint,
                    high_watermark = high,
                    "the log is shorter than the checkpoint"
                );
                let verdict = self.restart(&key);
                verdicts.push((key, verdict));
            } else if !pending.first_seen && pending.since.elapsed() >= STALL {
                match self.widen(&key, rewind, checkpoint) {
                    Some(again) => {
                        tracing::warn!(
                            topic = key.0,
                            partition = key.1,
                            checkpoint,
                            "no message although the high watermark is past the checkpoint; fetching from further back"
                        );
                        verdicts.push((key, Verdict::Seek(again)));
                    }
                    None => {
                        // Fetching from the beginning and still silent: wait for data.
                        if let Some(pending) = self.pending.get_mut(&key) {
                            pending.since = Instant::now();
                        }
                    }
                }
            }
        }
        verdicts
    }

    fn restart(&mut self, key: &Key) -> Verdict {
        self.pending.remove(key);
        Verdict::Restart
    }

    /// The next, wider start for a partition fetched from `rewind` before its checkpoint;
    /// `None` if it already started at the beginning.
    fn widen(&mut self, key: &Key, rewind: i64, checkpoint: i64) -> Option<Offset> {
        if fetch_start(checkpoint, rewind) == Offset::Beginning {
            return None;
        }
        let wider = rewind.saturating_mul(8).max(1000);
        let pending = self.pending.get_mut(key)?;
        pending.rewind = wider;
        pending.since = Instant::now();
        pending.first_seen = false;
        Some(fetch_start(checkpoint, wider))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> Key {
        ("t".to_owned(), 0)
    }

    #[test]
    fn the_message_before_the_checkpoint_proves_the_log() {
        let id = Uuid::now_v7();
        let mut resume = Resume::new(1000);
        resume.begin(key(), 5000, Some(id));
        assert_eq!(
            resume.check(&key(), 4000, Some(Uuid::now_v7())),
            Verdict::Continue
        );
        assert_eq!(resume.pending(), 1, "still below the checkpoint");
        assert_eq!(resume.check(&key(), 4999, Some(id)), Verdict::Continue);
        assert_eq!(resume.pending(), 0, "proven");
        assert_eq!(resume.check(&key(), 5000, None), Verdict::Continue);
    }

    #[test]
    fn another_event_before_the_checkpoint_restarts_the_partition() {
        let mut resume = Resume::new(1000);
        resume.begin(key(), 5000, Some(Uuid::now_v7()));
        assert_eq!(resume.check(&key(), 4000, None), Verdict::Continue);
        assert_eq!(
            resume.check(&key(), 4999, Some(Uuid::now_v7())),
            Verdict::Restart
        );
        assert_eq!(resume.pending(), 0);
    }

    #[test]
    fn a_log_shorter_than_the_checkpoint_restarts_the_partition() {
        let mut resume = Resume::new(1000);
        resume.begin(key(), 5000, Some(Uuid::now_v7()));
        let highs: Positions = [(key(), 120)].into_iter().collect();
        assert_eq!(resume.review(&highs), vec![(key(), Verdict::Restart)]);
    }

    #[test]
    fn a_first_message_past_the_checkpoint_widens_the_rewind_until_the_beginning() {
        let mut resume = Resume::new(1000);
        resume.begin(key(), 5000, None);
        assert_eq!(
            resume.check(&key(), 5200, None),
            Verdict::Seek(Offset::Beginning)
        );
        // From the beginning the log still starts above the checkpoint: another log.
        assert_eq!(resume.check(&key(), 5200, None), Verdict::Restart);

        resume.begin(key(), 50_000, None);
        assert_eq!(
            resume.check(&key(), 50_001, None),
            Verdict::Seek(Offset::Offset(42_000))
        );
    }

    #[test]
    fn a_silent_partition_whose_high_watermark_is_past_the_checkpoint_is_fetched_again() {
        let mut resume = Resume::new(1);
        resume.begin(key(), 50_000, None);
        let at = |high: i64| -> Positions { [(key(), high)].into_iter().collect() };
        assert!(resume.review(&at(50_010)).is_empty(), "not yet stalled");
        if let Some(pending) = resume.pending.get_mut(&key()) {
            pending.since = Instant::now() - STALL;
        }
        assert_eq!(
            resume.review(&at(50_010)),
            vec![(key(), Verdict::Seek(Offset::Offset(49_000)))]
        );
    }

    #[test]
    fn a_partition_without_a_checkpoint_has_nothing_to_prove() {
        let mut resume = Resume::new(1000);
        resume.begin(key(), 0, None);
        assert_eq!(resume.pending(), 0);
        assert_eq!(resume.check(&key(), 0, None), Verdict::Continue);
    }
}
