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
/// topic). Held back, not applied: the stream waits for the missing version, which comes when
/// history is published again (after a lost topic, or `command-api republish`). A count that
/// keeps rising means an event is missing from the topic: publish it again.
pub const VERSION_GAPS: &str = "projector_version_gaps_total";
/// Events per applied batch (histogram; rendered as a summary by the shared recorder).
pub const BATCH_SIZE: &str = "projector_batch_size";
/// Wall time of one batch transaction, from BEGIN to COMMIT (histogram, seconds).
pub const BATCH_DURATION: &str = "projector_batch_duration_seconds";
/// Batch transactions that failed and were retried or abandoned (counter, by reason:
/// `fenced` when another consumer moved the checkpoint, `database` otherwise).
pub const BATCH_FAILURES: &str = "projector_batch_failures_total";
/// Messages between the partition's high watermark and its checkpoint, for every partition of
/// the topics whoever owns it (gauge, by topic and partition; every replica samples all of
/// them, so take the max across replicas, not the sum). See `freshness`.
pub const CONSUMER_LAG: &str = "projector_consumer_lag";
/// How long the projection has been behind its sources: the longer of the time a partition has
/// stood behind its high watermark without progress, and the age of the oldest event recorded
/// in the event store and not yet applied (gauge, seconds, by projection: `products`, `users`).
/// 0 when caught up; it grows, never resets, while the projection is stalled.
pub const PROJECTION_LAG: &str = "projector_projection_lag_seconds";
/// The event store side of [`PROJECTION_LAG`] alone: the age of the oldest event seen recorded
/// but not applied (gauge, seconds, by projection). Catches events that never reached Kafka.
pub const UNPROJECTED_EVENT_AGE: &str = "projector_unprojected_event_age_seconds";
/// Partitions this replica owns (gauge).
pub const ASSIGNED_PARTITIONS: &str = "projector_assigned_partitions";
/// Changes of the partitions this replica owns (counter, by kind: `lease`).
pub const REBALANCES: &str = "projector_rebalances_total";
/// Partitions read again from offset 0 because their log was replaced: a recreated topic, a
/// wiped broker, Kafka rebuilt from the event store (counter, by topic).
pub const LOG_RESTARTS: &str = "projector_log_restarts_total";
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
        "Events more than one version above their stream's applied version (held back)"
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
        "How long the projection has been behind its sources, 0 when caught up"
    );
    metrics::describe_gauge!(
        UNPROJECTED_EVENT_AGE,
        metrics::Unit::Seconds,
        "Age of the oldest event recorded in the event store and not yet applied"
    );
    metrics::describe_gauge!(ASSIGNED_PARTITIONS, "Partitions owned by this replica");
    metrics::describe_counter!(REBALANCES, "Changes of the partitions this replica owns");
    metrics::describe_counter!(
        LOG_RESTARTS,
        "Partitions read again from offset 0 because their log was replaced"
    );
    metrics::describe_gauge!(
        REBUILD_PROGRESS,
        "Fraction of the topics applied by a rebuild or verify"
    );
}
