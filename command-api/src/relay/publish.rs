//! Sending one batch of stored events and waiting for every acknowledgement, with where each
//! acknowledged message landed.

use anyhow::Context;
use chrono::Utc;
use futures::{StreamExt, stream::FuturesOrdered};
use kafka::{Outgoing, Topics, envelope};
use rdkafka::producer::{FutureProducer, FutureRecord};
use store::RecordedEvent;

use crate::metrics as m;

/// Where the broker put one acknowledged message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Landed {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
}

/// Sends every event of `pending` before awaiting any acknowledgement, then awaits them in
/// order. Awaiting each send capped the relay at one broker round trip (plus linger) per event;
/// the idempotent producer keeps per-partition order with up to five requests in flight, and a
/// batch (500) never fills the local queue.
pub async fn send_and_await_acks(
    producer: &FutureProducer,
    topics: &Topics,
    pending: &[RecordedEvent],
) -> anyhow::Result<Vec<Landed>> {
    let mut acks = FuturesOrdered::new();
    for event in pending {
        let Some(topic) = topics.for_stream_type(&event.stream_type) else {
            anyhow::bail!(
                "event {} has stream type {:?}, which has no topic",
                event.event_id,
                event.stream_type
            );
        };
        let (key, headers, value) = envelope::encode(&outgoing(event));
        let record = FutureRecord::to(topic)
            .key(&key)
            .headers(headers)
            .payload(&value);
        let delivery = producer
            .send_result(record)
            .map_err(|(error, _)| error)
            .with_context(|| format!("queueing event {}", event.event_id))?;
        acks.push_back(async move { (delivery, event, topic) });
    }
    let mut landed = Vec::with_capacity(pending.len());
    while let Some((delivery, event, topic)) = acks.next().await {
        let delivered = delivery
            .await
            .context("the producer dropped a delivery")?
            .map_err(|(error, _)| error)
            .with_context(|| format!("publishing event {}", event.event_id))?;
        metrics::counter!(m::RELAY_EVENTS_PUBLISHED, "topic" => topic.to_owned()).increment(1);
        let lag = (Utc::now() - event.recorded_at)
            .num_microseconds()
            .unwrap_or(0);
        metrics::histogram!(m::RELAY_COMMIT_TO_ACK).record(lag as f64 / 1e6);
        landed.push(Landed {
            topic: topic.to_owned(),
            partition: delivered.partition,
            offset: delivered.offset,
        });
    }
    Ok(landed)
}

/// The envelope's view of a stored event.
pub fn outgoing(event: &RecordedEvent) -> Outgoing<'_> {
    Outgoing {
        event_id: event.event_id,
        stream_id: event.stream_id,
        stream_type: &event.stream_type,
        stream_version: event.stream_version,
        event_type: &event.event_type,
        schema_version: event.schema_version,
        payload: &event.payload,
        correlation_id: event.correlation_id,
        causation_id: event.causation_id,
        actor: &event.actor,
        traceparent: event.traceparent.as_deref(),
        recorded_at: event.recorded_at,
    }
}
