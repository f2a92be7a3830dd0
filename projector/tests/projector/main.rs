//! Integration tests of the projector against the real PostgreSQL and the real broker.

// A failed unwrap is a failed test, which is what a test helper should do.
#![allow(clippy::unwrap_used)]

mod apply;
mod catalog;
/// The command API's own test helpers (`spawn_app`, `seller`, `create_product`), shared rather
/// than copied so the end-to-end test follows its settings as they change.
#[allow(dead_code)]
#[path = "../../../command-api/tests/api/helpers.rs"]
mod command_api_helpers;
mod crash;
mod end_to_end;
mod harness;
mod helpers;
mod history;
mod observability;
mod rebuild;
mod replicas;
mod schema;
