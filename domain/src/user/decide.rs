//! Every rule about who may change a user account, and when; and the error that refuses a command.

use uuid::Uuid;

use super::{
    command::UserCommand,
    event::{
        UserDeactivated, UserDisplayNameChanged, UserEmailVerificationRequested, UserEmailVerified,
        UserErased, UserEvent, UserPasswordChanged, UserPasswordReset, UserPasswordResetRequested,
        UserRegistered, UserRoleAssigned,
    },
    state::UserState,
};
use crate::values::Role;
use crate::{
    actor::Actor,
    refusal::{ErrorKind, Refusal},
};

pub(super) fn decide(
    state: &UserState,
    actor: &Actor,
    command: UserCommand,
) -> Result<Vec<UserEvent>, UserError> {
    let events = match command {
        UserCommand::Register {
            user_id,
            email,
            display_name,
        } => {
            may_register(actor)?;
            if state.is_registered() {
                return Err(UserError::AlreadyRegistered);
            }
            let registered = UserRegistered {
                user_id,
                email: Some(email),
                display_name: Some(display_name),
                role: Role::Customer,
            };
            vec![registered.into()]
        }
        UserCommand::ChangeDisplayName { display_name } => {
            let user_id = may_change(state, actor, Who::SelfOrAdmin)?;
            if state.display_name.as_ref() == Some(&display_name) {
                vec![]
            } else {
                let changed = UserDisplayNameChanged {
                    user_id,
                    display_name: Some(display_name),
                };
                vec![changed.into()]
            }
        }
        // Always recorded, even if the new password equals the old: the domain sees neither,
        // and the audit trail should show every password change that was accepted.
        UserCommand::ChangePassword => {
            let user_id = may_change(state, actor, Who::SelfOrAdmin)?;
            vec![UserPasswordChanged { user_id }.into()]
        }
        UserCommand::AssignRole { role } => {
            let user_id = may_change(state, actor, Who::AdminOnly)?;
            // Rights over other people's data go only to addresses that reach a person. The
            // system (admin bootstrap, seeding) names its own accounts in configuration, and
            // stepping down needs no proof.
            let promotion = matches!(
                (state.role, role),
                (Role::Customer, Role::Seller | Role::Admin) | (Role::Seller, Role::Admin)
            );
            if promotion && !state.email_verified && *actor != Actor::System {
                return Err(UserError::EmailNotVerified);
            }
            if role == state.role {
                vec![]
            } else {
                let assigned = UserRoleAssigned {
                    user_id,
                    role,
                    previous_role: state.role,
                };
                vec![assigned.into()]
            }
        }
        UserCommand::Deactivate => {
            let user_id = may_change(state, actor, Who::SelfOrAdmin)?;
            vec![UserDeactivated { user_id }.into()]
        }
        UserCommand::RequestEmailVerification => {
            let user_id = may_change(state, actor, Who::SelfOrAdmin)?;
            if state.email_verified {
                return Err(UserError::EmailAlreadyVerified);
            }
            vec![UserEmailVerificationRequested { user_id }.into()]
        }
        // A second click on the same link changes nothing and is not an error.
        UserCommand::VerifyEmail => {
            let user_id = holds_token(state)?;
            if state.email_verified {
                vec![]
            } else {
                vec![UserEmailVerified { user_id }.into()]
            }
        }
        UserCommand::RequestPasswordReset => {
            let user_id = holds_token(state)?;
            vec![UserPasswordResetRequested { user_id }.into()]
        }
        UserCommand::ResetPassword => {
            let user_id = holds_token(state)?;
            vec![UserPasswordReset { user_id }.into()]
        }
        // Deactivated accounts may be erased too; erasing twice changes nothing.
        UserCommand::ErasePersonalData => {
            let user_id = may_erase(state, actor)?;
            if state.erased {
                vec![]
            } else {
                vec![UserErased { user_id }.into()]
            }
        }
    };
    Ok(events)
}

/// Who, besides the system, may issue a command on an existing account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    SelfOrAdmin,
    AdminOnly,
}

/// Self sign-up (anonymous), the system's admin bootstrap, or an active admin creating an account.
/// A signed-in non-admin has no reason to create a second account.
fn may_register(actor: &Actor) -> Result<(), UserError> {
    match actor {
        Actor::Anonymous | Actor::System => Ok(()),
        Actor::User { active: false, .. } => Err(UserError::ActorDeactivated),
        Actor::User {
            role: Role::Admin, ..
        } => Ok(()),
        Actor::User { .. } => Err(UserError::Forbidden),
    }
}

/// Checks that `actor` may change the existing account in `state`, and returns its id.
///
/// Permission is checked before existence, so a customer probing other ids gets `Forbidden`
/// for all of them and learns nothing about which accounts exist.
fn may_change(state: &UserState, actor: &Actor, who: Who) -> Result<Uuid, UserError> {
    let allowed = match *actor {
        Actor::Anonymous => false,
        Actor::User { active: false, .. } => return Err(UserError::ActorDeactivated),
        Actor::System
        | Actor::User {
            role: Role::Admin, ..
        } => true,
        Actor::User { id, .. } => who == Who::SelfOrAdmin && state.id == Some(id),
    };
    if !allowed {
        return Err(UserError::Forbidden);
    }
    let Some(user_id) = state.id else {
        return Err(UserError::NotFound);
    };
    if !state.active {
        return Err(UserError::Deactivated);
    }
    Ok(user_id)
}

/// Like [`may_change`] for self or an admin, but a deactivated account may be erased as well.
fn may_erase(state: &UserState, actor: &Actor) -> Result<Uuid, UserError> {
    if state.active || state.id.is_none() {
        return may_change(state, actor, Who::SelfOrAdmin);
    }
    let reactivated = UserState {
        active: true,
        ..state.clone()
    };
    may_change(&reactivated, actor, Who::SelfOrAdmin)
}

/// For the commands whose proof is a mailed token (or, for a reset request, an address) that the
/// API has checked: whoever sends it, the account must exist and be active.
fn holds_token(state: &UserState) -> Result<Uuid, UserError> {
    let Some(user_id) = state.id else {
        return Err(UserError::NotFound);
    };
    if !state.active {
        return Err(UserError::Deactivated);
    }
    Ok(user_id)
}

/// A refused user command. Messages are safe to show the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserError {
    #[error("user not found")]
    NotFound,
    #[error("this account is already registered")]
    AlreadyRegistered,
    #[error("this account is deactivated")]
    Deactivated,
    #[error("your account is deactivated")]
    ActorDeactivated,
    #[error("you are not allowed to do this")]
    Forbidden,
    #[error("the account's email address is not verified yet")]
    EmailNotVerified,
    #[error("the account's email address is already verified")]
    EmailAlreadyVerified,
}

impl Refusal for UserError {
    /// Stable snake_case code; the HTTP layer turns it into the problem `type`.
    fn code(&self) -> &'static str {
        match self {
            UserError::NotFound => "not_found",
            UserError::AlreadyRegistered => "already_registered",
            UserError::Deactivated => "deactivated",
            UserError::ActorDeactivated => "actor_deactivated",
            UserError::Forbidden => "forbidden",
            UserError::EmailNotVerified => "email_not_verified",
            UserError::EmailAlreadyVerified => "email_already_verified",
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            UserError::NotFound => ErrorKind::NotFound,
            UserError::AlreadyRegistered
            | UserError::Deactivated
            | UserError::EmailNotVerified
            | UserError::EmailAlreadyVerified => ErrorKind::Conflict,
            UserError::ActorDeactivated | UserError::Forbidden => ErrorKind::Forbidden,
        }
    }
}
