//! The projector: consumes the event topics and builds the PostgreSQL read
//! models effectively once (guarantee 3), in versioned read schemas that can be rebuilt side by
//! side and swapped in without downtime (guarantee 5).
//!
//! - [`apply`]: one batch of events → rows, audit, stream versions and checkpoint, in one
//!   transaction; [`Projection::apply_events`] drives it without a broker.
//! - [`consumer`]: the consumer loop; partitions are leased among replicas in PostgreSQL and
//!   start at their checkpoints, on a log that is checked to be the checkpoint's.
//! - [`freshness`]: how far the projection is behind Kafka and the event store, sampled by
//!   every replica into metrics and `projection_status`.
//! - [`schema`]: creating, flipping and dropping read schemas (their DDL is the `read-model` crate's).
//! - [`startup`]: `projector run` (admin listener + consumer, graceful shutdown).
//! - [`rebuild`] and [`verify`]: blue-green rebuilds and the audit of the projection.
//!
//! What the read model looks like to its readers is the `read-model` crate's contract.

pub mod admin;
pub mod apply;
pub mod consumer;
pub mod freshness;
pub mod metrics;
pub mod rebuild;
pub mod schema;
pub mod settings;
pub mod startup;
pub mod verify;

pub use apply::{ApplyError, BatchOutcome, CheckpointMove, Projection};
pub use read_model::ReadSchema;
