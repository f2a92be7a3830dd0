//! The catalog listing: its parameters (parsed into a `ListingQuery` that cannot hold a bad
//! value), the keyset cursor, the search's words resolved into lexemes, the SQL it runs, the
//! page it answers with, and the short-lived cache of recent pages. The SQL builder is public so that the EXPLAIN test checks the very
//! statements the route executes.

pub mod cache;
pub mod common_terms;
pub mod cursor;
pub mod filters;
pub mod page;
pub mod prepared;
pub mod query;
pub mod search;
pub mod sql;

pub use self::{
    cursor::{Cursor, CursorError, SortKey},
    filters::{Filters, Sort},
    query::{DEFAULT_LIMIT, ListingQuery, MAX_LIMIT, MAX_QUERY_LEN},
};
