//! Integration tests of command-api against the real PostgreSQL and the real broker.

// A failed unwrap is a failed test, which is what a test helper should do.
#![allow(clippy::unwrap_used)]

mod abuse;
mod account_mail;
mod concurrency;
mod helpers;
mod idempotency;
mod operations;
mod process;
mod products;
mod relay;
mod robustness;
mod roles;
mod sealing;
mod seed;
mod sessions;
mod snapshots;
mod users;
