//! The shape every event-sourced entity has: `decide` holds the rules, `evolve` folds events.

use crate::{actor::Actor, event::DomainEvent, refusal::Refusal};

/// Which build a stored snapshot of an aggregate's state belongs to: a fingerprint of this crate's
/// source, taken by `build.rs`. A snapshot is a cache of `fold`, and a fold is only the same fold
/// if `evolve` and the state types are the same code, so a snapshot written by any other build
/// (an older release, a changed `evolve`) is ignored rather than trusted, with nothing to bump.
pub const SNAPSHOT_KEY: &str = env!("CC_DOMAIN_FINGERPRINT");

/// One kind of event-sourced entity: its state, the commands it accepts and the events it records.
pub trait Aggregate {
    /// Stable name of the stream type, stored with every event and used to pick the Kafka topic.
    const STREAM_TYPE: &'static str;
    /// Serialisable so the store can keep a snapshot of a long stream (see [`SNAPSHOT_KEY`]).
    type State: Default
        + Clone
        + std::fmt::Debug
        + PartialEq
        + serde::Serialize
        + serde::de::DeserializeOwned;
    type Command: std::fmt::Debug;
    type Event: DomainEvent;
    /// Why a command was refused; every refusal has a stable code and a kind.
    type Error: Refusal;

    /// Every business rule: accept `command` (zero or more events) or refuse it.
    fn decide(
        state: &Self::State,
        actor: &Actor,
        command: Self::Command,
    ) -> Result<Vec<Self::Event>, Self::Error>;

    /// Applies one recorded event. Holds no rule and never fails.
    fn evolve(state: Self::State, event: &Self::Event) -> Self::State;

    /// Folds a whole history, oldest first.
    fn fold<'a>(events: impl IntoIterator<Item = &'a Self::Event>) -> Self::State
    where
        Self::Event: 'a,
    {
        events
            .into_iter()
            .fold(Self::State::default(), |state, event| {
                Self::evolve(state, event)
            })
    }
}
