//! The user aggregate: account registration, profile, password changes, roles and deactivation.
//!
//! The password hash itself lives outside the event stream (the API writes it to a credentials
//! table in the same transaction); the stream only records *that* a password changed.

mod command;
mod decide;
mod event;
mod state;
#[cfg(test)]
mod tests;

pub use self::{
    command::UserCommand,
    decide::UserError,
    event::{
        UserDeactivated, UserDisplayNameChanged, UserEmailVerificationRequested, UserEmailVerified,
        UserErased, UserEvent, UserPasswordChanged, UserPasswordReset, UserPasswordResetRequested,
        UserRegistered, UserRoleAssigned,
    },
    state::UserState,
};
use crate::{actor::Actor, aggregate::Aggregate};

/// The user aggregate (a marker: state lives in [`UserState`]).
#[derive(Debug, Clone, Copy)]
pub struct User;

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
                    email: e.email.clone(),
                    display_name: e.display_name.clone(),
                    role: e.role,
                    active: true,
                    email_verified: false,
                    erased: false,
                };
            }
            UserEvent::DisplayNameChanged(e) => state.display_name = e.display_name.clone(),
            // The state holds no password: nothing to change, but the event stays on record.
            UserEvent::PasswordChanged(_)
            | UserEvent::PasswordReset(_)
            | UserEvent::PasswordResetRequested(_)
            | UserEvent::EmailVerificationRequested(_) => {}
            UserEvent::EmailVerified(_) => state.email_verified = true,
            UserEvent::RoleAssigned(e) => state.role = e.role,
            UserEvent::Deactivated(_) => state.active = false,
            UserEvent::Erased(_) => {
                state.email = None;
                state.display_name = None;
                state.active = false;
                state.erased = true;
            }
        }
        state
    }
}
