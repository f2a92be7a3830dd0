//! Freshness: how long after command-api answers a write the query API shows it, at a steady
//! command rate, through the whole pipeline (outbox, relay, broker, projector, read model). An
//! open loop: commands start on a fixed schedule whether or not earlier ones became visible,
//! so a slow pipeline shows up as latency rather than as a lower rate.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use tokio::sync::Mutex;
use uuid::Uuid;

use crate::{
    load::{LoadResult, histogram},
    scenarios::{Outcome, Size, command_write},
};

/// How often a waiting client looks at the query API again: the resolution of the measurement.
const POLL: Duration = Duration::from_millis(5);
/// A write not visible after this long counts as an error.
const GIVE_UP: Duration = Duration::from_secs(10);
/// Products written in turn: at 500 commands/s each sees about eight a second, so writes rarely
/// meet on one stream and retry.
const PRODUCTS: usize = 64;

/// The version in an `ETag: "<n>"` answer.
fn etag_version(response: &reqwest::Response) -> Option<i64> {
    response
        .headers()
        .get("etag")?
        .to_str()
        .ok()?
        .trim_matches('"')
        .parse()
        .ok()
}

/// Polls the product page until it shows `version` or later; returns when it did.
async fn visible(http: &reqwest::Client, url: &str, version: i64) -> Option<Instant> {
    let deadline = Instant::now() + GIVE_UP;
    while Instant::now() < deadline {
        if let Ok(response) = http.get(url).send().await
            && response.status().is_success()
            && let Ok(body) = response.json::<Value>().await
            && body["version"].as_i64().is_some_and(|v| v >= version)
        {
            return Some(Instant::now());
        }
        tokio::time::sleep(POLL).await;
    }
    None
}

/// Changes a price, then measures until the query API shows the new version.
async fn one_write(
    http: &reqwest::Client,
    command_api: &str,
    query_api: &str,
    token: &str,
    product: Uuid,
    n: u64,
) -> Option<Duration> {
    let response = http
        .put(format!("{command_api}/v1/products/{product}/price"))
        .bearer_auth(token)
        .json(&json!({ "amount_minor": 2_000 + (n % 1_000) as i64, "currency": "EUR" }))
        .send()
        .await
        .ok()?;
    if !response.status().is_success() {
        return None;
    }
    let accepted = Instant::now();
    let version = etag_version(&response)?;
    let url = format!("{query_api}/v1/products/{product}");
    visible(http, &url, version)
        .await
        .map(|seen| seen - accepted)
}

pub async fn run(
    command_api: &str,
    query_api: &str,
    database_url: &str,
    admin: (&str, &str),
    size: Size,
) -> anyhow::Result<Outcome> {
    let (token, products) =
        command_write::prepare(command_api, database_url, admin, PRODUCTS).await?;
    let http = reqwest::Client::new();
    // Published, so the anonymous product page shows them; and visible before timing starts.
    for product in &products {
        let response = http
            .post(format!("{command_api}/v1/products/{product}/publish"))
            .bearer_auth(&token)
            .send()
            .await?;
        anyhow::ensure!(
            response.status().is_success(),
            "publish: {}",
            response.status()
        );
        let version = etag_version(&response).unwrap_or(2);
        let url = format!("{query_api}/v1/products/{product}");
        anyhow::ensure!(
            visible(&http, &url, version).await.is_some(),
            "a published product never reached the query API"
        );
    }

    let totals = Arc::new(Mutex::new((histogram(), 0_u64)));
    let interval = Duration::from_secs_f64(1.0 / f64::from(size.freshness_rate));
    let count = (size.duration.as_secs_f64() * f64::from(size.freshness_rate)) as u64;
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let started = Instant::now();
    let mut writes = Vec::new();
    for n in 0..count {
        ticker.tick().await;
        let (http, totals, token) = (http.clone(), totals.clone(), token.clone());
        let (command_api, query_api) = (command_api.to_owned(), query_api.to_owned());
        let product = products[n as usize % products.len()];
        writes.push(tokio::spawn(async move {
            let outcome = one_write(&http, &command_api, &query_api, &token, product, n).await;
            let mut totals = totals.lock().await;
            match outcome {
                Some(latency) => {
                    let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
                    let _ = totals.0.record(micros.max(1));
                }
                None => totals.1 += 1,
            }
        }));
    }
    futures::future::join_all(writes).await;
    let elapsed = started.elapsed();
    let totals = totals.lock().await;
    let ours = LoadResult::from_histogram(&totals.0, totals.1, elapsed);
    Ok(Outcome {
        scenario: "freshness".to_owned(),
        description: format!(
            "PUT price at {} commands/s for {} s over {PRODUCTS} products; latency from the 200 answer until GET /v1/products/{{id}} on query-api shows that version (polled every {} ms)",
            size.freshness_rate,
            size.duration.as_secs(),
            POLL.as_millis()
        ),
        ours_per_second: ours.throughput,
        ours: serde_json::to_value(&ours)?,
        ceilings: vec![],
        goal: "p99 < 50 ms at 500 commands/s",
        notes: vec![format!(
            "{} writes, {} never visible within {} s",
            ours.requests + ours.errors,
            ours.errors,
            GIVE_UP.as_secs()
        )],
    })
}
