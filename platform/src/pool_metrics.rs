//! The PostgreSQL pool's gauges, the same names on every binary so one dashboard panel and one
//! alert cover them all. Sampled when `/metrics` is scraped: the pool knows its state at any
//! moment, so a background sampler would only add a task and staleness.

/// Connections checked out of the pool (gauge).
pub const DB_POOL_IN_USE: &str = "db_pool_connections_in_use";
/// Callers waiting for a connection (gauge); above zero for long means the pool is too small.
pub const DB_POOL_WAITING: &str = "db_pool_waiting";

pub fn describe() {
    metrics::describe_gauge!(DB_POOL_IN_USE, "PostgreSQL connections in use");
    metrics::describe_gauge!(
        DB_POOL_WAITING,
        "Callers waiting for a PostgreSQL connection"
    );
}

/// Sets both gauges from the pool's current status.
pub fn sample(pool: &deadpool_postgres::Pool) {
    let status = pool.status();
    let in_use = status.size.saturating_sub(status.available);
    metrics::gauge!(DB_POOL_IN_USE).set(in_use as f64);
    metrics::gauge!(DB_POOL_WAITING).set(status.waiting as f64);
}
