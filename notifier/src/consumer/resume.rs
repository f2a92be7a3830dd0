//! Where handling a partition resumes, and making sure the broker really delivers from there.
//!
//! A partition resumes at the group's committed offset (the beginning when there is none), but
//! fetching starts [`REWIND`] messages before it and whatever lies below it is skipped. Why:
//! the Tansu development broker only serves record batches that start at or after the fetch
//! offset, so a fetch that starts inside a batch silently loses the rest of it (the projector's
//! `consumer::resume` found this first). Hence the checks:
//!
//! - The first message delivered lies above the committed offset although fetching started
//!   before it: the broker skipped offsets. Fetch again from the beginning.
//! - No message at all for a while: look at the high watermark. Above the committed offset,
//!   there is something the broker does not deliver (the same quirk, inside the last batch):
//!   fetch from the beginning. Below it, the log is not the one the offset was committed on (a
//!   wiped broker, a recreated topic, Kafka rebuilt from the event store): handle it all from
//!   the beginning.
//!
//! Reading a message twice mails nothing twice (`notifier.deliveries` remembers every event id
//! that called for a mail), so every doubt is settled by reading more.

use std::time::{Duration, Instant};

use rdkafka::Offset;

/// Messages fetched (and skipped) before the committed offset.
pub const REWIND: i64 = 1000;
/// How long a partition may stay silent before its high watermark is looked at.
const STALL: Duration = Duration::from_secs(2);

/// What to do with a delivered message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Handle,
    /// Below the committed offset: handled before.
    Skip,
    /// Fetch the partition again from the beginning; ignore this message.
    FromBeginning,
}

/// One assigned partition.
#[derive(Debug, Clone)]
pub struct Resume {
    /// The offset of the next message to handle.
    pub next: i64,
    start: Offset,
    /// A message at or below `next` was delivered, or nothing can be missed any more.
    proven: bool,
    since: Instant,
}

impl Resume {
    /// A partition whose group committed `committed` (`None`: never).
    pub fn new(committed: Option<i64>) -> Self {
        let next = committed.unwrap_or(0).max(0);
        let start = if next > REWIND {
            Offset::Offset(next - REWIND)
        } else {
            Offset::Beginning
        };
        Self {
            next,
            proven: start == Offset::Beginning,
            start,
            since: Instant::now(),
        }
    }

    /// Where fetching starts.
    pub fn start(&self) -> Offset {
        self.start
    }

    pub fn check(&mut self, offset: i64) -> Verdict {
        if !self.proven {
            if offset > self.next {
                tracing::warn!(
                    committed = self.next,
                    first = offset,
                    "the broker skipped offsets before the committed one; fetching from the beginning"
                );
                return self.refetch_from_beginning();
            }
            self.proven = true;
        }
        if offset < self.next {
            Verdict::Skip
        } else {
            Verdict::Handle
        }
    }

    /// The message at `offset` is handled.
    pub fn handled(&mut self, offset: i64) {
        self.next = offset + 1;
        self.proven = true;
    }

    /// Silent since it was assigned, for longer than [`STALL`]: time to look at the high
    /// watermark.
    pub fn stalled(&self) -> bool {
        !self.proven && self.since.elapsed() >= STALL
    }

    /// Decides on a stalled partition from its high watermark; `Some` to fetch from there.
    pub fn review(&mut self, high_watermark: i64) -> Option<Offset> {
        if high_watermark > self.next {
            tracing::warn!(
                committed = self.next,
                high_watermark,
                "no message although the log goes past the committed offset; fetching from the beginning"
            );
            self.refetch_from_beginning();
            Some(Offset::Beginning)
        } else if high_watermark < self.next {
            tracing::warn!(
                committed = self.next,
                high_watermark,
                "the log is shorter than the committed offset: another log; handling it from the beginning"
            );
            self.next = 0;
            self.refetch_from_beginning();
            Some(Offset::Beginning)
        } else {
            // Nothing after the committed offset yet: nothing to miss.
            self.proven = true;
            None
        }
    }

    fn refetch_from_beginning(&mut self) -> Verdict {
        self.start = Offset::Beginning;
        self.proven = true;
        self.since = Instant::now();
        Verdict::FromBeginning
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fetching_starts_a_rewind_before_the_committed_offset_and_skips_up_to_it() {
        let mut resume = Resume::new(Some(5000));
        assert_eq!(resume.start(), Offset::Offset(4000));
        assert_eq!(resume.check(4000), Verdict::Skip);
        assert_eq!(resume.check(4999), Verdict::Skip);
        assert_eq!(resume.check(5000), Verdict::Handle);
        resume.handled(5000);
        assert_eq!(resume.next, 5001);
    }

    #[test]
    fn a_partition_never_committed_starts_at_the_beginning() {
        let mut resume = Resume::new(None);
        assert_eq!(resume.start(), Offset::Beginning);
        assert_eq!(resume.check(0), Verdict::Handle);
        assert!(!resume.stalled());
    }

    #[test]
    fn a_first_message_past_the_committed_offset_means_offsets_were_skipped() {
        let mut resume = Resume::new(Some(5000));
        assert_eq!(resume.check(5200), Verdict::FromBeginning);
        assert_eq!(resume.start(), Offset::Beginning);
        assert_eq!(resume.check(0), Verdict::Skip);
        assert_eq!(resume.check(5000), Verdict::Handle);
    }

    #[test]
    fn a_silent_partition_is_judged_by_its_high_watermark() {
        let mut ahead = Resume::new(Some(5000));
        assert_eq!(ahead.review(5100), Some(Offset::Beginning));
        assert_eq!(ahead.next, 5000);

        let mut replaced = Resume::new(Some(5000));
        assert_eq!(replaced.review(120), Some(Offset::Beginning));
        assert_eq!(replaced.next, 0, "every message of the new log is handled");

        let mut idle = Resume::new(Some(5000));
        assert_eq!(idle.review(5000), None);
        assert!(!idle.stalled());
    }
}
