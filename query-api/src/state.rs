//! What every query-api request handler shares.

use std::time::Duration;

use deadpool_postgres::Pool;

use crate::{
    consistency::waiter::Waiter,
    listing::{cache::ListingCache, common_terms::CommonTerms},
    read_conn::ActiveSchema,
};

#[derive(Debug)]
pub struct AppState {
    pub pool: Pool,
    /// The read schema in use, following `read_meta.active`.
    pub schema: ActiveSchema,
    /// Bound of a `Consistency-Token` wait.
    pub consistency_wait: Duration,
    /// Every request waiting for a `Consistency-Token`, served by one task.
    pub consistency: Waiter,
    /// Recent listing pages, reused for identical requests.
    pub listings: ListingCache,
    /// Postings of the commonest search terms, to pick a search's rarest word.
    pub common_terms: CommonTerms,
    /// Readiness: how stale the projection may be, and whether staleness fails it.
    pub freshness: FreshnessBound,
}

/// How stale the projection may be before readiness says so.
#[derive(Debug, Clone, Copy)]
pub struct FreshnessBound {
    pub max_lag: Duration,
    pub unready_when_stale: bool,
}
