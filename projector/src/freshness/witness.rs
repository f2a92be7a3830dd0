//! The event-store side of freshness: the oldest event recorded and not yet applied, per stream
//! type, found without reading the store whole.
//!
//! A *witness* is an event known unapplied. A new one is the first unapplied event after the
//! newest event the previous sample saw applied (the newest recorded event, for a sampler that
//! saw none). Once a witness is applied, the events after it are scanned in position order
//! (through `es.events_after`, a page at a time) for the first one still unapplied, which
//! becomes the witness. So the witness only moves forward, and the projection is as old as its
//! witness: a stream applied early no longer hides the others that are still behind.
//! Witnesses are kept in `projection_status` by every sample and adopted by the next sampler, so
//! a restarted replica, or another one, does not start counting again.

use std::collections::{BTreeMap, HashMap};

use anyhow::Context;
use chrono::{DateTime, Utc};
use read_model::ReadSchema;
use serde_json::{Value, json};
use tokio_postgres::{GenericClient, Row, error::SqlState};
use uuid::Uuid;

/// Events read per page of the forward scan.
const PAGE: i32 = 1000;
/// Pages scanned per sample at most: bounds one sample's work however far behind the
/// projection is; the scan goes on at the next sample.
const PAGES_PER_SAMPLE: usize = 10;

/// An event of the store, as the freshness functions show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Recorded {
    position: i64,
    stream_id: Uuid,
    version: i64,
    recorded_at: DateTime<Utc>,
}

impl Recorded {
    fn from_row(row: &Row) -> Self {
        Self {
            position: row.get(0),
            stream_id: row.get(1),
            version: row.get(2),
            recorded_at: row.get(3),
        }
    }

    fn to_json(self) -> Value {
        json!({
            "position": self.position,
            "stream_id": self.stream_id,
            "version": self.version,
            "recorded_at": self.recorded_at,
        })
    }

    fn from_json(value: &Value) -> Option<Self> {
        Some(Self {
            position: value.get("position")?.as_i64()?,
            stream_id: value.get("stream_id")?.as_str()?.parse().ok()?,
            version: value.get("version")?.as_i64()?,
            recorded_at: value.get("recorded_at")?.as_str()?.parse().ok()?,
        })
    }
}

/// The witness of every stream type, and whether the event store can be asked at all.
#[derive(Debug, Default)]
pub struct Witnesses {
    known: HashMap<&'static str, Recorded>,
    /// The newest event seen applied at the last sample, per stream type: a new witness is looked
    /// for after it, so the first unapplied event since then is found, not just the newest.
    frontier: HashMap<&'static str, Recorded>,
    /// `None` until the first try; `Some(false)`: a read database apart from the event store.
    available: Option<bool>,
}

impl Witnesses {
    pub fn available(&self) -> bool {
        self.available.unwrap_or(false)
    }

    /// What a sample stores.
    pub fn to_json(&self) -> Value {
        let known: BTreeMap<&str, Value> = self
            .known
            .iter()
            .map(|(stream_type, witness)| (*stream_type, witness.to_json()))
            .collect();
        json!(known)
    }

    /// Takes over a stored witness of `stream_type` that is older than this process's own.
    pub fn adopt(&mut self, stream_type: &'static str, stored: &Value) {
        let Some(witness) = Recorded::from_json(stored) else {
            return;
        };
        let older = self
            .known
            .get(stream_type)
            .is_none_or(|mine| witness.position < mine.position);
        if older {
            self.known.insert(stream_type, witness);
        }
    }

    /// How long the oldest unapplied event of `stream_type` has waited (0 when every recorded
    /// event is applied); `None` when the event store cannot be asked.
    pub async fn age(
        &mut self,
        client: &impl GenericClient,
        schema: &ReadSchema,
        stream_type: &'static str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Option<f64>> {
        if self.available == Some(false) {
            return Ok(None);
        }
        let newest = match client
            .query_opt(
                "SELECT event_position, stream_id, stream_version, recorded_at
                 FROM es.latest_event($1)",
                &[&stream_type],
            )
            .await
        {
            Ok(row) => row.as_ref().map(Recorded::from_row),
            Err(error) if is_missing(&error) => {
                tracing::warn!(
                    error = %error,
                    "the event store's freshness functions are not available here: freshness is measured against Kafka only"
                );
                self.available = Some(false);
                return Ok(None);
            }
            Err(error) => return Err(error).context("reading the newest recorded event"),
        };
        self.available = Some(true);
        let witness = match self.known.get(stream_type).copied() {
            Some(witness) if unapplied(client, schema, &[witness]).await?.is_some() => {
                Some(witness)
            }
            Some(applied) => next_unapplied(client, schema, stream_type, applied).await?,
            None => match newest {
                Some(newest) if unapplied(client, schema, &[newest]).await?.is_none() => {
                    self.frontier.insert(stream_type, newest);
                    None
                }
                Some(newest) => match self.frontier.get(stream_type).copied() {
                    Some(frontier) => next_unapplied(client, schema, stream_type, frontier)
                        .await?
                        .or(Some(newest)),
                    None => Some(newest),
                },
                None => None,
            },
        };
        match witness {
            Some(witness) => self.known.insert(stream_type, witness),
            None => self.known.remove(stream_type),
        };
        Ok(Some(
            witness.map_or(0.0, |w| seconds_between(w.recorded_at, now)),
        ))
    }
}

/// The first event after `applied` (an applied witness) that is not applied, scanning at most
/// [`PAGES_PER_SAMPLE`] pages. A scan that did not reach the end goes on from the last event it
/// read, which stands in as the witness meanwhile (nothing before it is unapplied).
async fn next_unapplied(
    client: &impl GenericClient,
    schema: &ReadSchema,
    stream_type: &str,
    applied: Recorded,
) -> anyhow::Result<Option<Recorded>> {
    let mut after = applied;
    for _ in 0..PAGES_PER_SAMPLE {
        let rows = client
            .query(
                "SELECT event_position, stream_id, stream_version, recorded_at
                 FROM es.events_after($1, $2, $3)",
                &[&stream_type, &after.position, &PAGE],
            )
            .await
            .context("scanning recorded events")?;
        let page: Vec<Recorded> = rows.iter().map(Recorded::from_row).collect();
        if let Some(found) = unapplied(client, schema, &page).await? {
            return Ok(Some(found));
        }
        let Some(last) = page.last() else {
            return Ok(None);
        };
        if page.len() < PAGE as usize {
            return Ok(None);
        }
        after = *last;
    }
    Ok(Some(after))
}

/// The first of `events` (in their order) whose stream has not applied its version.
async fn unapplied(
    client: &impl GenericClient,
    schema: &ReadSchema,
    events: &[Recorded],
) -> anyhow::Result<Option<Recorded>> {
    if events.is_empty() {
        return Ok(None);
    }
    let ids: Vec<Uuid> = events.iter().map(|e| e.stream_id).collect();
    let rows = client
        .query(
            &schema.sql(
                "SELECT stream_id, version FROM {schema}.stream_versions WHERE stream_id = ANY($1)",
            ),
            &[&ids],
        )
        .await
        .context("reading applied versions")?;
    let applied: HashMap<Uuid, i64> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    Ok(events
        .iter()
        .find(|e| applied.get(&e.stream_id).copied().unwrap_or(0) < e.version)
        .copied())
}

/// The function or the schema is not there, or this role may not call it.
fn is_missing(error: &tokio_postgres::Error) -> bool {
    error.code().is_some_and(|code| {
        [
            SqlState::UNDEFINED_FUNCTION,
            SqlState::INVALID_SCHEMA_NAME,
            SqlState::UNDEFINED_TABLE,
            SqlState::INSUFFICIENT_PRIVILEGE,
        ]
        .contains(code)
    })
}

/// Seconds from `from` to `to`, never negative.
pub fn seconds_between(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    ((to - from).num_milliseconds().max(0)) as f64 / 1e3
}
