//! The benchmark scenarios. Each measures one path and, in the same run on the same machine, the
//! ceiling that path cannot beat, and reports the ratio.

pub mod catalog_read;
pub mod command_write;
pub mod freshness;
pub mod projector_replay;
pub mod relay;
pub mod signup;

use std::time::Duration;

use serde::Serialize;

/// A limit measured beside a scenario: the same work without our code in the way.
#[derive(Debug, Clone, Serialize)]
pub struct Ceiling {
    /// What ran, e.g. "pgbench, same SQL".
    pub name: String,
    pub per_second: f64,
    /// `ours / ceiling` on throughput.
    pub ratio: f64,
    pub details: serde_json::Value,
}

impl Ceiling {
    pub fn new(
        name: impl Into<String>,
        per_second: f64,
        ours_per_second: f64,
        details: serde_json::Value,
    ) -> Self {
        Self {
            name: name.into(),
            per_second,
            ratio: if per_second > 0.0 {
                ours_per_second / per_second
            } else {
                0.0
            },
            details,
        }
    }
}

/// What every scenario reports.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub scenario: String,
    /// What was measured, in words.
    pub description: String,
    /// Our throughput: requests, commands or events per second.
    pub ours_per_second: f64,
    /// Latency (`p50_ms`, `p99_ms`, `p999_ms`), errors and whatever else the scenario measured.
    pub ours: serde_json::Value,
    /// Empty when the scenario is judged on latency alone (freshness).
    pub ceilings: Vec<Ceiling>,
    /// The goal this scenario reports against, e.g. ">= 0.6x pgbench".
    pub goal: &'static str,
    pub notes: Vec<String>,
}

/// Sizes for `--quick` (minutes) and the full run (published numbers).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Size {
    pub duration: Duration,
    pub concurrency: usize,
    pub relay_events: usize,
    /// Products in the generated catalog that catalog-read queries.
    pub catalog_products: i64,
    /// Events on the topic the projector replays from offset 0.
    pub replay_events: usize,
    /// Commands per second during the freshness measurement.
    pub freshness_rate: u32,
}

impl Size {
    pub fn quick() -> Self {
        Self {
            duration: Duration::from_secs(5),
            concurrency: 8,
            relay_events: 20_000,
            catalog_products: 100_000,
            replay_events: 50_000,
            freshness_rate: 10,
        }
    }

    pub fn full() -> Self {
        Self {
            duration: Duration::from_secs(20),
            concurrency: 16,
            relay_events: 100_000,
            catalog_products: 1_000_000,
            replay_events: 1_000_000,
            freshness_rate: 500,
        }
    }
}
