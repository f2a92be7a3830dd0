//! Integration tests of the projector against the real PostgreSQL and the real broker.

// A failed unwrap is a failed test, which is what a test helper should do.
#![allow(clippy::unwrap_used)]

mod admin;
mod apply;
mod catalog;
mod crash;
mod harness;
mod helpers;
mod history;
mod log_restart;
mod observability;
mod rebuild;
mod replicas;
mod schema;
