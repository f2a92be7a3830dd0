//! One waiter per process for every request that holds a `Consistency-Token`. Requests register
//! what they wait for and sleep; a single task looks up all waited-for streams in one query
//! whenever the projector announces a committed batch (`NOTIFY`, see `read_model::APPLIED_CHANNEL`),
//! when a request registers, and at a slow fallback tick, then wakes the satisfied requests.
//! A thousand waiting requests cost one query per projected batch, not a poll each every 15 ms.
//! Beyond `capacity` waiting requests, more are refused (503) rather than queued.

use std::{
    collections::HashMap,
    sync::{
        Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use futures::StreamExt;
use tokio::sync::{Notify, oneshot};
use tokio_postgres::AsyncMessage;
use uuid::Uuid;

use crate::{consistency::token::Token, error::ApiError};

/// Re-check this often even without a notification (a lost NOTIFY, a projector of an older
/// release), and much more often while the LISTEN connection is down.
const FALLBACK_LISTENING: Duration = Duration::from_millis(250);
const FALLBACK_DEAF: Duration = Duration::from_millis(25);

/// Requests waiting for a stream version, shared by every worker of the process.
#[derive(Debug)]
pub struct Waiter {
    pending: Mutex<Pending>,
    wake: Notify,
    capacity: usize,
    listening: AtomicBool,
}

#[derive(Debug, Default)]
struct Pending {
    next_id: u64,
    count: usize,
    by_stream: HashMap<Uuid, Vec<Entry>>,
}

#[derive(Debug)]
struct Entry {
    id: u64,
    version: i64,
    done: oneshot::Sender<()>,
}

/// The waiter is full.
#[derive(Debug, Clone, Copy)]
pub struct Full;

/// One registered wait; dropping it (done, timed out, or the client went away) unregisters it.
#[derive(Debug)]
pub struct Registration<'a> {
    waiter: &'a Waiter,
    stream_id: Uuid,
    id: u64,
    pub done: oneshot::Receiver<()>,
}

impl Drop for Registration<'_> {
    fn drop(&mut self) {
        self.waiter.forget(self.stream_id, self.id);
    }
}

impl Waiter {
    pub fn new(capacity: usize) -> Self {
        Self {
            pending: Mutex::new(Pending::default()),
            wake: Notify::new(),
            capacity,
            listening: AtomicBool::new(false),
        }
    }

    /// Registers a wait for `token` and asks the task to look now.
    pub fn register(&self, token: Token) -> Result<Registration<'_>, Full> {
        let (done, receiver) = oneshot::channel();
        let id = {
            let mut pending = self.lock();
            if pending.count >= self.capacity {
                return Err(Full);
            }
            pending.next_id += 1;
            pending.count += 1;
            let id = pending.next_id;
            pending
                .by_stream
                .entry(token.stream_id)
                .or_default()
                .push(Entry {
                    id,
                    version: token.version,
                    done,
                });
            id
        };
        self.wake.notify_one();
        Ok(Registration {
            waiter: self,
            stream_id: token.stream_id,
            id,
            done: receiver,
        })
    }

    /// Requests waiting now.
    pub fn waiting(&self) -> usize {
        self.lock().count
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Pending> {
        // A poisoned lock only means a thread panicked between plain map updates.
        self.pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn forget(&self, stream_id: Uuid, id: u64) {
        let mut pending = self.lock();
        let Some(entries) = pending.by_stream.get_mut(&stream_id) else {
            return;
        };
        let before = entries.len();
        entries.retain(|entry| entry.id != id);
        let removed = before - entries.len();
        if entries.is_empty() {
            pending.by_stream.remove(&stream_id);
        }
        pending.count -= removed;
    }

    fn streams(&self) -> Vec<Uuid> {
        self.lock().by_stream.keys().copied().collect()
    }

    /// Wakes every request whose version `applied` has reached.
    fn resolve(&self, applied: &[(Uuid, i64)]) {
        let mut pending = self.lock();
        for (stream_id, version) in applied {
            let Some(entries) = pending.by_stream.get_mut(stream_id) else {
                continue;
            };
            let (ready, still): (Vec<Entry>, Vec<Entry>) = entries
                .drain(..)
                .partition(|entry| entry.version <= *version);
            *entries = still;
            if entries.is_empty() {
                pending.by_stream.remove(stream_id);
            }
            pending.count -= ready.len();
            for entry in ready {
                // The request may have timed out and gone; nothing to do then.
                let _ = entry.done.send(());
            }
        }
    }
}

/// Looks up the waited-for streams with `lookup` whenever there is reason to, and listens for
/// the projector's notifications, until the process ends.
pub async fn run<F, Fut>(waiter: &Waiter, db_config: platform::db::PgTarget, lookup: F)
where
    F: Fn(Vec<Uuid>) -> Fut,
    Fut: Future<Output = Result<Vec<(Uuid, i64)>, ApiError>>,
{
    tokio::join!(listen(waiter, db_config), resolve_forever(waiter, lookup));
}

async fn resolve_forever<F, Fut>(waiter: &Waiter, lookup: F)
where
    F: Fn(Vec<Uuid>) -> Fut,
    Fut: Future<Output = Result<Vec<(Uuid, i64)>, ApiError>>,
{
    loop {
        let streams = waiter.streams();
        if streams.is_empty() {
            waiter.wake.notified().await;
            continue;
        }
        match lookup(streams).await {
            Ok(applied) => waiter.resolve(&applied),
            Err(error) => tracing::warn!(%error, "looking up waited-for stream versions"),
        }
        let fallback = if waiter.listening.load(Ordering::Relaxed) {
            FALLBACK_LISTENING
        } else {
            FALLBACK_DEAF
        };
        let _ = tokio::time::timeout(fallback, waiter.wake.notified()).await;
    }
}

/// LISTENs for the projector's batch notifications on a dedicated connection, reconnecting
/// after a second when it drops.
async fn listen(waiter: &Waiter, db_config: platform::db::PgTarget) {
    loop {
        match platform::db::connect_dedicated(&db_config).await {
            Ok((client, mut connection)) => {
                let (seen, mut notifications) = tokio::sync::mpsc::unbounded_channel();
                let driver = tokio::spawn(async move {
                    let mut messages =
                        futures::stream::poll_fn(move |cx| connection.poll_message(cx));
                    while let Some(Ok(message)) = messages.next().await {
                        if let AsyncMessage::Notification(_) = message
                            && seen.send(()).is_err()
                        {
                            break;
                        }
                    }
                });
                let listening = client
                    .batch_execute(&format!("LISTEN {}", read_model::APPLIED_CHANNEL))
                    .await;
                if let Err(error) = listening {
                    tracing::warn!(%error, "listening for projected batches");
                } else {
                    waiter.listening.store(true, Ordering::Relaxed);
                    while notifications.recv().await.is_some() {
                        waiter.wake.notify_one();
                    }
                    waiter.listening.store(false, Ordering::Relaxed);
                    tracing::warn!("the connection listening for projected batches closed");
                }
                driver.abort();
            }
            Err(error) => tracing::warn!(error = format!("{error:#}"), "connecting to listen"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(stream_id: Uuid, version: i64) -> Token {
        Token { stream_id, version }
    }

    #[test]
    fn a_version_reached_wakes_its_waiters_and_no_others() {
        let waiter = Waiter::new(10);
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let mut first = waiter.register(token(a, 2)).unwrap();
        let mut later = waiter.register(token(a, 5)).unwrap();
        let mut other = waiter.register(token(b, 1)).unwrap();
        assert_eq!(waiter.waiting(), 3);
        waiter.resolve(&[(a, 3)]);
        assert!(first.done.try_recv().is_ok());
        assert!(later.done.try_recv().is_err());
        assert!(other.done.try_recv().is_err());
        assert_eq!(waiter.waiting(), 2);
        drop((first, later, other));
        assert_eq!(waiter.waiting(), 0);
        assert!(waiter.streams().is_empty());
    }

    #[test]
    fn beyond_capacity_registrations_are_refused_until_one_leaves() {
        let waiter = Waiter::new(2);
        let id = Uuid::now_v7();
        let one = waiter.register(token(id, 1)).unwrap();
        let _two = waiter.register(token(id, 1)).unwrap();
        assert!(waiter.register(token(id, 1)).is_err());
        drop(one);
        assert!(waiter.register(token(id, 1)).is_ok());
    }
}
