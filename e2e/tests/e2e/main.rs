//! End-to-end tests: command-api, the projector, query-api and the notifier together, against the real
//! PostgreSQL and broker, with the settings of `e2e::settings`.

// A failed unwrap is a failed test, which is what a test should do.
#![allow(clippy::unwrap_used)]

mod account_mail;
mod erasure;
mod freshness;
mod one_api;
mod process;
mod projection;
mod read_your_writes;
mod rebuild;
mod roles;
mod tracing;
