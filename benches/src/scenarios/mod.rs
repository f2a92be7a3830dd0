//! The benchmark scenarios. Each measures one path and, in the same run on the same machine, the
//! ceiling that path cannot beat, and reports the ratio.

pub mod command_write;
pub mod relay;
pub mod signup;

use std::time::Duration;

use serde::Serialize;

/// What every scenario reports.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub scenario: &'static str,
    /// What was measured, in words.
    pub description: String,
    pub ours: serde_json::Value,
    pub ceiling: serde_json::Value,
    /// `ours / ceiling` on throughput.
    pub ratio: f64,
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
}

impl Size {
    pub fn quick() -> Self {
        Self {
            duration: Duration::from_secs(5),
            concurrency: 8,
            relay_events: 20_000,
        }
    }

    pub fn full() -> Self {
        Self {
            duration: Duration::from_secs(20),
            concurrency: 16,
            relay_events: 100_000,
        }
    }
}
