//! `given(events).when(actor, command).then(events | error)` for table tests of any aggregate.

use std::fmt::Debug;

use crate::{actor::Actor, aggregate::Aggregate, event::DomainEvent};

/// A history to decide against.
pub(crate) struct Given<A: Aggregate> {
    state: A::State,
}

/// The outcome of one `decide`, waiting to be checked.
pub(crate) struct When<A: Aggregate> {
    state: A::State,
    result: Result<Vec<A::Event>, A::Error>,
}

/// Starts a test from a stream's history, oldest first.
pub(crate) fn given<A: Aggregate>(history: impl IntoIterator<Item = A::Event>) -> Given<A> {
    let history: Vec<A::Event> = history.into_iter().collect();
    Given {
        state: A::fold(&history),
    }
}

impl<A: Aggregate> Given<A> {
    pub(crate) fn when(self, actor: Actor, command: A::Command) -> When<A> {
        let result = A::decide(&self.state, &actor, command);
        When {
            state: self.state,
            result,
        }
    }
}

impl<A: Aggregate> When<A>
where
    A::Error: PartialEq + Debug,
{
    /// Expects exactly these events, checks that each survives storage, and returns the state
    /// after them for further assertions.
    #[track_caller]
    pub(crate) fn then(self, expected: impl IntoIterator<Item = A::Event>) -> A::State {
        let expected: Vec<A::Event> = expected.into_iter().collect();
        let events = match self.result {
            Ok(events) => events,
            Err(error) => panic!("expected events {expected:?}, got error {error:?}"),
        };
        assert_eq!(events, expected, "recorded events");
        for event in &events {
            let stored = A::Event::from_stored(
                event.event_type(),
                event.schema_version(),
                event.to_payload(),
            );
            assert_eq!(
                stored.as_ref().ok(),
                Some(event),
                "{stored:?} after storage"
            );
        }
        events.iter().fold(self.state, A::evolve)
    }

    /// Expects the command to be accepted as a no-op.
    #[track_caller]
    pub(crate) fn then_nothing(self) {
        self.then([]);
    }

    /// Expects this refusal.
    #[track_caller]
    pub(crate) fn then_error(self, expected: A::Error) {
        match self.result {
            Ok(events) => panic!("expected error {expected:?}, got events {events:?}"),
            Err(error) => assert_eq!(error, expected),
        }
    }
}
