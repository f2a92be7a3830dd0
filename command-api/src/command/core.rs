//! The one path every command takes, whoever sends it (HTTP, the seeder, the admin bootstrap):
//! load the stream, check the version the caller named, decide, write what the events call for
//! outside the stream, append the events (personal fields sealed with the user's data key) with
//! their outbox rows, snapshot a long stream, and count it all. It runs in the caller's
//! transaction and never commits, so the caller decides what else commits with it (the HTTP
//! layer's idempotency record) and whether to retry.

use domain::{Actor, DomainEvent};
use personal::Keyring;
use store::{EventMetadata, NewEvent, PersonalFields, RecordedEvent, StoreError};
use tokio_postgres::GenericClient;
use uuid::Uuid;

use super::{
    effects::{self, Secrets, WriteModel},
    error::CommandError,
};
use crate::metrics as m;

/// Where a command came from, recorded with each of its events and carried to Kafka.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provenance {
    pub correlation_id: Uuid,
    pub causation_id: Option<Uuid>,
    /// W3C trace context of the request, if any.
    pub traceparent: Option<String>,
}

impl Provenance {
    /// A command the service issues on its own (seeding, bootstrap): a new correlation id.
    pub fn internal() -> Self {
        Self {
            correlation_id: Uuid::now_v7(),
            causation_id: None,
            traceparent: None,
        }
    }
}

/// What a command left behind: the stream's new version and state, and the events it appended
/// (none when the command changed nothing).
#[derive(Debug, Clone)]
pub struct Recorded<A: WriteModel> {
    pub version: i64,
    pub state: A::State,
    pub events: Vec<RecordedEvent>,
}

/// Who asks, what for, on which stream and from which version.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    pub actor: &'a Actor,
    pub stream_id: Uuid,
    /// The version the caller saw (`If-Match`); `None` takes whatever is current.
    pub expected_version: Option<i64>,
}

/// Runs `commands` in order against stream `target.stream_id` of aggregate `A`, in `tx`.
pub async fn run<A: WriteModel>(
    tx: &impl GenericClient,
    target: Target<'_>,
    commands: Vec<A::Command>,
    provenance: &Provenance,
    secrets: &Secrets,
    keyring: &Keyring,
) -> Result<Recorded<A>, CommandError> {
    let stream_id = target.stream_id;
    let loaded = store::load::<A>(tx, stream_id, PersonalFields::Open(keyring)).await?;
    if let Some(expected) = target.expected_version
        && expected != loaded.version
    {
        return Err(CommandError::WrongVersion {
            current: loaded.version,
        });
    }
    let mut state = loaded.state;
    let mut events = Vec::new();
    for command in commands {
        let decided = A::decide(&state, target.actor, command).map_err(|refusal| {
            let refused = CommandError::refused(&refusal);
            if let CommandError::Refused { code, .. } = &refused {
                metrics::counter!(m::COMMANDS_REJECTED, "code" => *code).increment(1);
            }
            refused
        })?;
        for event in &decided {
            state = A::evolve(state, event);
        }
        events.extend(decided);
    }
    if events.is_empty() {
        return Ok(Recorded {
            version: loaded.version,
            state,
            events: Vec::new(),
        });
    }
    for event in &events {
        effects::write(tx, stream_id, &A::effects(event), secrets).await?;
    }
    let new_events = sealed(tx, stream_id, &events, keyring).await?;
    let metadata = EventMetadata {
        correlation_id: provenance.correlation_id,
        causation_id: provenance.causation_id,
        actor: target.actor.label(),
        traceparent: provenance.traceparent.clone(),
    };
    let recorded = store::append(
        tx,
        stream_id,
        A::STREAM_TYPE,
        loaded.version,
        &new_events,
        &metadata,
    )
    .await
    .inspect_err(|error| {
        if matches!(error, StoreError::VersionConflict) {
            metrics::counter!(m::VERSION_CONFLICTS).increment(1);
        }
    })?;
    for event in &recorded {
        metrics::counter!(m::EVENTS_APPENDED, "event_type" => event.event_type.clone())
            .increment(1);
    }
    let version = loaded.version + recorded.len() as i64;
    // `state` is the fold up to `version`: the next load starts here once enough events piled
    // up since the last snapshot. Same transaction, so it never outruns its events.
    if loaded.events_since_snapshot + recorded.len() >= store::SNAPSHOT_EVERY {
        store::save_snapshot::<A>(tx, stream_id, version, &state).await?;
        metrics::counter!(m::SNAPSHOTS_WRITTEN, "stream_type" => A::STREAM_TYPE).increment(1);
    }
    Ok(Recorded {
        version,
        state,
        events: recorded,
    })
}

/// The events as they are stored: personal fields sealed with the stream's data key.
async fn sealed<E: DomainEvent>(
    tx: &impl GenericClient,
    stream_id: Uuid,
    events: &[E],
    keyring: &Keyring,
) -> Result<Vec<NewEvent>, CommandError> {
    let mut key = None;
    let mut new_events = Vec::with_capacity(events.len());
    for event in events {
        let mut new_event = NewEvent::from_domain(event);
        let fields = event.personal_fields();
        if !fields.is_empty() {
            if key.is_none() {
                key = Some(
                    keyring
                        .key_for_writing(tx, stream_id)
                        .await
                        .map_err(StoreError::from)?,
                );
            }
            if let Some(key) = &key {
                personal::seal(
                    &mut new_event.payload,
                    fields,
                    key,
                    stream_id,
                    new_event.event_type,
                );
            }
        }
        new_events.push(new_event);
    }
    Ok(new_events)
}
