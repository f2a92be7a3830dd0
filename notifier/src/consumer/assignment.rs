//! The partitions of a term as the active replica: listing the topic's and assigning them to
//! this client from the group's committed offsets, reviewing those still silent, seeking, and
//! committing what was handled back to the group.

use std::{
    collections::{BTreeMap, BTreeSet},
    time::Instant,
};

use rdkafka::{
    Offset, TopicPartitionList,
    consumer::{CommitMode, Consumer},
};

use super::{BROKER_TIMEOUT, PARTITIONS_REFRESH, PARTITIONS_RETRY, Term, Worker, resume::Resume};

impl Worker {
    /// Lists the topic's partitions and assigns those not assigned yet, each from its group's
    /// committed offset. A partition gone from the listing means the topic changed under the
    /// client: it is replaced (see `End::Renew`).
    pub(super) fn assign_new_partitions(&mut self, term: &mut Term) {
        term.list_due = Instant::now() + PARTITIONS_RETRY;
        let topic = &self.options.kafka.topics.user;
        let listed: BTreeSet<i32> = match term.consumer.fetch_metadata(Some(topic), BROKER_TIMEOUT)
        {
            Ok(metadata) => metadata
                .topics()
                .iter()
                .filter(|t| t.name() == topic && t.error().is_none())
                .flat_map(|t| t.partitions().iter().map(|p| p.id()))
                .collect(),
            Err(error) => {
                tracing::warn!(%error, topic, "cannot list the topic's partitions");
                return;
            }
        };
        if listed.is_empty() {
            tracing::debug!(topic, "the topic has no partitions yet");
            return;
        }
        if term.partitions.keys().any(|p| !listed.contains(p)) {
            tracing::warn!(topic, "the topic's partitions changed");
            term.suspect = true;
            return;
        }
        let new: Vec<i32> = listed
            .into_iter()
            .filter(|p| !term.partitions.contains_key(p))
            .collect();
        if new.is_empty() {
            term.list_due = Instant::now() + PARTITIONS_REFRESH;
            return;
        }
        let mut wanted = TopicPartitionList::new();
        for partition in &new {
            wanted.add_partition(topic, *partition);
        }
        let committed = match term.consumer.committed_offsets(wanted, BROKER_TIMEOUT) {
            Ok(committed) => committed,
            Err(error) => {
                tracing::warn!(%error, "cannot read the group's committed offsets");
                return;
            }
        };
        let mut assigned = TopicPartitionList::new();
        let mut at = BTreeMap::new();
        for element in committed.elements() {
            let offset = match element.offset() {
                Offset::Offset(offset) => Some(offset),
                _ => None,
            };
            let resume = Resume::new(offset);
            if assigned
                .add_partition_offset(topic, element.partition(), resume.start())
                .is_err()
            {
                continue;
            }
            at.insert(element.partition(), resume.next);
            term.partitions.insert(element.partition(), resume);
        }
        if let Err(error) = term.consumer.incremental_assign(&assigned) {
            tracing::error!(%error, "assigning partitions failed");
            term.suspect = true;
            return;
        }
        tracing::info!(topic, partitions = ?at, "partitions assigned at the group's committed offsets");
        term.list_due = Instant::now() + PARTITIONS_REFRESH;
    }

    /// Looks at partitions still silent since they were assigned, and reports the lag.
    pub(super) fn review(&mut self, term: &mut Term) {
        term.reviewed_at = Instant::now();
        if let Some(lag) = term.consumer.context().lag() {
            self.status.set_lag(lag);
        }
        let stalled: Vec<i32> = term
            .partitions
            .iter()
            .filter(|(_, resume)| resume.stalled())
            .map(|(partition, _)| *partition)
            .collect();
        let topic = self.options.kafka.topics.user.clone();
        for partition in stalled {
            let high = match term
                .consumer
                .fetch_watermarks(&topic, partition, BROKER_TIMEOUT)
            {
                Ok((_, high)) => high,
                Err(error) => {
                    tracing::warn!(%error, partition, "cannot read the high watermark");
                    term.suspect = true;
                    return;
                }
            };
            let again = term
                .partitions
                .get_mut(&partition)
                .and_then(|resume| resume.review(high));
            if let Some(offset) = again {
                self.seek(term, partition, offset);
            }
        }
    }

    pub(super) fn seek(&self, term: &mut Term, partition: i32, offset: Offset) {
        let topic = &self.options.kafka.topics.user;
        if let Err(error) = term.consumer.seek(topic, partition, offset, BROKER_TIMEOUT) {
            tracing::error!(%error, partition, "seeking failed");
            term.suspect = true;
        }
    }

    /// Commits the next offset of `partitions` to the group.
    pub(super) fn commit(&self, term: &Term, partitions: &[i32], mode: CommitMode) {
        let topic = &self.options.kafka.topics.user;
        let mut offsets = TopicPartitionList::new();
        for partition in partitions {
            let Some(resume) = term.partitions.get(partition) else {
                continue;
            };
            if offsets
                .add_partition_offset(topic, *partition, Offset::Offset(resume.next))
                .is_err()
            {
                return;
            }
        }
        if offsets.count() == 0 {
            return;
        }
        if let Err(error) = term.consumer.commit(&offsets, mode) {
            // The deliveries table dedupes whatever an older offset makes us read again.
            tracing::warn!(%error, "committing offsets failed");
        }
    }

    /// At the end of a term: every offset moved in it, synchronously.
    pub(super) fn commit_sync(&self, term: &Term) {
        let dirty: Vec<i32> = term.dirty.iter().copied().collect();
        self.commit(term, &dirty, CommitMode::Sync);
    }
}
