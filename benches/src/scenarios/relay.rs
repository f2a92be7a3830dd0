//! Relay: a backlog of committed events drained to Kafka acknowledgements, events/s, against a
//! bare idempotent producer sending the same number of same-sized messages (the broker's limit
//! here); and the commit-to-ack latency the relay itself recorded during the write scenario.

use std::time::{Duration, Instant};

use rdkafka::producer::{FutureProducer, FutureRecord};
use serde_json::json;

use crate::scenarios::{Ceiling, Outcome, Size};

/// A realistic payload, the size of a `product.price_changed` event.
const PAYLOAD: &str = r#"{"product_id":"0191d3a0-0000-7000-8000-000000000000","previous_price":{"amount_minor":1000,"currency":"EUR"},"price":{"amount_minor":1001,"currency":"EUR"}}"#;

/// Commits `events` events at once (one per stream, over 1000 streams) and waits until the
/// running relay has emptied the outbox. Returns events per second.
async fn drain_backlog(database_url: &str, events: usize) -> anyhow::Result<f64> {
    let (client, connection) = tokio_postgres::connect(database_url, tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    let started = Instant::now();
    client
        .batch_execute(&format!(
            "WITH ins AS (
                 INSERT INTO es.events (event_id, stream_id, stream_type, stream_version, event_type,
                                        schema_version, payload, correlation_id, actor)
                 SELECT gen_random_uuid(), s.id, 'product', g.v, 'product.price_changed', 1,
                        '{PAYLOAD}', gen_random_uuid(), 'bench'
                 FROM (SELECT gen_random_uuid() AS id FROM generate_series(1, 1000)) s,
                      generate_series(1, {per_stream}) AS g(v)
                 ORDER BY g.v
                 RETURNING position)
             INSERT INTO es.outbox (position) SELECT position FROM ins;
             SELECT pg_notify('es_outbox', '');",
            per_stream = events.div_ceil(1000)
        ))
        .await?;
    let inserted = started.elapsed();
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let pending: i64 = client
            .query_one("SELECT count(*) FROM es.outbox", &[])
            .await?
            .get(0);
        if pending == 0 {
            break;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "relay did not drain {pending} events in time"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let total = events.div_ceil(1000) * 1000;
    Ok(total as f64 / (started.elapsed() - inserted).as_secs_f64())
}

/// Messages per second an idempotent, acks=all producer gets acknowledged, sending `count`.
async fn bare_producer_rate(
    settings: &kafka::KafkaSettings,
    topic: &str,
    count: usize,
) -> anyhow::Result<f64> {
    let producer: FutureProducer = kafka::producer::idempotent_producer(settings)?;
    let started = Instant::now();
    let mut acks = Vec::with_capacity(count);
    for i in 0..count {
        let key = format!("stream-{}", i % 1000);
        let record = FutureRecord::to(topic).key(&key).payload(PAYLOAD);
        let delivery = producer.send_result(record).map_err(|(e, _)| e)?;
        acks.push(delivery);
    }
    for ack in futures::future::join_all(acks).await {
        ack?.map_err(|(e, _)| e)?;
    }
    Ok(count as f64 / started.elapsed().as_secs_f64())
}

pub async fn run(
    database_url: &str,
    kafka: &kafka::KafkaSettings,
    commit_to_ack: serde_json::Value,
    size: Size,
) -> anyhow::Result<Outcome> {
    let ours = drain_backlog(database_url, size.relay_events).await?;
    let ceiling_topic = format!("bench.ceiling.{}", uuid::Uuid::new_v4().simple());
    let mut ceiling_settings = kafka.clone();
    ceiling_settings.topics.product = ceiling_topic.clone();
    kafka::admin::ensure_topics(&ceiling_settings).await?;
    let ceiling = bare_producer_rate(kafka, &ceiling_topic, size.relay_events).await?;
    Ok(Outcome {
        scenario: "relay".to_owned(),
        description: format!(
            "{} committed events drained from the outbox to Kafka acknowledgements; ceiling: bare idempotent acks=all producer, same count and payload",
            size.relay_events
        ),
        ours_per_second: ours,
        ceilings: vec![Ceiling::new(
            "bare idempotent producer",
            ceiling,
            ours,
            json!({ "messages": size.relay_events }),
        )],
        ours: json!({ "commit_to_ack_during_command_write": commit_to_ack }),
        goal: ">= 0.5x bare producer",
        notes: vec![],
    })
}
