//! What may be asked of a user account.

use uuid::Uuid;

use crate::values::{DisplayName, Email, Role};

/// A request to change a user, already parsed into value types by the API layer.
#[derive(Debug, Clone, PartialEq)]
pub enum UserCommand {
    /// Self sign-up, or an admin (or the system) creating an account. The API checks that the
    /// email is free and stores the password hash; the account starts as a customer.
    Register {
        user_id: Uuid,
        email: Email,
        display_name: DisplayName,
    },
    ChangeDisplayName {
        display_name: DisplayName,
    },
    /// The new hash is written by the API to the credentials table in the same transaction, so
    /// the command (and the event) carries no secret.
    ChangePassword,
    AssignRole {
        role: Role,
    },
    Deactivate,
    /// Asks for another verification mail (the notifier sends one on `user.registered` already).
    RequestEmailVerification,
    /// The API found an unexpired verification token of this user: the address is theirs.
    /// Anyone holding the token may send it, signed in or not, so the domain checks no actor.
    VerifyEmail,
    /// Someone asked to reset this account's password by its address. The API answers the same
    /// whether or not the address has an account, so this command never tells anyone anything.
    RequestPasswordReset,
    /// The API found an unexpired reset token of this user and stores the new hash with the
    /// event, like `ChangePassword`.
    ResetPassword,
    /// Forget the person: the API destroys the user's data key with the event. The user asks
    /// with their password (the API checks it), or an admin asks for them.
    ErasePersonalData,
}
