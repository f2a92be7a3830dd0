//! Noticing that the broker lost what the relay published, and queueing the history again.
//!
//! Kafka offsets only grow, so two signs are certain on any broker: an acknowledgement that
//! lands below the offset after our last acknowledged message on that partition (the log was
//! truncated or recreated, seen at the next publish), and an empty partition where we published
//! before (seen by a periodic check, so a wiped broker is refilled even while nothing is being
//! written). A lower but non-zero high watermark is not used: the Tansu development broker
//! reports the start of its newest record batch there, which would look like a loss.
//!
//! The whole topic is queued again: duplicates on the wire are harmless (consumers dedupe by
//! subject and sequence), a gap would not be.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::publish::Landed;

/// Per (topic, partition): the offset after the last message the relay saw acknowledged.
pub type Published = HashMap<(String, i32), i64>;

/// Topics whose acknowledgements in `landed` fall below what was published before.
pub fn truncated_topics(published: &Published, landed: &[Landed]) -> BTreeSet<String> {
    landed
        .iter()
        .filter(|ack| {
            published
                .get(&(ack.topic.clone(), ack.partition))
                .is_some_and(|next| ack.offset < *next)
        })
        .map(|ack| ack.topic.clone())
        .collect()
}

/// The new offsets `landed` moves to: per partition, one past its highest acknowledgement.
pub fn advanced(landed: &[Landed]) -> Vec<(String, i32, i64)> {
    let mut next: BTreeMap<(String, i32), i64> = BTreeMap::new();
    for ack in landed {
        let slot = next.entry((ack.topic.clone(), ack.partition)).or_insert(0);
        *slot = (*slot).max(ack.offset + 1);
    }
    next.into_iter()
        .map(|((topic, partition), next)| (topic, partition, next))
        .collect()
}

/// Whether a partition the relay published `next` messages to reports an empty log.
pub fn emptied(next: i64, high_watermark: i64) -> bool {
    next > 0 && high_watermark == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ack(topic: &str, partition: i32, offset: i64) -> Landed {
        Landed {
            topic: topic.to_owned(),
            partition,
            offset,
        }
    }

    #[test]
    fn an_acknowledgement_below_the_published_offset_means_the_topic_lost_its_log() {
        let published: Published = [
            (("users".to_owned(), 0), 40),
            (("products".to_owned(), 1), 7),
        ]
        .into_iter()
        .collect();
        let fine = [
            ack("users", 0, 40),
            ack("users", 0, 41),
            ack("products", 2, 0),
        ];
        assert!(truncated_topics(&published, &fine).is_empty());
        let lost = [ack("users", 0, 0), ack("products", 1, 7)];
        assert_eq!(
            truncated_topics(&published, &lost),
            ["users".to_owned()].into_iter().collect()
        );
    }

    #[test]
    fn offsets_advance_past_the_highest_acknowledgement_of_each_partition() {
        let landed = [ack("t", 0, 5), ack("t", 1, 2), ack("t", 0, 6)];
        assert_eq!(
            advanced(&landed),
            vec![("t".to_owned(), 0, 7), ("t".to_owned(), 1, 3)]
        );
    }

    #[test]
    fn only_an_empty_partition_where_we_published_counts_as_lost() {
        assert!(emptied(12, 0));
        assert!(!emptied(0, 0));
        assert!(
            !emptied(12, 3),
            "a lower high watermark may be Tansu's batch start"
        );
    }
}
