//! What the consumer thread tells the admin listener: whether this replica is the active one,
//! and how far behind it is.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use crate::metrics as m;

/// Shared between the consumer thread (writer) and the readiness handler (reader).
#[derive(Debug)]
pub struct Status {
    active: AtomicBool,
    /// Messages not handled yet; -1 while unknown (standby, or no statistics yet).
    lag: AtomicI64,
}

impl Default for Status {
    fn default() -> Self {
        Self {
            active: AtomicBool::new(false),
            lag: AtomicI64::new(-1),
        }
    }
}

impl Status {
    pub fn set_active(&self, active: bool) {
        self.active.store(active, Ordering::Relaxed);
        metrics::gauge!(m::ACTIVE).set(if active { 1.0 } else { 0.0 });
        if !active {
            self.lag.store(-1, Ordering::Relaxed);
            metrics::gauge!(m::CONSUMER_LAG).set(0.0);
        }
    }

    pub fn is_active(&self) -> bool {
        self.active.load(Ordering::Relaxed)
    }

    pub fn set_lag(&self, lag: i64) {
        self.lag.store(lag, Ordering::Relaxed);
        metrics::gauge!(m::CONSUMER_LAG).set(lag.max(0) as f64);
    }

    /// `None` while unknown.
    pub fn lag(&self) -> Option<i64> {
        Some(self.lag.load(Ordering::Relaxed)).filter(|lag| *lag >= 0)
    }
}
