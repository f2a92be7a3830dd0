//! Projector replay: a topic of realistic product histories (the seed's, published straight to
//! the topic) projected from offset 0 into an empty read model by the real `projector run`,
//! events/s. Two ceilings in the same run: a bare rdkafka consumer reading the same topic (the
//! broker's limit here) and a bulk binary COPY of the rows the projector wrote into empty tables
//! with the same indexes (PostgreSQL's limit).

use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::Bytes;
use chrono::{TimeZone, Utc};
use futures::{SinkExt, TryStreamExt};
use rand::{SeedableRng, rngs::StdRng};
use rdkafka::{
    Message, Offset, TopicPartitionList,
    consumer::{BaseConsumer, Consumer},
    producer::{FutureProducer, FutureRecord},
};
use serde_json::json;
use store::RecordedEvent;
use tokio_postgres::Client;
use uuid::Uuid;

use crate::{
    scenarios::{Ceiling, Outcome, Size},
    services::Service,
};

/// Read-model tables the projector fills for product events, in the order COPY reloads them.
const TABLES: [&str; 6] = [
    "products",
    "search_postings",
    "categories",
    "audit_events",
    "stream_versions",
    "checkpoints",
];
/// Acknowledgements awaited together: bounds the producer's memory, not its pipeline.
const IN_FLIGHT: usize = 10_000;

/// Publishes seed product histories to `topic` until at least `target` events are on it, in
/// stream order, keyed and enveloped exactly as the relay does. Returns the count.
async fn publish_histories(
    settings: &kafka::KafkaSettings,
    topic: &str,
    target: usize,
) -> anyhow::Result<usize> {
    let producer: FutureProducer = kafka::producer::idempotent_producer(settings)?;
    let sellers: Vec<Uuid> = (0..20).map(|_| Uuid::new_v4()).collect();
    let epoch = Utc
        .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .context("epoch")?;
    let (mut published, mut product) = (0, 0);
    let mut acks = Vec::with_capacity(IN_FLIGHT);
    while published < target {
        product += 1;
        let mut rng = StdRng::seed_from_u64(product as u64);
        let seller = sellers[product % sellers.len()];
        let (stream_id, _, events) = command_api::seed::product_history(product, seller, &mut rng)?;
        for (index, event) in events.into_iter().enumerate() {
            published += 1;
            let recorded = RecordedEvent {
                position: published as i64,
                event_id: event.event_id,
                stream_id,
                stream_type: "product".to_owned(),
                stream_version: index as i64 + 1,
                event_type: event.event_type.to_owned(),
                schema_version: event.schema_version,
                payload: event.payload,
                correlation_id: Uuid::now_v7(),
                causation_id: None,
                actor: "system".to_owned(),
                traceparent: None,
                recorded_at: epoch + chrono::Duration::milliseconds(published as i64),
            };
            let (key, headers, value) =
                kafka::envelope::encode(&command_api::relay::outgoing(&recorded));
            let record = FutureRecord::to(topic)
                .key(&key)
                .headers(headers)
                .payload(&value);
            acks.push(producer.send_result(record).map_err(|(e, _)| e)?);
            if acks.len() == IN_FLIGHT {
                for ack in futures::future::join_all(acks.drain(..)).await {
                    ack?.map_err(|(e, _)| e)?;
                }
            }
        }
    }
    for ack in futures::future::join_all(acks).await {
        ack?.map_err(|(e, _)| e)?;
    }
    Ok(published)
}

/// Sum of the projector's checkpoints on `topic`: on a fresh topic, the events it applied.
async fn applied(client: &Client, schema: &str, topic: &str) -> anyhow::Result<i64> {
    let row = client
        .query_one(
            &format!(
                "SELECT coalesce(sum(next_offset), 0)::bigint FROM {schema}.checkpoints WHERE topic = $1"
            ),
            &[&topic],
        )
        .await?;
    Ok(row.get(0))
}

/// Runs `projector run` until its checkpoints cover all `events`. Events/s is counted from its
/// first committed batch (group join and start-up excluded) to the last; also returns the
/// start-up time and the projector's peak RSS.
async fn replay(
    env: &[(String, String)],
    client: &Client,
    schema: &str,
    topic: &str,
    events: usize,
) -> anyhow::Result<(f64, f64, Option<f64>)> {
    let spawned = Instant::now();
    let projector = Service::start("projector", &["run"], env).await?;
    let deadline = spawned + Duration::from_secs(1800);
    let (first_at, first_count) = loop {
        let count = applied(client, schema, topic).await?;
        if count > 0 {
            break (Instant::now(), count);
        }
        anyhow::ensure!(Instant::now() < deadline, "the projector applied nothing");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    loop {
        let count = applied(client, schema, topic).await?;
        if count >= events as i64 {
            break;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the projector applied {count} of {events} events in time"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let rate = (events as i64 - first_count) as f64 / first_at.elapsed().as_secs_f64();
    let startup = (first_at - spawned).as_secs_f64();
    Ok((rate, startup, projector.stop()))
}

/// Messages per second a plain consumer reads `topic` from the beginning, `events` in all.
fn bare_consumer_rate(
    settings: &kafka::KafkaSettings,
    topic: &str,
    partitions: i32,
    events: usize,
) -> anyhow::Result<f64> {
    let consumer: BaseConsumer = settings
        .client_config()
        .set(
            "group.id",
            format!("bench-bare-{}", Uuid::new_v4().simple()),
        )
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .create()
        .context("creating the bare consumer")?;
    let mut assignment = TopicPartitionList::new();
    for partition in 0..partitions {
        assignment.add_partition_offset(topic, partition, Offset::Beginning)?;
    }
    consumer.assign(&assignment)?;
    let started = Instant::now();
    let deadline = started + Duration::from_secs(900);
    let mut read = 0;
    while read < events {
        anyhow::ensure!(
            Instant::now() < deadline,
            "the bare consumer read {read} of {events}"
        );
        if let Some(message) = consumer.poll(Duration::from_millis(100)) {
            // Touch the payload as any consumer must.
            read += usize::from(message?.payload().is_some());
        }
    }
    Ok(events as f64 / started.elapsed().as_secs_f64())
}

/// Seconds to COPY (binary) every row the projector wrote into empty tables of the same shape
/// and indexes: the rows leave PostgreSQL first, only loading them back is timed.
async fn copy_seconds(client: &Client, schema: &str) -> anyhow::Result<f64> {
    let target = "bench_copy_ceiling";
    client
        .batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {target} CASCADE; CREATE SCHEMA {target};"
        ))
        .await?;
    let mut dumps = Vec::new();
    for table in TABLES {
        client
            .batch_execute(&format!(
                "CREATE TABLE {target}.{table} (LIKE {schema}.{table} INCLUDING ALL)"
            ))
            .await?;
        let rows: Vec<Bytes> = client
            .copy_out(&format!("COPY {schema}.{table} TO STDOUT (FORMAT binary)"))
            .await?
            .try_collect()
            .await?;
        dumps.push((table, rows));
    }
    let started = Instant::now();
    for (table, rows) in dumps {
        let sink = client
            .copy_in(&format!("COPY {target}.{table} FROM STDIN (FORMAT binary)"))
            .await?;
        futures::pin_mut!(sink);
        for chunk in rows {
            sink.send(chunk).await?;
        }
        sink.finish().await?;
    }
    let seconds = started.elapsed().as_secs_f64();
    client
        .batch_execute(&format!("DROP SCHEMA {target} CASCADE"))
        .await?;
    Ok(seconds)
}

/// Runs the scenario; `env` configures the projector for `database_url` and `kafka`'s topics.
pub async fn run(
    env: &[(String, String)],
    kafka: &kafka::KafkaSettings,
    client: &Client,
    schema: &str,
    size: Size,
) -> anyhow::Result<(Outcome, Option<f64>)> {
    let topic = kafka.topics.product.clone();
    let published = publish_histories(kafka, &topic, size.replay_events).await?;
    let (ours, startup, peak_rss) = replay(env, client, schema, &topic, published).await?;
    let (settings, bare_topic) = (kafka.clone(), topic.clone());
    let partitions = kafka.partitions;
    let consumer = tokio::task::spawn_blocking(move || {
        bare_consumer_rate(&settings, &bare_topic, partitions, published)
    })
    .await??;
    let copy = published as f64 / copy_seconds(client, schema).await?;
    let products: i64 = client
        .query_one(&format!("SELECT count(*) FROM {schema}.products"), &[])
        .await?
        .get(0);
    Ok((
        Outcome {
            scenario: "projector replay".to_owned(),
            description: format!(
                "{published} product events ({products} products: created, mostly published, some repriced or restocked) on {partitions} partitions, projected from offset 0 into an empty read model by `projector run`; ceilings: a bare rdkafka consumer reading the same topic, and a binary COPY of the rows the projector wrote (products, search postings, categories, audit, versions, checkpoints) into empty tables with the same indexes"
            ),
            ours_per_second: ours,
            ours: json!({ "events": published, "products": products, "startup_seconds": startup }),
            ceilings: vec![
                Ceiling::new("bare rdkafka consumer", consumer, ours, json!({})),
                Ceiling::new("COPY of the same rows", copy, ours, json!({})),
            ],
            goal: ">= 0.8x COPY (bare consumer: report)",
            notes: vec![format!(
                "start-up and group join before the first batch: {startup:.1} s (not in the rate)"
            )],
        },
        peak_rss,
    ))
}
