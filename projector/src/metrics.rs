//! Names and meanings of the projector's metrics, declared once. Served on `/metrics` of the
//! admin listener; the dashboards and alerts in `k8s/platform/` use these names.

/// Events applied to the read model (counter, by topic). Its rate is "events per second".
pub const EVENTS_APPLIED: &str = "projector_events_applied_total";
/// Events read but not applied (counter, by reason): `duplicate` (version already applied, e.g.
/// a relay re-send), `unknown_type` (type or schema version this release does not know; still
/// recorded in the audit table), `undecodable` (no valid CloudEvents envelope; only the offset
/// moves past it), `not_created` (a stream of the batch whose creation event was never seen, so
/// no row could be written; counted once per stream and batch).
pub const EVENTS_SKIPPED: &str = "projector_events_skipped_total";
/// Events whose version was more than one above the stream's applied version (counter, by
/// topic). Applied anyway: the relay publishes in order, so a gap means an event was lost
/// upstream, and that must show up here rather than as a projector stuck waiting for it.
pub const VERSION_GAPS: &str = "projector_version_gaps_total";
/// Events per applied batch (histogram; rendered as a summary by the shared recorder).
pub const BATCH_SIZE: &str = "projector_batch_size";
/// Wall time of one batch transaction, from BEGIN to COMMIT (histogram, seconds).
pub const BATCH_DURATION: &str = "projector_batch_duration_seconds";
/// Batch transactions that failed and were retried or abandoned (counter, by reason:
/// `fenced` when another consumer moved the checkpoint, `database` otherwise).
pub const BATCH_FAILURES: &str = "projector_batch_failures_total";
/// Messages between the partition's high watermark and the checkpoint (gauge, by topic and
/// partition; sampled, 0 for partitions this replica no longer owns).
pub const CONSUMER_LAG: &str = "projector_consumer_lag";
/// Now minus the time of the last applied event, 0 once every owned partition of the
/// projection's topic is caught up (gauge, seconds, by projection: `products`, `users`).
pub const PROJECTION_LAG: &str = "projector_projection_lag_seconds";
/// Partitions this replica owns (gauge).
pub const ASSIGNED_PARTITIONS: &str = "projector_assigned_partitions";
/// Group rebalances seen by this replica (counter, by kind: `assign`, `revoke`, `error`).
pub const REBALANCES: &str = "projector_rebalances_total";
/// Fraction of the topics a rebuild or verify has applied, 0 to 1 (gauge, by schema).
pub const REBUILD_PROGRESS: &str = "projector_rebuild_progress";

/// The projection a topic feeds, for [`PROJECTION_LAG`].
pub fn projection_of(stream_type: &str) -> &'static str {
    match stream_type {
        "product" => "products",
        "user" => "users",
        _ => "other",
    }
}

/// Registers descriptions so `/metrics` explains each series.
pub fn describe() {
    platform::pool_metrics::describe();
    metrics::describe_counter!(EVENTS_APPLIED, "Events applied to the read model");
    metrics::describe_counter!(
        EVENTS_SKIPPED,
        "Events read but not applied (duplicate, unknown_type, undecodable, not_created)"
    );
    metrics::describe_counter!(
        VERSION_GAPS,
        "Events more than one version above their stream's applied version (applied anyway)"
    );
    metrics::describe_histogram!(BATCH_SIZE, "Events per applied batch");
    metrics::describe_histogram!(
        BATCH_DURATION,
        metrics::Unit::Seconds,
        "Duration of one batch transaction"
    );
    metrics::describe_counter!(BATCH_FAILURES, "Batch transactions that failed");
    metrics::describe_gauge!(
        CONSUMER_LAG,
        "Messages between the high watermark and the checkpoint, per partition"
    );
    metrics::describe_gauge!(
        PROJECTION_LAG,
        metrics::Unit::Seconds,
        "Age of the last applied event, 0 when caught up"
    );
    metrics::describe_gauge!(ASSIGNED_PARTITIONS, "Partitions owned by this replica");
    metrics::describe_counter!(REBALANCES, "Consumer group rebalances seen");
    metrics::describe_gauge!(
        REBUILD_PROGRESS,
        "Fraction of the topics applied by a rebuild or verify"
    );
}
