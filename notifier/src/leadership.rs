//! One active notifier at a time: the replica holding a session-level advisory lock in
//! PostgreSQL, on a connection of its own, consumes; the others wait as standbys and try the
//! lock again every second. A replica that dies, however it dies, loses its connection and with
//! it the lock, so a standby takes over within a second or two; nothing waits for a broker to
//! notice a dead group member (which the Tansu development broker can take minutes to do).
//!
//! Rejected: Kafka's consumer group. It would spread partitions among replicas, but the
//! notifier's order-preserving retries want one consumer, and a restarted member of a group on
//! Tansu can be left with no partitions for minutes after a SIGKILL.

use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::task::JoinHandle;
use tokio_postgres::Client;

/// How often the active replica checks that its lock connection still answers: a connection
/// cut without a reset would otherwise look open.
const CHECK_EVERY: Duration = Duration::from_secs(5);
/// Longest such a check may take.
const CHECK_TIMEOUT: Duration = Duration::from_secs(3);

/// The lock, and the connection that holds it.
#[derive(Debug)]
pub struct Leadership {
    target: platform::db::PgTarget,
    key: i64,
    session: Option<Session>,
    held: bool,
    checked_at: Instant,
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

/// The lock's key: FNV-1a of the group id, so deployments with different groups in one
/// database do not exclude each other.
pub fn lock_key(group_id: &str) -> i64 {
    let hash = format!("cloudcommerce-notifier/{group_id}")
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
    i64::from_ne_bytes(hash.to_ne_bytes())
}

impl Leadership {
    pub fn new(target: platform::db::PgTarget, group_id: &str) -> Self {
        Self {
            target,
            key: lock_key(group_id),
            session: None,
            held: false,
            checked_at: Instant::now(),
        }
    }

    /// Takes the lock if it is free; `Ok(false)` when another replica holds it.
    pub async fn try_acquire(&mut self) -> anyhow::Result<bool> {
        if self.session.as_ref().is_some_and(|s| s.client.is_closed()) {
            self.drop_session();
        }
        if self.session.is_none() {
            let (client, connection) = platform::db::connect_dedicated(&self.target).await?;
            let driver = tokio::spawn(async move {
                let _ = connection.await;
            });
            self.session = Some(Session { client, driver });
        }
        let client = &self.session.as_ref().context("no lock session")?.client;
        let acquired = client
            .query_one("SELECT pg_try_advisory_lock($1)", &[&self.key])
            .await
            .context("trying the notifier lock");
        match acquired {
            Ok(row) => {
                self.held = row.get(0);
                self.checked_at = Instant::now();
                Ok(self.held)
            }
            Err(error) => {
                self.drop_session();
                Err(error)
            }
        }
    }

    /// Whether the lock is still held: its connection is open and, at most every few seconds,
    /// answers.
    pub async fn still_held(&mut self) -> bool {
        if !self.held {
            return false;
        }
        let Some(session) = &self.session else {
            return false;
        };
        if session.client.is_closed() {
            return self.lost("the lock connection closed");
        }
        if self.checked_at.elapsed() < CHECK_EVERY {
            return true;
        }
        let answered = tokio::time::timeout(CHECK_TIMEOUT, session.client.simple_query("SELECT 1"))
            .await
            .is_ok_and(|result| result.is_ok());
        if !answered {
            return self.lost("the lock connection does not answer");
        }
        self.checked_at = Instant::now();
        true
    }

    /// Gives the lock up (stopping, or stepping down): a standby takes over at once.
    pub async fn release(&mut self) {
        if self.held
            && let Some(session) = &self.session
        {
            let _ = tokio::time::timeout(
                CHECK_TIMEOUT,
                session
                    .client
                    .execute("SELECT pg_advisory_unlock($1)", &[&self.key]),
            )
            .await;
        }
        self.held = false;
    }

    fn lost(&mut self, why: &str) -> bool {
        tracing::warn!(why, "the notifier lock is lost");
        self.drop_session();
        false
    }

    fn drop_session(&mut self) {
        if let Some(session) = self.session.take() {
            session.driver.abort();
        }
        self.held = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_key_is_stable_and_differs_per_group() {
        assert_eq!(
            lock_key("cloudcommerce-notifier"),
            lock_key("cloudcommerce-notifier")
        );
        assert_ne!(lock_key("a"), lock_key("b"));
    }
}
