//! Loading an aggregate: read its stream and fold it with the domain's `evolve`.

use domain::Aggregate;
use tokio_postgres::GenericClient;
use uuid::Uuid;

use crate::{StoreError, events::load_stream};

/// An aggregate's current state and the version it was loaded at (0 = no events yet).
#[derive(Debug, Clone)]
pub struct Loaded<A: Aggregate> {
    pub state: A::State,
    pub version: i64,
}

pub async fn load<A: Aggregate>(
    client: &impl GenericClient,
    stream_id: Uuid,
) -> Result<Loaded<A>, StoreError> {
    let recorded = load_stream(client, stream_id).await?;
    let mut state = A::State::default();
    let mut version = 0;
    for event in &recorded {
        state = A::evolve(state, &event.decode::<A::Event>()?);
        version = event.stream_version;
    }
    Ok(Loaded { state, version })
}
