//! Names and meanings of command-api's own metrics, the outbox relay's included (HTTP durations
//! are in `platform::http_metrics`, pool gauges in `platform::pool_metrics`).

/// Events appended to the event store (counter, by event type).
pub const EVENTS_APPENDED: &str = "events_appended_total";
/// Commands refused by a business rule (counter, by code).
pub const COMMANDS_REJECTED: &str = "commands_rejected_total";
/// Optimistic-concurrency conflicts, whether retried or answered 409/412 (counter).
pub const VERSION_CONFLICTS: &str = "version_conflicts_total";
/// Failed sign-ins (counter).
pub const LOGIN_FAILURES: &str = "login_failures_total";
/// Sign-ins, sign-ups and re-authentications refused because a budget was spent (counter, by
/// `bucket`: `auth/throttle.rs` names them; `password_checks` is the global one, answered 503).
pub const LOGIN_THROTTLED: &str = "login_throttled_total";
/// Password hashes shed with 503 because too many waited for a core (counter).
pub const PASSWORD_HASHES_SHED: &str = "password_hashes_shed_total";
/// Sessions started by a sign-in (counter).
pub const SESSIONS_STARTED: &str = "sessions_started_total";
/// Refresh requests (counter, by `outcome`: `rotated` or `refused`).
pub const SESSION_REFRESHES: &str = "session_refreshes_total";
/// Sessions ended (counter, by `reason`: `signed_out`, `refresh_token_reused`,
/// `password_changed`, `password_reset`, `role_changed`, `deactivated`). A rise of `refresh_token_reused` means
/// refresh tokens are being stolen or a client reuses them.
pub const SESSIONS_ENDED: &str = "sessions_ended_total";
/// Password-reset requests after their 202 (counter, by `outcome`: `recorded`, `no_account`,
/// `refused` for a deactivated account, `failed`). Never exposed to the caller.
pub const PASSWORD_RESET_REQUESTS: &str = "password_reset_requests_total";
/// Requests answered from a stored idempotency record (counter).
pub const IDEMPOTENT_REPLAYS: &str = "idempotent_replays_total";
/// Aggregate snapshots written, one per `store::SNAPSHOT_EVERY` events of a stream (counter, by
/// stream type). Flat while commands succeed means snapshots are not being written, and every
/// command folds its whole stream.
pub const SNAPSHOTS_WRITTEN: &str = "snapshots_written_total";

/// Events the relay published and Kafka acknowledged (counter, by topic).
pub const RELAY_EVENTS_PUBLISHED: &str = "relay_events_published_total";
/// Events waiting in the outbox (gauge, sampled by the active relay).
pub const RELAY_OUTBOX_BACKLOG: &str = "relay_outbox_backlog";
/// Age of the oldest event waiting in the outbox (gauge, seconds).
pub const RELAY_OUTBOX_OLDEST_AGE: &str = "relay_outbox_oldest_age_seconds";
/// From an event's commit to Kafka's acknowledgement (histogram, seconds).
pub const RELAY_COMMIT_TO_ACK: &str = "relay_commit_to_ack_seconds";
/// 1 while this replica holds the relay lock, 0 while it stands by (gauge).
pub const RELAY_ACTIVE: &str = "relay_active";
/// Batches that failed to publish and will be retried (counter).
pub const RELAY_PUBLISH_FAILURES: &str = "relay_publish_failures_total";

/// Topics whose log the broker lost (an acknowledgement below the published offset, or an empty
/// partition where events were published); each time, the topic's history is queued again
/// (counter, by topic).
pub const RELAY_LOG_LOSSES: &str = "relay_log_losses_total";

pub fn describe() {
    metrics::describe_counter!(EVENTS_APPENDED, "Events appended to the event store");
    metrics::describe_counter!(COMMANDS_REJECTED, "Commands refused by a business rule");
    metrics::describe_counter!(VERSION_CONFLICTS, "Optimistic concurrency conflicts");
    metrics::describe_counter!(LOGIN_FAILURES, "Failed sign-in attempts");
    metrics::describe_counter!(
        LOGIN_THROTTLED,
        "Password attempts refused because a budget was spent"
    );
    metrics::describe_counter!(
        PASSWORD_HASHES_SHED,
        "Password hashes shed because too many waited for a core"
    );
    metrics::describe_counter!(SESSIONS_STARTED, "Sessions started by a sign-in");
    metrics::describe_counter!(SESSION_REFRESHES, "Refresh requests, by outcome");
    metrics::describe_counter!(SESSIONS_ENDED, "Sessions ended, by reason");
    metrics::describe_counter!(
        PASSWORD_RESET_REQUESTS,
        "Password reset requests after their 202, by outcome"
    );
    metrics::describe_counter!(
        IDEMPOTENT_REPLAYS,
        "Responses replayed for a repeated Idempotency-Key"
    );
    metrics::describe_counter!(
        SNAPSHOTS_WRITTEN,
        "Aggregate snapshots written with the events they cover"
    );

    metrics::describe_counter!(
        RELAY_EVENTS_PUBLISHED,
        "Events published by the outbox relay and acknowledged by Kafka"
    );
    metrics::describe_gauge!(RELAY_OUTBOX_BACKLOG, "Events waiting in the outbox");
    metrics::describe_gauge!(
        RELAY_OUTBOX_OLDEST_AGE,
        "Age in seconds of the oldest event waiting in the outbox"
    );
    metrics::describe_histogram!(
        RELAY_COMMIT_TO_ACK,
        metrics::Unit::Seconds,
        "Time from an event's commit to Kafka's acknowledgement"
    );
    metrics::describe_gauge!(RELAY_ACTIVE, "1 while this replica is the active relay");
    metrics::describe_counter!(
        RELAY_PUBLISH_FAILURES,
        "Relay batches that failed to publish and will be retried"
    );
    metrics::describe_counter!(
        RELAY_LOG_LOSSES,
        "Topics whose log the broker lost; their history was queued again"
    );
    platform::pool_metrics::describe();
}
