//! Folding a batch's events into the current rows of their streams with the domain's own
//! `evolve`, so a read row is by construction what the aggregate's history says, and replaying
//! the same events yields the same rows whatever the batch boundaries were.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use domain::{Aggregate, DomainEvent};
use serde_json::Value;
use tokio_postgres::{GenericClient, Row};
use uuid::Uuid;

use super::{
    error::{ApplyError, db},
    journal::Fresh,
    outcome::BatchOutcome,
};

/// An aggregate with a read table of one row per stream.
pub(super) trait ReadModel: Aggregate {
    /// Whether the state describes an entity that exists (its creation event was folded in).
    fn exists(state: &Self::State) -> bool;
}

impl ReadModel for domain::Product {
    fn exists(state: &domain::ProductState) -> bool {
        state.id.is_some()
    }
}

impl ReadModel for domain::User {
    fn exists(state: &domain::UserState) -> bool {
        state.is_registered()
    }
}

/// A row's state with the metadata the aggregate state does not hold.
#[derive(Debug, Clone)]
pub(super) struct Folded<S> {
    pub state: S,
    /// Time of the creation event.
    pub created_at: DateTime<Utc>,
    /// Time of the last event folded in.
    pub updated_at: DateTime<Utc>,
    /// Stream version of the last event folded in.
    pub version: i64,
}

/// The stored rows of the streams in `events` (`sql` takes their ids as `$1` and returns the
/// id first), each back as the state it was written from.
pub(super) async fn load<S>(
    tx: &impl GenericClient,
    sql: &str,
    table: &'static str,
    events: &[Fresh<'_>],
    from_row: fn(&Row) -> Result<Folded<S>, String>,
) -> Result<HashMap<Uuid, Folded<S>>, ApplyError> {
    let ids: Vec<Uuid> = events.iter().map(|f| f.event.stream_id).collect();
    let rows = tx
        .query(sql, &[&ids])
        .await
        .map_err(db("loading stored rows"))?;
    let mut loaded = HashMap::with_capacity(rows.len());
    for row in rows {
        let id: Uuid = row.get(0);
        let folded =
            from_row(&row).map_err(|reason| ApplyError::CorruptRow { table, id, reason })?;
        loaded.insert(id, folded);
    }
    Ok(loaded)
}

/// Folds `events` (already past the idempotency gate, in stream order) into `rows`, adding rows
/// for streams seen for the first time. Returns the ids of the rows that changed, sorted, so
/// they are written (and locked) in one order.
///
/// An event this release cannot decode (unknown type or schema version, payload that fails
/// validation) is logged, counted and left out of the row; it still moves the row's version,
/// because the stream did move and a later release's rebuild will project it.
///
/// `opened` holds the payloads to decode, one per event, when they differ from the received
/// ones (personal fields opened).
pub(super) fn fold<A: ReadModel>(
    rows: &mut HashMap<Uuid, Folded<A::State>>,
    events: &[Fresh<'_>],
    opened: Option<Vec<Value>>,
    outcome: &mut BatchOutcome,
) -> BTreeSet<Uuid> {
    let mut changed = BTreeSet::new();
    let mut opened = opened.map(Vec::into_iter);
    for fresh in events {
        let e = fresh.event;
        let payload = opened
            .as_mut()
            .and_then(Iterator::next)
            .unwrap_or_else(|| e.payload.clone());
        let event = match A::Event::from_stored(&e.event_type, e.schema_version, payload) {
            Ok(event) => event,
            Err(error) => {
                outcome.unknown += 1;
                // A parse error can quote a value, and an opened payload holds an address.
                let error = if e.payload.get(domain::SEALED_FIELD).is_some() {
                    "its opened personal fields do not match its schema".to_owned()
                } else {
                    error.to_string()
                };
                tracing::warn!(
                    stream = %e.stream_id,
                    version = e.stream_version,
                    event_type = %e.event_type,
                    schema_version = e.schema_version,
                    %error,
                    "event not understood by this release: audited, not projected"
                );
                if let Some(row) = rows.get_mut(&e.stream_id) {
                    row.version = e.stream_version;
                    changed.insert(e.stream_id);
                }
                continue;
            }
        };
        let row = rows.entry(e.stream_id).or_insert_with(|| Folded {
            state: A::State::default(),
            created_at: e.time,
            updated_at: e.time,
            version: 0,
        });
        let existed = A::exists(&row.state);
        row.state = A::evolve(std::mem::take(&mut row.state), &event);
        if !existed && A::exists(&row.state) {
            row.created_at = e.time;
        }
        row.updated_at = e.time;
        row.version = e.stream_version;
        changed.insert(e.stream_id);
    }
    changed
}

/// Logs and counts a row that cannot be written because its creation event was never seen.
pub(super) fn not_created(table: &str, id: Uuid, outcome: &mut BatchOutcome) {
    outcome.not_created += 1;
    tracing::warn!(
        table,
        stream = %id,
        "events for a stream whose creation event was never seen: no row written"
    );
}
