//! Which replica consumes which partition, decided in PostgreSQL rather than by Kafka's group
//! coordinator: each replica holds a session-level advisory lock per partition it owns (and one
//! for its membership) on a dedicated connection. When a replica dies, however it dies, its
//! connection closes and PostgreSQL releases its locks at once; the others take the partitions
//! within a second. Nothing depends on a broker noticing a dead member.
//!
//! Why not the consumer group protocol: the checkpoints already live in PostgreSQL and fence
//! every batch, so the group only had to spread partitions, and that is where brokers differ.
//! The Tansu development broker evicts a dead member only when another request happens to look,
//! and a replacement that joined meanwhile can keep an empty assignment for minutes (seen here:
//! a restarted projector owning nothing while the read model froze). With leases, recovery
//! takes one tick on any broker; Kafka still gets the offsets (committed for lag-based
//! autoscaling), only not the assignment.
//!
//! Balance: every tick, a replica counts the members (their locks in `pg_locks`), aims at
//! `ceil(partitions / members)`, releases what it holds beyond that and tries to lock free
//! partitions up to it. Two replicas that briefly want the same partition cannot both apply it:
//! the checkpoint's compare-and-set fences the batch of whichever is second.

use std::{
    collections::BTreeSet,
    time::{Duration, Instant},
};

use anyhow::Context;
use tokio::{runtime::Handle, task::JoinHandle};
use tokio_postgres::Client;

use super::positions::Key;

/// How often ownership is reviewed.
pub const TICK: Duration = Duration::from_secs(1);
/// Member slots tried when joining; more replicas than this would not find a slot.
const MAX_MEMBERS: i32 = 256;

/// What a review changed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Change {
    pub gained: Vec<Key>,
    pub lost: Vec<Key>,
}

/// Partition ownership: leased in PostgreSQL among the replicas of a group, or all of them for
/// a one-shot rebuild or verify, which writes a schema nobody else does.
#[derive(Debug)]
pub enum Ownership {
    Exclusive { owned: BTreeSet<Key> },
    Leased(Box<Leases>),
}

impl Ownership {
    pub fn exclusive() -> Self {
        Ownership::Exclusive {
            owned: BTreeSet::new(),
        }
    }

    pub fn leased(config: platform::db::PgTarget, group_id: &str) -> Self {
        Ownership::Leased(Box::new(Leases::new(config, group_id)))
    }

    /// Reviews ownership against every known partition (at most once per [`TICK`] for leases).
    pub fn review(&mut self, runtime: &Handle, partitions: &[Key]) -> Change {
        match self {
            Ownership::Exclusive { owned } => Change {
                gained: partitions
                    .iter()
                    .filter(|key| owned.insert((*key).clone()))
                    .cloned()
                    .collect(),
                lost: Vec::new(),
            },
            Ownership::Leased(leases) => leases.review(runtime, partitions),
        }
    }

    /// Gives everything up (the replica is stopping): the others take over at once.
    pub fn release_all(&mut self, runtime: &Handle) {
        if let Ownership::Leased(leases) = self {
            leases.close(runtime);
        }
    }
}

/// A dedicated connection and the locks it holds.
#[derive(Debug)]
pub struct Leases {
    config: platform::db::PgTarget,
    members: i32,
    partitions: i32,
    session: Option<Session>,
    slot: Option<i32>,
    owned: BTreeSet<Key>,
    last_review: Option<Instant>,
}

struct Session {
    client: Client,
    driver: JoinHandle<()>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("closed", &self.client.is_closed())
            .finish_non_exhaustive()
    }
}

/// FNV-1a, 32 bits: a stable lock key from a name (PostgreSQL's two-key advisory locks take
/// two `int4`s; a collision only makes two partitions share a lock, never two owners share one).
fn key_of(name: &str) -> i32 {
    let hash = name.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    i32::from_ne_bytes(hash.to_ne_bytes())
}

/// A namespace (the first lock key): positive, so `pg_locks.classid` (an oid) compares as is.
fn namespace(name: &str) -> i32 {
    key_of(name) & i32::MAX
}

impl Leases {
    fn new(config: platform::db::PgTarget, group_id: &str) -> Self {
        Self {
            config,
            members: namespace(&format!("{group_id}/members")),
            partitions: namespace(&format!("{group_id}/partitions")),
            session: None,
            slot: None,
            owned: BTreeSet::new(),
            last_review: None,
        }
    }

    fn review(&mut self, runtime: &Handle, partitions: &[Key]) -> Change {
        if self.last_review.is_some_and(|at| at.elapsed() < TICK) {
            return Change::default();
        }
        self.last_review = Some(Instant::now());
        match runtime.block_on(self.review_async(partitions)) {
            Ok(change) => change,
            Err(error) => {
                // Whatever failed, the locks may be gone with the connection: own nothing
                // until a new session holds them again.
                tracing::warn!(
                    error = format!("{error:#}"),
                    "partition leases lost; re-acquiring"
                );
                self.drop_session();
                Change {
                    gained: Vec::new(),
                    lost: std::mem::take(&mut self.owned).into_iter().collect(),
                }
            }
        }
    }

    async fn review_async(&mut self, partitions: &[Key]) -> anyhow::Result<Change> {
        let mut change = Change::default();
        if self.session.as_ref().is_some_and(|s| s.client.is_closed()) {
            anyhow::bail!("the lease connection closed");
        }
        if self.session.is_none() {
            let (client, connection) = platform::db::connect_dedicated(&self.config).await?;
            let driver = tokio::spawn(async move {
                let _ = connection.await;
            });
            self.session = Some(Session { client, driver });
        }
        let client = &self.session.as_ref().context("no lease session")?.client;
        if self.slot.is_none() {
            for slot in 0..MAX_MEMBERS {
                if try_lock(client, self.members, slot).await? {
                    self.slot = Some(slot);
                    break;
                }
            }
            anyhow::ensure!(self.slot.is_some(), "no free member slot");
        }
        let members: i64 = client
            .query_one(
                "SELECT count(*) FROM pg_locks
                 WHERE locktype = 'advisory' AND objsubid = 2 AND granted
                   AND classid = $1::int8::oid",
                &[&i64::from(self.members)],
            )
            .await
            .context("counting projector replicas")?
            .get(0);
        let share = partitions.len().div_ceil(members.max(1) as usize);
        // Beyond our share (a replica joined): give the highest ones up.
        while self.owned.len() > share {
            let Some(key) = self.owned.pop_last() else {
                break;
            };
            unlock(client, self.partitions, &key).await?;
            change.lost.push(key);
        }
        // Partitions that no longer exist are let go too.
        let known: BTreeSet<&Key> = partitions.iter().collect();
        let gone: Vec<Key> = self
            .owned
            .iter()
            .filter(|key| !known.contains(key))
            .cloned()
            .collect();
        for key in gone {
            self.owned.remove(&key);
            unlock(client, self.partitions, &key).await?;
            change.lost.push(key);
        }
        if self.owned.len() < share && !partitions.is_empty() {
            // Start looking at a different place per slot, so replicas do not all race for
            // the same first partitions.
            let start = self.slot.unwrap_or(0) as usize * share % partitions.len();
            for index in 0..partitions.len() {
                if self.owned.len() >= share {
                    break;
                }
                let key = &partitions[(start + index) % partitions.len()];
                if self.owned.contains(key) {
                    continue;
                }
                if try_lock(client, self.partitions, partition_key(key)).await? {
                    self.owned.insert(key.clone());
                    change.gained.push(key.clone());
                }
            }
        }
        Ok(change)
    }

    fn drop_session(&mut self) {
        if let Some(session) = self.session.take() {
            session.driver.abort();
        }
        self.slot = None;
    }

    fn close(&mut self, runtime: &Handle) {
        // Closing the connection releases every lock it holds.
        if let Some(session) = self.session.take() {
            drop(session.client);
            let _ = runtime.block_on(async {
                tokio::time::timeout(Duration::from_secs(2), session.driver).await
            });
        }
        self.slot = None;
        self.owned.clear();
    }
}

fn partition_key(key: &Key) -> i32 {
    key_of(&format!("{}/{}", key.0, key.1))
}

async fn try_lock(client: &Client, namespace: i32, key: i32) -> anyhow::Result<bool> {
    Ok(client
        .query_one("SELECT pg_try_advisory_lock($1, $2)", &[&namespace, &key])
        .await
        .context("taking a partition lease")?
        .get(0))
}

async fn unlock(client: &Client, namespace: i32, key: &Key) -> anyhow::Result<()> {
    client
        .execute(
            "SELECT pg_advisory_unlock($1, $2)",
            &[&namespace, &partition_key(key)],
        )
        .await
        .context("releasing a partition lease")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_keys_are_stable_and_namespaces_positive() {
        assert_eq!(key_of("t/0"), key_of("t/0"));
        assert_ne!(key_of("t/0"), key_of("t/1"));
        for name in ["a", "cloudcommerce-projector/members", "x/partitions"] {
            assert!(namespace(name) >= 0);
        }
    }

    #[test]
    fn an_exclusive_owner_takes_every_partition_once() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let mut ownership = Ownership::exclusive();
        let partitions = vec![("t".to_owned(), 0), ("t".to_owned(), 1)];
        let first = ownership.review(runtime.handle(), &partitions);
        assert_eq!(first.gained, partitions);
        assert_eq!(
            ownership.review(runtime.handle(), &partitions),
            Change::default()
        );
    }
}
