//! The idempotency gate and the audit trail: which events of a batch are new (by stream id and
//! version), the audit row of each new event, and each stream's applied version.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use kafka::{DecodedEvent, Topics};
use tokio_postgres::GenericClient;
use uuid::Uuid;

use super::{
    error::{ApplyError, db},
    outcome::BatchOutcome,
};
use read_model::ReadSchema;

/// An event that passed the gate, with the stream type its topic carries.
#[derive(Debug, Clone, Copy)]
pub(super) struct Fresh<'a> {
    pub event: &'a DecodedEvent,
    pub stream_type: &'a str,
}

const LOAD_VERSIONS: &str =
    "SELECT stream_id, version FROM {schema}.stream_versions WHERE stream_id = ANY($1)";

/// `ON CONFLICT DO NOTHING` is belt and braces: the gate already filtered applied versions.
const INSERT_AUDIT: &str = "
    INSERT INTO {schema}.audit_events (stream_id, version, stream_type, event_id, event_type,
                                       schema_version, payload, actor, correlation_id,
                                       causation_id, recorded_at)
    SELECT * FROM UNNEST($1::uuid[], $2::bigint[], $3::text[], $4::uuid[], $5::text[],
                         $6::integer[], $7::jsonb[], $8::text[], $9::uuid[], $10::uuid[],
                         $11::timestamptz[])
    ON CONFLICT (stream_id, version) DO NOTHING";

const UPSERT_VERSIONS: &str = "
    INSERT INTO {schema}.stream_versions AS s (stream_id, stream_type, version, last_event_at)
    SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::bigint[], $4::timestamptz[])
    ON CONFLICT (stream_id) DO UPDATE
        SET version = EXCLUDED.version, last_event_at = EXCLUDED.last_event_at
        WHERE s.version < EXCLUDED.version";

/// Keeps the events whose version is the next of their stream, records them in the audit table
/// and moves the stream versions. An event at or below the applied version is a duplicate
/// (skipped). One more than a version ahead is a gap: logged, counted and held back, never
/// applied out of order. The stream waits at its version until the missing event arrives, which
/// happens when history is published again (the relay does so when a broker lost a topic;
/// `command-api republish` on request), and the later events come again after it.
pub(super) async fn record<'a>(
    tx: &impl GenericClient,
    schema: &ReadSchema,
    topics: &Topics,
    events: &'a [DecodedEvent],
    outcome: &mut BatchOutcome,
) -> Result<Vec<Fresh<'a>>, ApplyError> {
    let ids: Vec<Uuid> = events.iter().map(|e| e.stream_id).collect();
    let rows = tx
        .query(&schema.sql(LOAD_VERSIONS), &[&ids])
        .await
        .map_err(db("loading stream versions"))?;
    let mut applied: HashMap<Uuid, i64> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    let mut fresh = Vec::with_capacity(events.len());
    for event in events {
        let current = applied.get(&event.stream_id).copied().unwrap_or(0);
        let stream_type = stream_type(topics, event);
        if event.stream_version <= current {
            outcome.duplicates += 1;
            tracing::debug!(stream = %event.stream_id, version = event.stream_version,
                applied = current, "duplicate event skipped");
            continue;
        }
        if event.stream_version > current + 1 {
            outcome.gaps += 1;
            tracing::warn!(
                stream = %event.stream_id,
                stream_type,
                expected = current + 1,
                got = event.stream_version,
                traceparent = event.traceparent.as_deref(),
                correlation_id = event.correlation_id.map(tracing::field::display),
                "version gap: an earlier event of this stream has not arrived; holding this one back"
            );
            continue;
        }
        applied.insert(event.stream_id, event.stream_version);
        outcome.applied += 1;
        *outcome
            .applied_per_topic
            .entry(event.topic.clone())
            .or_default() += 1;
        let newest = outcome
            .last_event_at
            .entry(event.topic.clone())
            .or_insert(event.time);
        *newest = (*newest).max(event.time);
        fresh.push(Fresh { event, stream_type });
    }
    if !fresh.is_empty() {
        insert_audit(tx, schema, &fresh).await?;
        upsert_versions(tx, schema, &fresh).await?;
    }
    Ok(fresh)
}

/// The stream type a topic carries; the CloudEvents source says it too, for a topic this
/// process was not configured with (never expected, but an audit row needs a type).
fn stream_type<'a>(topics: &Topics, event: &'a DecodedEvent) -> &'a str {
    topics
        .stream_type_of(&event.topic)
        .or_else(|| {
            event
                .headers
                .get("ce_source")
                .and_then(|source| source.strip_prefix("/cloudcommerce/"))
        })
        .unwrap_or("unknown")
}

async fn insert_audit(
    tx: &impl GenericClient,
    schema: &ReadSchema,
    fresh: &[Fresh<'_>],
) -> Result<(), ApplyError> {
    let stream_ids: Vec<Uuid> = fresh.iter().map(|f| f.event.stream_id).collect();
    let versions: Vec<i64> = fresh.iter().map(|f| f.event.stream_version).collect();
    let types: Vec<&str> = fresh.iter().map(|f| f.stream_type).collect();
    let event_ids: Vec<Uuid> = fresh.iter().map(|f| f.event.event_id).collect();
    let event_types: Vec<&str> = fresh.iter().map(|f| f.event.event_type.as_str()).collect();
    let schema_versions: Vec<i32> = fresh.iter().map(|f| f.event.schema_version).collect();
    let payloads: Vec<&serde_json::Value> = fresh.iter().map(|f| &f.event.payload).collect();
    let actors: Vec<Option<&str>> = fresh.iter().map(|f| f.event.actor.as_deref()).collect();
    let correlations: Vec<Option<Uuid>> = fresh.iter().map(|f| f.event.correlation_id).collect();
    let causations: Vec<Option<Uuid>> = fresh.iter().map(|f| f.event.causation_id).collect();
    let times: Vec<DateTime<Utc>> = fresh.iter().map(|f| f.event.time).collect();
    tx.execute(
        &schema.sql(INSERT_AUDIT),
        &[
            &stream_ids,
            &versions,
            &types,
            &event_ids,
            &event_types,
            &schema_versions,
            &payloads,
            &actors,
            &correlations,
            &causations,
            &times,
        ],
    )
    .await
    .map_err(db("recording audit events"))?;
    Ok(())
}

async fn upsert_versions(
    tx: &impl GenericClient,
    schema: &ReadSchema,
    fresh: &[Fresh<'_>],
) -> Result<(), ApplyError> {
    // The last fresh event of a stream carries its highest version (the gate only lets
    // increasing versions through).
    let mut latest: BTreeMap<Uuid, (&str, i64, DateTime<Utc>)> = BTreeMap::new();
    for f in fresh {
        latest.insert(
            f.event.stream_id,
            (f.stream_type, f.event.stream_version, f.event.time),
        );
    }
    let ids: Vec<Uuid> = latest.keys().copied().collect();
    let types: Vec<&str> = latest.values().map(|v| v.0).collect();
    let versions: Vec<i64> = latest.values().map(|v| v.1).collect();
    let times: Vec<DateTime<Utc>> = latest.values().map(|v| v.2).collect();
    tx.execute(
        &schema.sql(UPSERT_VERSIONS),
        &[&ids, &types, &versions, &times],
    )
    .await
    .map_err(db("moving stream versions"))?;
    Ok(())
}
