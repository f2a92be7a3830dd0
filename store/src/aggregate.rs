//! Loading an aggregate: read its stream and fold it with the domain's `evolve`.

use domain::{Aggregate, DomainEvent};
use tokio_postgres::{GenericClient, types::Type};
use uuid::Uuid;

use crate::StoreError;

/// An aggregate's current state and the version it was loaded at (0 = no events yet).
#[derive(Debug, Clone)]
pub struct Loaded<A: Aggregate> {
    pub state: A::State,
    pub version: i64,
}

/// Only what the fold reads, with the payload as JSON text: every command folds its whole
/// stream, and decoding text straight into the payload structs (rather than into a JSON value
/// first, with the metadata columns beside it) is most of what a command costs on a long stream.
const LOAD: &str = "SELECT stream_version, event_type, schema_version, payload::text
                    FROM es.events WHERE stream_id = $1 ORDER BY stream_version";

pub async fn load<A: Aggregate>(
    client: &impl GenericClient,
    stream_id: Uuid,
) -> Result<Loaded<A>, StoreError> {
    // Unnamed and typed: one round trip, where `query` would prepare first.
    let rows = client
        .query_typed(LOAD, &[(&stream_id, Type::UUID)])
        .await
        .map_err(StoreError::db("loading a stream"))?;
    let mut state = A::State::default();
    let mut version = 0;
    for row in &rows {
        let event_type: &str = row.get(1);
        let payload: &str = row.get(3);
        let event = A::Event::from_stored(event_type, row.get(2), payload)?;
        state = A::evolve(state, &event);
        version = row.get(0);
    }
    Ok(Loaded { state, version })
}
