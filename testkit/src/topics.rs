//! Unique topics per test on the real broker, and a reader that collects what was published.

use std::time::{Duration, Instant};

use futures::StreamExt;
use kafka::{DecodedEvent, KafkaSettings, Topics};
use rdkafka::{
    Message,
    consumer::{Consumer, StreamConsumer},
};
use uuid::Uuid;

/// The broker tests use.
pub fn kafka_bootstrap() -> String {
    std::env::var("CC_TEST_KAFKA_BOOTSTRAP").unwrap_or_else(|_| "127.0.0.1:19192".to_owned())
}

/// Topic names no other test uses.
pub fn unique_topics() -> Topics {
    let suffix = Uuid::new_v4().simple().to_string();
    Topics {
        user: format!("test.user-events.{suffix}"),
        product: format!("test.product-events.{suffix}"),
    }
}

/// Kafka settings for the test broker with `topics`.
pub fn kafka_settings(topics: Topics) -> KafkaSettings {
    KafkaSettings::local(&kafka_bootstrap(), topics)
}

/// Reads `topics` from the beginning with a fresh consumer group until `done` is satisfied by
/// what was read, or `timeout` passes. Returns everything read, with the raw messages' headers
/// decoded by the production envelope code.
pub async fn read_events(
    topics: &[&str],
    timeout: Duration,
    done: impl Fn(&[DecodedEvent]) -> bool,
) -> anyhow::Result<Vec<DecodedEvent>> {
    let consumer: StreamConsumer = KafkaSettings::local(&kafka_bootstrap(), unique_topics())
        .client_config()
        .set("group.id", format!("test-reader-{}", Uuid::new_v4()))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()?;
    consumer.subscribe(topics)?;
    let deadline = Instant::now() + timeout;
    let mut events = Vec::new();
    let mut stream = consumer.stream();
    while !done(&events) {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            break;
        }
        match tokio::time::timeout(remaining, stream.next()).await {
            Ok(Some(Ok(message))) => {
                let decoded = kafka::envelope::decode(&message).map_err(|e| {
                    anyhow::anyhow!("message at offset {} undecodable: {e}", message.offset())
                })?;
                events.push(decoded);
            }
            Ok(Some(Err(e))) => tracing_free_warn(&e),
            Ok(None) | Err(_) => break,
        }
    }
    Ok(events)
}

fn tracing_free_warn(error: &rdkafka::error::KafkaError) {
    eprintln!("test reader: {error}");
}
