//! Names and meanings of command-api's own metrics (the relay's are in `kafka::metrics`, HTTP
//! durations in `platform::http_metrics`, pool gauges in `platform::pool_metrics`).

/// Events appended to the event store (counter, by event type).
pub const EVENTS_APPENDED: &str = "events_appended_total";
/// Commands refused by a business rule (counter, by code).
pub const COMMANDS_REJECTED: &str = "commands_rejected_total";
/// Optimistic-concurrency conflicts, whether retried or answered 409/412 (counter).
pub const VERSION_CONFLICTS: &str = "version_conflicts_total";
/// Failed sign-ins (counter).
pub const LOGIN_FAILURES: &str = "login_failures_total";
/// Sign-ins refused with 429 because the address had too many recent failures (counter).
pub const LOGIN_THROTTLED: &str = "login_throttled_total";
/// Requests answered from a stored idempotency record (counter).
pub const IDEMPOTENT_REPLAYS: &str = "idempotent_replays_total";
/// Aggregate snapshots written, one per `store::SNAPSHOT_EVERY` events of a stream (counter, by
/// stream type). Flat while commands succeed means snapshots are not being written, and every
/// command folds its whole stream.
pub const SNAPSHOTS_WRITTEN: &str = "snapshots_written_total";

pub fn describe() {
    metrics::describe_counter!(EVENTS_APPENDED, "Events appended to the event store");
    metrics::describe_counter!(COMMANDS_REJECTED, "Commands refused by a business rule");
    metrics::describe_counter!(VERSION_CONFLICTS, "Optimistic concurrency conflicts");
    metrics::describe_counter!(LOGIN_FAILURES, "Failed sign-in attempts");
    metrics::describe_counter!(
        LOGIN_THROTTLED,
        "Sign-ins refused for too many recent failures"
    );
    metrics::describe_counter!(
        IDEMPOTENT_REPLAYS,
        "Responses replayed for a repeated Idempotency-Key"
    );
    metrics::describe_counter!(
        SNAPSHOTS_WRITTEN,
        "Aggregate snapshots written with the events they cover"
    );
    platform::pool_metrics::describe();
    kafka::metrics::describe();
}
