//! Loading an aggregate: its snapshot, if one was written by this build, and the events after
//! it, folded with the domain's `evolve`; and writing a new snapshot once a stream has grown.
//!
//! Why snapshots: every command folds its stream, and streams that take a stock adjustment per
//! order grow without bound. With a snapshot every [`SNAPSHOT_EVERY`] events, a command folds at
//! most that many, whatever the stream's length.

use domain::{Aggregate, DomainEvent, SNAPSHOT_KEY, StoredPayload};
use personal::Keyring;
use tokio_postgres::{GenericClient, types::Type};
use uuid::Uuid;

use crate::error::StoreError;

/// Events folded on top of a snapshot (or from the start) before the command that folded them
/// writes a new one.
pub const SNAPSHOT_EVERY: usize = 100;

/// An aggregate's current state and the version it was loaded at (0 = no events yet).
#[derive(Debug, Clone)]
pub struct Loaded<A: Aggregate> {
    pub state: A::State,
    pub version: i64,
    /// Events folded on top of the snapshot this load started from (all of them without one).
    pub events_since_snapshot: usize,
}

/// What a load does with sealed personal fields.
#[derive(Debug, Clone, Copy)]
pub enum PersonalFields<'a> {
    /// Opens them with the user's data key (or reads them as erased when it is gone).
    Open(&'a Keyring),
    /// Leaves them out, as if erased: for a caller that needs only the rest of the state (who
    /// is signing in, with which role) and must not pay a key lookup for it. Such a state must
    /// never be written back (as a snapshot).
    Ignore,
}

/// The snapshot row (event type NULL) first, then the events after it, with payloads and state
/// as JSON text: decoding text straight into the structs skips a JSON value tree per event.
/// Every row names its stream type, so a stream of another aggregate is recognised rather than
/// decoded as this one.
const LOAD: &str = "
    WITH snapshot AS (
        SELECT version, state::text AS state, stream_type FROM es.snapshots
        WHERE stream_id = $1 AND snapshot_key = $2
    )
    SELECT version, NULL::text, NULL::integer, state, stream_type FROM snapshot
    UNION ALL
    SELECT stream_version, event_type, schema_version, payload::text, stream_type FROM es.events
    WHERE stream_id = $1 AND stream_version > COALESCE((SELECT version FROM snapshot), 0)
    ORDER BY 1";

pub async fn load<A: Aggregate>(
    client: &impl GenericClient,
    stream_id: Uuid,
    personal: PersonalFields<'_>,
) -> Result<Loaded<A>, StoreError> {
    let (loaded, snapshot_unreadable) =
        load_from(client, stream_id, Some(SNAPSHOT_KEY), personal).await?;
    if !snapshot_unreadable {
        return Ok(loaded);
    }
    // A snapshot this build wrote but cannot read back: never expected (the key pins the code
    // that wrote it), and never a reason to refuse a command. Fold the whole stream instead;
    // the command's own snapshot, if it writes one, replaces the row.
    tracing::warn!(%stream_id, "snapshot does not decode; folding the whole stream");
    Ok(load_from(client, stream_id, None, personal).await?.0)
}

/// The fold of every event of the stream, ignoring any snapshot. For authorization decisions
/// (who is calling, with which role): the writer role may insert snapshot rows, so a forged row
/// must not be able to make anyone an admin. User streams are short, so the full fold is cheap.
pub async fn load_from_events<A: Aggregate>(
    client: &impl GenericClient,
    stream_id: Uuid,
    personal: PersonalFields<'_>,
) -> Result<Loaded<A>, StoreError> {
    Ok(load_from(client, stream_id, None, personal).await?.0)
}

/// The fold from the snapshot under `snapshot_key` (none with `None`), and whether a snapshot
/// row was found that does not decode (the fold is then incomplete and must not be used).
async fn load_from<A: Aggregate>(
    client: &impl GenericClient,
    stream_id: Uuid,
    snapshot_key: Option<&str>,
    personal: PersonalFields<'_>,
) -> Result<(Loaded<A>, bool), StoreError> {
    // Unnamed and typed: one round trip, where `query` would prepare first.
    let rows = client
        .query_typed(
            LOAD,
            &[(&stream_id, Type::UUID), (&snapshot_key, Type::TEXT)],
        )
        .await
        .map_err(StoreError::db("loading a stream"))?;
    let mut loaded = Loaded {
        state: A::State::default(),
        version: 0,
        events_since_snapshot: 0,
    };
    // Only the stream's own key can open its events: looked up once, and only if one is sealed.
    let sealed = rows
        .iter()
        .any(|row| row.get::<_, Option<&str>>(1).is_some() && row.get::<_, &str>(3).still_sealed());
    let key = match personal {
        PersonalFields::Open(keyring) if sealed => {
            keyring.keys(client, &[stream_id]).await?.remove(&stream_id)
        }
        _ => None,
    };
    for row in &rows {
        let stream_type: &str = row.get(4);
        if stream_type != A::STREAM_TYPE {
            return Err(StoreError::WrongStreamType {
                stream_id,
                found: stream_type.to_owned(),
            });
        }
        let json: &str = row.get(3);
        loaded.version = row.get(0);
        match row.get::<_, Option<&str>>(1) {
            None => match serde_json::from_str(json) {
                Ok(state) => loaded.state = state,
                Err(_) => return Ok((loaded, true)),
            },
            Some(event_type) => {
                let event = if json.still_sealed() {
                    let mut payload: serde_json::Value =
                        serde_json::from_str(json).map_err(|cause| {
                            domain::EventDecodeError::BadPayload {
                                event_type: event_type.to_owned(),
                                cause,
                            }
                        })?;
                    personal::open(&mut payload, key.as_ref(), stream_id, event_type)
                        .map_err(personal::KeyError::from)?;
                    A::Event::from_stored(event_type, row.get(2), payload)?
                } else {
                    A::Event::from_stored(event_type, row.get(2), json)?
                };
                loaded.state = A::evolve(std::mem::take(&mut loaded.state), &event);
                loaded.events_since_snapshot += 1;
            }
        }
    }
    Ok((loaded, false))
}

/// Stores `state` as the snapshot of `stream_id` at `version`, in the caller's transaction (so
/// it commits with the events it covers, or not at all). An existing snapshot is replaced when
/// it is older, or when another build wrote it.
pub async fn save_snapshot<A: Aggregate>(
    tx: &impl GenericClient,
    stream_id: Uuid,
    version: i64,
    state: &A::State,
) -> Result<(), StoreError> {
    // The state types serialise infallibly (plain fields and value types); if one ever did not,
    // the stream would merely go on without a snapshot.
    let Ok(state) = serde_json::to_value(state) else {
        tracing::warn!(%stream_id, "state does not serialise; no snapshot written");
        return Ok(());
    };
    tx.query_typed(
        "INSERT INTO es.snapshots AS s (stream_id, stream_type, version, snapshot_key, state)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (stream_id) DO UPDATE
             SET version = EXCLUDED.version, snapshot_key = EXCLUDED.snapshot_key,
                 state = EXCLUDED.state, taken_at = clock_timestamp()
             WHERE s.version < EXCLUDED.version OR s.snapshot_key <> EXCLUDED.snapshot_key",
        &[
            (&stream_id, Type::UUID),
            (&A::STREAM_TYPE, Type::TEXT),
            (&version, Type::INT8),
            (&SNAPSHOT_KEY, Type::TEXT),
            (&state, Type::JSONB),
        ],
    )
    .await
    .map_err(StoreError::db("writing a snapshot"))?;
    Ok(())
}
