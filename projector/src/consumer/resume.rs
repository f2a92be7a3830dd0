//! Making sure a partition really resumes at its checkpoint. After an assignment or a seek the
//! first message delivered must be at or below the checkpoint (fetching starts `rewind` before
//! it). A first message above the checkpoint means the broker skipped offsets: the Tansu test
//! and dev broker only serves record batches that start at or after the fetch offset, so a
//! fetch inside a batch silently loses the rest of it. Kafka never does this for our topics
//! (no compaction, no transactions), so there the check costs one comparison per assignment.
//!
//! When the checkpoint lies inside the partition's *last* batch, no message comes at all,
//! although the high watermark in the fetch responses (librdkafka's statistics) is above the
//! checkpoint. Kafka always serves a fetch below its high watermark, so a partition still
//! waiting for its first message `STALL` after its start while its high watermark is above its
//! checkpoint is treated like a skip.
//!
//! On a skip, the partition is fetched again from eight times further back (at last from the
//! beginning); everything below the checkpoint is skipped by the loop as usual.

use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};

use rdkafka::Offset;

use super::{Positions, context::fetch_start};

/// Starts fetching partitions from a checkpoint and checks their first message.
#[derive(Debug)]
pub(super) struct Resume {
    initial_rewind: i64,
    /// Partitions whose first message since their last (re)start has not arrived, with the
    /// rewind their fetch started from and when.
    awaiting: BTreeMap<(String, i32), (i64, Instant)>,
}

/// How long a partition may wait for its first message before its high watermark is compared.
const STALL: Duration = Duration::from_secs(2);

impl Resume {
    pub fn new(initial_rewind: i64) -> Self {
        Self {
            initial_rewind: initial_rewind.max(0),
            awaiting: BTreeMap::new(),
        }
    }

    /// Where to fetch a partition whose checkpoint is `checkpoint` (0: none yet) from.
    pub fn start(&self, checkpoint: i64) -> Offset {
        fetch_start((checkpoint > 0).then_some(checkpoint), self.initial_rewind)
    }

    /// Every owned partition was (re)started from its checkpoint at the initial rewind.
    pub fn restarted(&mut self, positions: &Positions) {
        let now = Instant::now();
        self.awaiting = positions
            .keys()
            .map(|key| (key.clone(), (self.initial_rewind, now)))
            .collect();
    }

    /// Checks a delivered message; `Some(offset)` if the broker skipped offsets and the
    /// partition must be fetched again from `offset` (the message is then ignored).
    pub fn check(&mut self, key: &(String, i32), offset: i64, checkpoint: i64) -> Option<Offset> {
        let (rewind, _) = self.awaiting.remove(key)?;
        if offset <= checkpoint {
            return None;
        }
        // From the log start, a first offset above the checkpoint means the log starts there.
        let again = self.widen(key, rewind, checkpoint)?;
        tracing::warn!(
            topic = key.0,
            partition = key.1,
            checkpoint,
            first = offset,
            "the broker skipped offsets after the checkpoint; fetching from further back"
        );
        Some(again)
    }

    /// Partitions still waiting for a first message although their high watermark is above
    /// their checkpoint, with the offset to fetch them from again.
    pub fn stalled(
        &mut self,
        highs: &Positions,
        positions: &Positions,
    ) -> Vec<((String, i32), Offset)> {
        let stalled: Vec<((String, i32), i64, i64)> = self
            .awaiting
            .iter()
            .filter(|(_, (_, since))| since.elapsed() >= STALL)
            .filter_map(|(key, (rewind, _))| {
                let checkpoint = *positions.get(key)?;
                (*highs.get(key)? > checkpoint).then(|| (key.clone(), *rewind, checkpoint))
            })
            .collect();
        let mut again = Vec::new();
        for (key, rewind, checkpoint) in stalled {
            self.awaiting.remove(&key);
            if let Some(offset) = self.widen(&key, rewind, checkpoint) {
                tracing::warn!(
                    topic = key.0,
                    partition = key.1,
                    checkpoint,
                    "no message although the high watermark is past the checkpoint; fetching from further back"
                );
                again.push((key, offset));
            }
        }
        again
    }

    /// The next, wider start for a partition whose fetch from `rewind` before its checkpoint
    /// skipped offsets; `None` if it already started at the beginning.
    fn widen(&mut self, key: &(String, i32), rewind: i64, checkpoint: i64) -> Option<Offset> {
        let checkpoint = (checkpoint > 0).then_some(checkpoint);
        if fetch_start(checkpoint, rewind) == Offset::Beginning {
            return None;
        }
        let wider = rewind.saturating_mul(8).max(1000);
        self.awaiting.insert(key.clone(), (wider, Instant::now()));
        Some(fetch_start(checkpoint, wider))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_first_message_past_the_checkpoint_widens_the_rewind_until_the_beginning() {
        let key = ("t".to_owned(), 0);
        let mut resume = Resume::new(1000);
        resume.restarted(&[(key.clone(), 5000)].into_iter().collect());

        assert_eq!(resume.check(&key, 5200, 5000), Some(Offset::Beginning));
        assert_eq!(
            resume.check(&key, 5200, 5000),
            None,
            "from the beginning: accepted"
        );

        resume.restarted(&[(key.clone(), 50_000)].into_iter().collect());
        assert_eq!(
            resume.check(&key, 49_000, 50_000),
            None,
            "at or below: fine"
        );
        assert_eq!(
            resume.check(&key, 60_000, 50_000),
            None,
            "checked once per restart"
        );

        resume.restarted(&[(key.clone(), 50_000)].into_iter().collect());
        assert_eq!(
            resume.check(&key, 50_001, 50_000),
            Some(Offset::Offset(42_000))
        );
    }

    #[test]
    fn a_silent_partition_whose_high_watermark_is_past_the_checkpoint_is_fetched_again() {
        let key = ("t".to_owned(), 0);
        let positions: Positions = [(key.clone(), 50_000)].into_iter().collect();
        let mut resume = Resume::new(0);
        resume.restarted(&positions);
        let at = |high: i64| -> Positions { [(key.clone(), high)].into_iter().collect() };
        assert!(
            resume.stalled(&at(50_010), &positions).is_empty(),
            "not yet stalled"
        );

        resume
            .awaiting
            .insert(key.clone(), (0, Instant::now() - STALL));
        assert!(
            resume.stalled(&at(50_000), &positions).is_empty(),
            "at the checkpoint: idle"
        );
        let again = resume.stalled(&at(50_010), &positions);
        assert_eq!(again, vec![(key.clone(), Offset::Offset(49_000))]);
    }
}
