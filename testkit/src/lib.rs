//! Test support against the real services that `make test` starts: a fresh PostgreSQL
//! database per test, unique topics per test on the real broker, a reader for those topics,
//! the master key every test process shares, a check of `/metrics` scrapes against the documented metric names, the comparison of
//! generated documents with their committed copies, and an SMTP sink that keeps every mail as a
//! file (`mail_sink`, also the `mail-sink` binary) with its reader (`mailbox`).
//!
//! `CC_TEST_DATABASE_URL` names a superuser connection (default: the local stack's cluster) and
//! `CC_TEST_KAFKA_BOOTSTRAP` the broker (default: the local test broker).

pub mod catalog;
pub mod committed;
pub mod database;
pub mod keys;
pub mod mail_sink;
pub mod mailbox;
pub mod metrics;
pub mod topics;
pub mod wait;

pub use database::TestDatabase;
pub use keys::{TEST_MASTER_KEY, test_keyring};
pub use topics::{kafka_bootstrap, read_events, unique_topics};
pub use wait::eventually;
