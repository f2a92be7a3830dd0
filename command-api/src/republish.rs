//! `command-api republish`: rebuilds Kafka from the event store, the source of truth. For an
//! operator who lost a cluster, a topic, or a development broker's memory, or a downstream team
//! that wants history again: every event from a position on (all of them by default) is queued
//! in the outbox once more, and the running relay publishes it in position order, so each
//! stream's events go out in order, with the same CloudEvents ids as the first time. Consumers
//! dedupe by (`ce_subject`, `ce_sequence`), so running it twice changes nothing downstream.
//!
//! Progress goes to standard output: how much is queued, then how much the relay has published.
//! It needs a command-api with its relay running (the Deployment); it says so when none is.

use std::time::{Duration, Instant};

use anyhow::Context;
use deadpool_postgres::Pool;
use kafka::Topics;

use crate::relay::RELAY_LOCK;

/// Positions queued per transaction: bounded, so a store of millions is queued in steps.
const CHUNK: i64 = 100_000;
/// How often progress is printed while the relay publishes.
const PROGRESS_EVERY: Duration = Duration::from_secs(2);

/// What to publish again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// First position to publish again (1: everything).
    pub from_position: i64,
    /// Only this stream type (`user`, `product`), or all.
    pub stream_type: Option<String>,
    /// Stop waiting for the relay after this long (`None`: wait until published).
    pub wait_limit: Option<Duration>,
}

impl Request {
    /// Parses `[--from-position N] [--stream-type T] [--wait-secs S]`.
    pub fn parse(args: &[String]) -> anyhow::Result<Self> {
        let mut request = Request {
            from_position: 1,
            stream_type: None,
            wait_limit: None,
        };
        let mut args = args.iter();
        while let Some(flag) = args.next() {
            let mut value = || args.next().with_context(|| format!("{flag} needs a value"));
            match flag.as_str() {
                "--from-position" => {
                    request.from_position = value()?
                        .parse()
                        .context("--from-position takes a position (1 or more)")?;
                    anyhow::ensure!(request.from_position >= 1, "positions start at 1");
                }
                "--stream-type" => request.stream_type = Some(value()?.clone()),
                "--wait-secs" => {
                    let secs: u64 = value()?.parse().context("--wait-secs takes seconds")?;
                    request.wait_limit = Some(Duration::from_secs(secs));
                }
                other => anyhow::bail!("unknown argument {other:?}"),
            }
        }
        Ok(request)
    }
}

/// Queues the requested history and reports until the relay has published it; returns how many
/// events were queued.
pub async fn republish(pool: &Pool, topics: &Topics, request: &Request) -> anyhow::Result<u64> {
    if let Some(stream_type) = &request.stream_type {
        anyhow::ensure!(
            topics.for_stream_type(stream_type).is_some(),
            "unknown stream type {stream_type:?} (user or product)"
        );
    }
    let mut client = pool.get().await.context("connecting to the event store")?;
    let head = store::publication::head_position(&**client).await?;
    if head < request.from_position {
        println!(
            "republish: nothing stored at or after position {}",
            request.from_position
        );
        return Ok(0);
    }
    let covered: Vec<&str> = match &request.stream_type {
        Some(stream_type) => topics.for_stream_type(stream_type).into_iter().collect(),
        None => topics.all().to_vec(),
    };
    let mut queued = 0;
    let mut from = request.from_position;
    while from <= head {
        let to = (from + CHUNK - 1).min(head);
        let tx = client.transaction().await.context("starting a chunk")?;
        if from == request.from_position && request.from_position == 1 {
            // The whole history goes again: what the relay knew it had published is moot, and
            // an empty new cluster must not look like a loss once publishing starts.
            for topic in &covered {
                store::publication::forget_topic(&*tx, topic).await?;
            }
        }
        queued +=
            store::publication::requeue(&*tx, request.stream_type.as_deref(), from, to).await?;
        tx.commit().await.context("committing a chunk")?;
        println!("republish: queued {queued} events (positions {from}..={to} of {head})");
        from = to + 1;
    }
    wait_for_relay(pool, request, head, queued).await?;
    Ok(queued)
}

/// Prints progress until nothing in `from..=head` waits in the outbox any more.
async fn wait_for_relay(
    pool: &Pool,
    request: &Request,
    head: i64,
    queued: u64,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut last_relay_seen = Instant::now();
    loop {
        let client = pool.get().await.context("connecting to the event store")?;
        let waiting =
            store::publication::waiting_between(&**client, request.from_position, head).await?;
        let relay_active: bool = client
            .query_one(
                "SELECT EXISTS (
                     SELECT 1 FROM pg_locks
                     WHERE locktype = 'advisory' AND objsubid = 1 AND granted
                       AND ((classid::bigint << 32) | objid::bigint) = $1)",
                &[&RELAY_LOCK],
            )
            .await
            .context("looking for the active relay")?
            .get(0);
        drop(client);
        if waiting == 0 {
            println!(
                "republish: done, {queued} events queued and published in {:.1} s",
                started.elapsed().as_secs_f64()
            );
            return Ok(());
        }
        let published = (queued as i64 - waiting).max(0);
        println!("republish: {published} of {queued} published, {waiting} waiting");
        if relay_active {
            last_relay_seen = Instant::now();
        } else if last_relay_seen.elapsed() > Duration::from_secs(10) {
            println!(
                "republish: no active relay; start command-api (CC_RELAY__ENABLED=true) to publish"
            );
            last_relay_seen = Instant::now();
        }
        if request
            .wait_limit
            .is_some_and(|limit| started.elapsed() >= limit)
        {
            println!("republish: stopped waiting; the relay publishes the rest on its own");
            return Ok(());
        }
        tokio::time::sleep(PROGRESS_EVERY).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn arguments_name_the_range_and_the_stream_type() {
        let all = Request::parse(&[]).unwrap();
        assert_eq!(all.from_position, 1);
        assert_eq!(all.stream_type, None);
        let some = Request::parse(&args("--from-position 42 --stream-type product")).unwrap();
        assert_eq!(some.from_position, 42);
        assert_eq!(some.stream_type.as_deref(), Some("product"));
        assert!(Request::parse(&args("--from-position 0")).is_err());
        assert!(Request::parse(&args("--from-position")).is_err());
        assert!(Request::parse(&args("--everything")).is_err());
    }
}
