//! Names and meanings of the notifier's metrics, declared once. Served on `/metrics` of the
//! admin listener.

/// Mails the SMTP relay accepted (counter, by kind: `email_verification`, `password_reset`,
/// `password_changed`).
pub const MAILS_SENT: &str = "notifier_mails_sent_total";
/// Events that called for a mail, by what became of them (counter, by outcome: `sent`,
/// `stale` (older than the token it would carry; none mailed), `no_recipient` (no address
/// known for the user), `dead_lettered`). One per row of `notifier.deliveries`.
pub const DELIVERIES: &str = "notifier_deliveries_total";
/// Messages copied to the dead-letter topic (counter, by reason: `undecodable` (no valid
/// CloudEvents envelope), `invalid_payload` (the payload does not match its event type),
/// `invalid_address` (no mail can be addressed to the recipient), `smtp_rejected` (the relay
/// refused the mail for good, 5xx), `unrecorded_request` (no such event in the store: the
/// message did not come from the relay), `request_mismatch` (the recorded event is another
/// account's, or asks for no token)).
pub const DEAD_LETTERS: &str = "notifier_dead_letters_total";
/// Attempts that failed for a reason that may pass (database or broker down, SMTP refused,
/// timed out or 4xx) and were retried after a backoff (counter). While it rises, nothing
/// behind the failing message is handled: alert on it.
pub const RETRIES: &str = "notifier_retries_total";
/// 1 while this replica is the active one (holds the lock and consumes), 0 on standby (gauge).
/// The sum across replicas is 1 when healthy.
pub const ACTIVE: &str = "notifier_active";
/// Messages on the user topic that the active replica has not handled yet, summed over the
/// partitions, as librdkafka last reported it (gauge; 0 on standby).
pub const CONSUMER_LAG: &str = "notifier_consumer_lag";

/// Registers descriptions so `/metrics` explains each series, and shows the gauges from the
/// start.
pub fn describe() {
    platform::pool_metrics::describe();
    metrics::describe_counter!(MAILS_SENT, "Mails accepted by the SMTP relay, by kind");
    metrics::describe_counter!(
        DELIVERIES,
        "Events that called for a mail, by outcome (sent, stale, no_recipient, dead_lettered)"
    );
    metrics::describe_counter!(
        DEAD_LETTERS,
        "Messages copied to the dead-letter topic, by reason"
    );
    metrics::describe_counter!(RETRIES, "Failed attempts retried after a backoff");
    metrics::describe_gauge!(ACTIVE, "1 while this replica is the active notifier");
    metrics::describe_gauge!(
        CONSUMER_LAG,
        "Messages on the user topic not handled yet (active replica)"
    );
    metrics::gauge!(ACTIVE).set(0.0);
    metrics::gauge!(CONSUMER_LAG).set(0.0);
    metrics::counter!(RETRIES).increment(0);
}
