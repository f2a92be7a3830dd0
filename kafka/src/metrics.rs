//! Names and meanings of the relay's metrics, declared once.

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

/// Registers descriptions so `/metrics` explains each series.
pub fn describe() {
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
}
