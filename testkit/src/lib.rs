//! Test support against the real services that `make test` starts: a fresh PostgreSQL
//! database per test, unique topics per test on the real broker, a reader for those topics, and
//! a check of `/metrics` scrapes against the documented metric names.
//!
//! `CC_TEST_DATABASE_URL` names a superuser connection (default: the local stack's cluster) and
//! `CC_TEST_KAFKA_BOOTSTRAP` the broker (default: the local test broker).

pub mod catalog;
pub mod database;
pub mod metrics;
pub mod topics;

pub use database::TestDatabase;
pub use topics::{read_events, unique_topics};

/// The broker tests use.
pub fn kafka_bootstrap() -> String {
    std::env::var("CC_TEST_KAFKA_BOOTSTRAP").unwrap_or_else(|_| "127.0.0.1:19192".to_owned())
}
