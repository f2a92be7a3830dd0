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
}
