//! CloudCommerce's business rules: the user and product aggregates, their commands and events.
//!
//! Everything here is pure. `decide` holds every rule and may refuse a command; `evolve` folds an
//! event into state and never fails. Anything that needs I/O (who is asking, whether an email is
//! taken) is looked up by the caller and arrives as data.

pub mod actor;
pub mod event;
pub mod product;
pub mod user;
pub mod values;

#[cfg(test)]
mod testing;

pub use actor::Actor;
pub use event::{DomainEvent, EventDecodeError, EventPayload, EventTypeInfo, StoredPayload};
pub use product::{
    Product, ProductCommand, ProductError, ProductEvent, ProductState, ProductStatus,
    product_state_json,
};
pub use user::{User, UserCommand, UserError, UserEvent, UserState};

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
    type Error: std::error::Error + Send + Sync + 'static;

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

/// What kind of refusal an aggregate error is. The HTTP layer maps these to status codes
/// (404, 403, 409, 422) and uses each error's `code()` for the problem `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The target stream has no entity yet.
    NotFound,
    /// The actor may not issue this command (not signed in, deactivated, or lacking the role).
    Forbidden,
    /// The command is well-formed but the entity's current state refuses it.
    Conflict,
    /// The command itself is malformed, whatever the state.
    Invalid,
}
