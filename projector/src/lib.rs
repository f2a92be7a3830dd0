//! The projector: consumes the event topics in a consumer group and builds the PostgreSQL read
//! models effectively once (guarantee 3), in versioned read schemas that can be rebuilt side by
//! side and swapped in without downtime (guarantee 5).
//!
//! - [`apply`]: one batch of events → rows, audit, stream versions and checkpoint, in one
//!   transaction; [`Projection::apply_events`] drives it without a broker.
//! - [`consumer`]: the consumer loop, with checkpoints loaded on assignment.
//! - [`schema`]: the read schemas, their DDL (`src/sql/`) and the `read_meta.active` pointer.
//! - [`startup`]: `projector run` (admin listener + consumer, graceful shutdown).
//! - [`rebuild`] and [`verify`]: blue-green rebuilds and the audit of the projection.
//!
//! # Reading the read model (the query API's contract)
//!
//! - Per request (or per short cache period), `SELECT schema FROM read_meta.active` names the
//!   schema to query (`read_v1`, then `read_v2` after a rebuild...). A flipped pointer's
//!   previous schema stays readable for `CC_PROJECTOR__REBUILD_GRACE_SECS`.
//! - Tables (`src/sql/read_model.sql`): `products`, `categories`, `users`, `audit_events`,
//!   `stream_versions`, `checkpoints`. Timestamps are event times.
//! - Full-text search: `search @@ websearch_to_tsquery('english', $q)`, ranked with
//!   `ts_rank(search, query)`; the same `english` configuration built the vector.
//! - Keyset listings order by `(key, id)` in one direction, matching an index:
//!   `(status, created_at DESC, id DESC)`, `(status, price_minor, id)`, `(status, name, id)`,
//!   `(status, category, created_at DESC, id DESC)`, `(status, category, price_minor, id)`,
//!   `(seller_id, created_at DESC, id DESC)`.
//! - Read-your-writes: a stream has been applied up to `stream_versions.version`.
//! - The role `cc_reader`, when it exists, may SELECT every table of every read schema.

pub mod admin;
pub mod apply;
pub mod checkpoint;
pub mod consumer;
pub mod metrics;
pub mod rebuild;
pub mod schema;
pub mod settings;
pub mod startup;
pub mod verify;

pub use apply::{ApplyError, BatchOutcome, CheckpointMove, Projection};
pub use schema::ReadSchema;
