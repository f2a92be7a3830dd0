//! Deletions every replica runs on a timer: idempotency records past their 24 hours and sessions a
//! day after they ended or expired, with their refresh tokens (hourly), expired mailed tokens
//! (every ten minutes), and ended attempt windows
//! and expired client trust of the password throttle (every minute), so keys an attacker invents
//! do not pile up. The DELETEs are idempotent and use their indexes, so
//! replicas need not agree on who runs them.

use std::time::Duration;

use deadpool_postgres::Pool;

/// Starts every housekeeping loop on the runtime.
pub fn spawn(pool: &Pool) {
    tokio::spawn(every(
        Duration::from_secs(3600),
        "purging expired idempotency keys",
        pool.clone(),
        |pool| async move {
            let client = pool.get().await?;
            Ok(store::idempotency::purge_expired(&**client).await?)
        },
    ));
    tokio::spawn(every(
        Duration::from_secs(3600),
        "deleting sessions ended a day ago",
        pool.clone(),
        |pool| async move {
            let client = pool.get().await?;
            Ok(store::sessions::sweep(&**client, Duration::from_secs(86_400)).await?)
        },
    ));
    tokio::spawn(every(
        Duration::from_secs(600),
        "deleting expired mailed tokens",
        pool.clone(),
        |pool| async move {
            let client = pool.get().await?;
            Ok(store::mailed_tokens::sweep(&**client).await?)
        },
    ));
    tokio::spawn(every(
        Duration::from_secs(60),
        "sweeping ended attempt windows",
        pool.clone(),
        |pool| async move {
            let client = pool.get().await?;
            Ok(store::throttle::sweep(&**client).await?)
        },
    ));
}

/// Runs `job` every `period`, logging what it deleted or why it failed; never stops.
async fn every<F, Fut>(period: Duration, what: &'static str, pool: Pool, job: F)
where
    F: Fn(Pool) -> Fut,
    Fut: Future<Output = anyhow::Result<u64>>,
{
    let mut ticks = tokio::time::interval(period);
    loop {
        ticks.tick().await;
        match job(pool.clone()).await {
            Ok(0) => {}
            Ok(count) => tracing::info!(count, what, "housekeeping"),
            Err(e) => tracing::warn!(error = format!("{e:#}"), what, "housekeeping failed"),
        }
    }
}
