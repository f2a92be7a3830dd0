//! The read model as a contract: the projector writes it, the query API reads it, and both take
//! its names and shape from here.
//!
//! - [`ReadSchema`]: one version of the read model (`read_v1`, `read_v2` after a rebuild, a
//!   `read_verify_<n>` shadow), always a plain identifier that can be spliced into SQL.
//! - [`ddl`]: the idempotent DDL of `read_meta` and of one read schema, and the table names.
//! - [`pointer`]: `read_meta.active`, the one schema readers use now.
//! - [`representation`]: the resources as the read side serves them (command-api answers
//!   `Prefer: return=representation` with the same types).
//!
//! # Reading the read model
//!
//! - Per request (or per short cache period), [`pointer::active`] names the schema to query.
//!   A flipped pointer's previous schema stays readable for the projector's grace period.
//! - Full-text search: `search @@ websearch_to_tsquery('english', $q)`, ranked with
//!   `ts_rank(search, query)`; the same `english` configuration built the vector.
//! - Keyset listings order by `(key, id)` in one direction, matching an index:
//!   `(status, created_at DESC, id DESC)`, `(status, price_minor, id)`, `(status, name, id)`,
//!   `(status, category, created_at DESC, id DESC)`, `(status, category, price_minor, id)`,
//!   `(seller_id, created_at DESC, id DESC)`.
//! - Read-your-writes: a stream has been applied up to `stream_versions.version`; every batch
//!   that applied something sends `NOTIFY` on [`APPLIED_CHANNEL`] as it commits.
//! - Freshness: `checkpoints` and `projection_status` say how far the projection is behind its
//!   sources (see `ddl` and the projector's `source` module).
//! - The role `cc_reader`, when it exists, may SELECT every table of every read schema.

pub mod ddl;
pub mod name;
pub mod pointer;
pub mod representation;

pub use name::{InvalidSchemaName, ReadSchema, SchemaState};

/// The channel the projector notifies, in the transaction of each batch that applied events, so
/// readers waiting for a version look again the moment it commits.
pub const APPLIED_CHANNEL: &str = "cc_projection_applied";
