//! A closed-loop HTTP load generator: `concurrency` workers each send a request, wait for the
//! answer, and send the next, for a fixed time. Latency goes into an HDR histogram.

use std::{
    future::Future,
    sync::Arc,
    time::{Duration, Instant},
};

use hdrhistogram::Histogram;
use serde::Serialize;
use tokio::sync::Mutex;

/// Throughput and latency of one run.
#[derive(Debug, Clone, Serialize)]
pub struct LoadResult {
    pub requests: u64,
    pub errors: u64,
    pub seconds: f64,
    pub throughput: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
}

impl LoadResult {
    pub fn from_histogram(histogram: &Histogram<u64>, errors: u64, elapsed: Duration) -> Self {
        let ms = |q: f64| histogram.value_at_quantile(q) as f64 / 1000.0;
        let seconds = elapsed.as_secs_f64();
        Self {
            requests: histogram.len(),
            errors,
            seconds,
            throughput: histogram.len() as f64 / seconds,
            p50_ms: ms(0.5),
            p99_ms: ms(0.99),
            p999_ms: ms(0.999),
        }
    }
}

pub fn histogram() -> Histogram<u64> {
    // Microseconds from 1 µs to 60 s with 3 significant figures.
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid histogram bounds")
}

/// Runs `request(worker, n)` from `concurrency` workers for `duration`. A request returns
/// whether it succeeded; failures are counted, not timed.
pub async fn run<F, Fut>(concurrency: usize, duration: Duration, request: F) -> LoadResult
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = bool> + Send,
{
    let request = Arc::new(request);
    let totals = Arc::new(Mutex::new((histogram(), 0_u64)));
    let started = Instant::now();
    let deadline = started + duration;
    let workers = (0..concurrency).map(|worker| {
        let (request, totals) = (request.clone(), totals.clone());
        tokio::spawn(async move {
            let mut local = histogram();
            let mut errors = 0;
            let mut n = 0;
            while Instant::now() < deadline {
                let sent = Instant::now();
                if request(worker, n).await {
                    let micros = sent.elapsed().as_micros().max(1);
                    let _ = local.record(u64::try_from(micros).unwrap_or(u64::MAX));
                } else {
                    errors += 1;
                }
                n += 1;
            }
            let mut totals = totals.lock().await;
            let _ = totals.0.add(&local);
            totals.1 += errors;
        })
    });
    for worker in futures::future::join_all(workers).await {
        let _ = worker;
    }
    let elapsed = started.elapsed();
    let totals = totals.lock().await;
    LoadResult::from_histogram(&totals.0, totals.1, elapsed)
}
