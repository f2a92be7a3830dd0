//! Partition keys, checkpoint positions, and where fetching a partition starts.

use std::collections::BTreeMap;

use rdkafka::Offset;

/// (topic, partition).
pub type Key = (String, i32);

/// Per partition: an offset (a checkpoint, a high watermark...).
pub type Positions = BTreeMap<Key, i64>;

/// Where to start fetching a partition whose checkpoint is `next` (0: never consumed):
/// `rewind` messages before it, so the message just before the checkpoint is seen again (it
/// proves the log is the one the checkpoint was taken on) and a broker that only serves whole
/// record batches still delivers the batch the checkpoint splits.
pub fn fetch_start(next: i64, rewind: i64) -> Offset {
    let rewind = rewind.max(1);
    if next > rewind {
        Offset::Offset(next - rewind)
    } else {
        Offset::Beginning
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fetching_starts_a_rewind_before_the_checkpoint_and_never_before_the_log() {
        assert_eq!(fetch_start(0, 1000), Offset::Beginning);
        assert_eq!(fetch_start(400, 1000), Offset::Beginning);
        assert_eq!(fetch_start(5000, 1000), Offset::Offset(4000));
        assert_eq!(
            fetch_start(5000, 0),
            Offset::Offset(4999),
            "at least the message before the checkpoint"
        );
    }
}
