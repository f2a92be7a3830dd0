//! query-api against a real PostgreSQL: one binary, one module per concern.

mod audit;
mod caching;
mod consistency;
mod errors;
mod explain;
mod helpers;
mod listing;
mod listing_cache;
mod operations;
mod pagination;
mod resources;
