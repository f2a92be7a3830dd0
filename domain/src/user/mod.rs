//! The user aggregate: account registration, profile, password changes, roles and deactivation.
//!
//! The password hash itself lives outside the event stream (the API writes it to a credentials
//! table in the same transaction); the stream only records *that* a password changed.

mod command;
mod decide;
mod event;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use command::UserCommand;
pub use decide::UserError;
pub use event::{
    UserDeactivated, UserDisplayNameChanged, UserEvent, UserPasswordChanged, UserRegistered,
    UserRoleAssigned,
};

use crate::values::{DisplayName, Email, Role};
use crate::{Actor, Aggregate};

/// The user aggregate (a marker: state lives in [`UserState`]).
#[derive(Debug, Clone, Copy)]
pub struct User;

/// A user as its events describe it. The default is "not registered".
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct UserState {
    /// `None` until registered.
    pub id: Option<Uuid>,
    pub email: Option<Email>,
    pub display_name: Option<DisplayName>,
    pub role: Role,
    pub active: bool,
}

impl UserState {
    pub fn is_registered(&self) -> bool {
        self.id.is_some()
    }

    /// The actor this user is when they sign in, if registered.
    pub fn as_actor(&self) -> Option<Actor> {
        self.id.map(|id| Actor::User {
            id,
            role: self.role,
            active: self.active,
        })
    }
}

impl Aggregate for User {
    const STREAM_TYPE: &'static str = "user";
    type State = UserState;
    type Command = UserCommand;
    type Event = UserEvent;
    type Error = UserError;

    fn decide(
        state: &UserState,
        actor: &Actor,
        command: UserCommand,
    ) -> Result<Vec<UserEvent>, UserError> {
        decide::decide(state, actor, command)
    }

    fn evolve(mut state: UserState, event: &UserEvent) -> UserState {
        match event {
            UserEvent::Registered(e) => {
                state = UserState {
                    id: Some(e.user_id),
                    email: Some(e.email.clone()),
                    display_name: Some(e.display_name.clone()),
                    role: e.role,
                    active: true,
                };
            }
            UserEvent::DisplayNameChanged(e) => state.display_name = Some(e.display_name.clone()),
            // The state holds no password: nothing to change, but the event stays on record.
            UserEvent::PasswordChanged(_) => {}
            UserEvent::RoleAssigned(e) => state.role = e.role,
            UserEvent::Deactivated(_) => state.active = false,
        }
        state
    }
}
