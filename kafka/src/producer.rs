//! The idempotent producer the relay publishes with.

use anyhow::Context;
use rdkafka::producer::FutureProducer;

use crate::settings::KafkaSettings;

/// Idempotent, `acks=all`: the broker writes each message once per producer session and in
/// order per partition, and acknowledges only when every in-sync replica has it.
pub fn idempotent_producer(settings: &KafkaSettings) -> anyhow::Result<FutureProducer> {
    settings
        .client_config()
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("max.in.flight.requests.per.connection", "5")
        // A little batching pays for itself under load and costs at most 2 ms when idle.
        .set("linger.ms", "2")
        .set("compression.type", "lz4")
        // Bounds how long a batch can hang on a broker that is down or lost a topic; the batch
        // then fails, stays in the outbox and is sent again by a fresh producer.
        .set("message.timeout.ms", "10000")
        // A message for a topic the broker does not know fails after this instead of waiting
        // out the message timeout: the relay then recreates its topics (a broker that came back
        // empty) and sends the batch again.
        .set("topic.metadata.propagation.max.ms", "2000")
        .set("partitioner", "murmur2_random")
        .create()
        .context("creating the Kafka producer")
}
