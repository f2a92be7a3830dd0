//! query-api against a real PostgreSQL: one binary, one module per concern.

mod audit;
mod caching;
/// The command API's own test helpers (`spawn_app`, `seller`, `product_body`), shared rather
/// than copied, as the projector's tests do.
#[allow(dead_code, clippy::unwrap_used)]
#[path = "../../../command-api/tests/api/helpers.rs"]
mod command_api_helpers;
mod consistency;
mod end_to_end;
mod errors;
mod explain;
mod helpers;
mod listing;
mod listing_cache;
mod operations;
mod pagination;
mod resources;
