//! Every metric query-api records, named and explained once. The HTTP latency histogram
//! (`http_request_duration_seconds{method, route, status}`) comes from the platform middleware.

/// Counter of read-your-writes waits by `outcome`: `immediate` (already applied), `waited`
/// (applied during the wait), `timeout` (answered 503), `refused` (503 at once: more than
/// `CC_QUERY__MAX_CONSISTENCY_WAITERS` were waiting) or `never_written` (412 at once: the event
/// store has no such version). A rising `timeout` rate means the
/// projection lags more than `CC_QUERY__CONSISTENCY_WAIT_MS`.
pub const CONSISTENCY_WAITS: &str = "query_consistency_waits_total";

/// Histogram of how long read-your-writes requests waited for the projection, in seconds.
pub const CONSISTENCY_WAIT_SECONDS: &str = "query_consistency_wait_seconds";

/// Counter of listing cursors refused (undecodable, or replayed with other filters or sort).
pub const CURSOR_ERRORS: &str = "query_cursor_errors_total";

/// Counter of `304 Not Modified` answers by `route`: how much the `ETag`s save.
pub const NOT_MODIFIED: &str = "query_not_modified_total";

/// Counter of active read schema changes seen by this process (a rebuild was swapped in).
pub const SCHEMA_SWITCHES: &str = "query_read_schema_switches_total";

/// Counter of database failures answered 503, by `kind`: `timeout` (statement timeout),
/// `pool` (no connection in time, or none could be opened), `login` (the server refuses our role
/// or database: misconfigured), `connection` (the server is
/// shutting down, full, or the connection died), `schema` (the read schema vanished under us).
pub const DB_UNAVAILABLE: &str = "query_db_unavailable_total";

/// Counter of listings that asked for a total, by `bounded` (`true` when the count stopped at
/// the bound): tells whether the bound is too tight for real catalogs.
pub const TOTALS: &str = "query_listing_totals_total";

/// Counter of listing requests by `result`: `hit` (answered from `listing::cache`), `miss`
/// (queried, then kept) or `bypass` (carried a `Consistency-Token`, or the cache is off).
pub const LISTING_CACHE: &str = "query_listing_cache_total";

/// Counter of searches by `result`: `postings` (relevance order read from the search postings),
/// `indexed` (filtered or sorted otherwise: found through the GIN index) or `nothing` (a word no
/// product holds: answered without a page query). Many `indexed` relevance searches on a large
/// catalog are the slow kind: see ARCHITECTURE.md, "Search".
pub const SEARCHES: &str = "query_searches_total";

/// Gauge: 1 while the last readiness check found the projection stale (further behind its
/// sources than `CC_QUERY__MAX_PROJECTION_LAG_SECS`, or not sampled by any projector for that
/// long), 0 while fresh. Set on every `/health/ready`, which the kubelet calls every few seconds.
pub const PROJECTION_STALE: &str = "query_projection_stale";

/// Registers descriptions so `/metrics` explains each series.
pub fn describe() {
    platform::pool_metrics::describe();
    metrics::describe_gauge!(
        PROJECTION_STALE,
        "1 while the projection is staler than its bound, by the last readiness check"
    );
}
