//! What has happened to a user: one payload struct per event type, and the enum that wraps them.
//!
//! No event carries a password or a hash (guarantee 6), nor a verification or reset token: the
//! notifier draws those when it reads the request, so no topic ever holds a usable one. Payloads deliberately do not deny
//! unknown fields: consumers must tolerate additions, and so must we when replaying.
//!
//! Personal fields (`PERSONAL_FIELDS`) are plain values here and sealed at rest and on the wire:
//! the store seals them with the user's data key into one `personal` field, and readers holding
//! the key open them again. `None` means they cannot be opened any more: the key was destroyed
//! when the user's personal data was erased.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::event::{EventPayload, impl_domain_event};
use crate::values::{DisplayName, Email, Role};

/// Everything that can happen to a user, oldest first in a stream.
#[derive(Debug, Clone, PartialEq)]
pub enum UserEvent {
    Registered(UserRegistered),
    DisplayNameChanged(UserDisplayNameChanged),
    PasswordChanged(UserPasswordChanged),
    RoleAssigned(UserRoleAssigned),
    Deactivated(UserDeactivated),
    EmailVerificationRequested(UserEmailVerificationRequested),
    EmailVerified(UserEmailVerified),
    PasswordResetRequested(UserPasswordResetRequested),
    PasswordReset(UserPasswordReset),
    Erased(UserErased),
}

impl_domain_event!(UserEvent {
    Registered(UserRegistered),
    DisplayNameChanged(UserDisplayNameChanged),
    PasswordChanged(UserPasswordChanged),
    RoleAssigned(UserRoleAssigned),
    Deactivated(UserDeactivated),
    EmailVerificationRequested(UserEmailVerificationRequested),
    EmailVerified(UserEmailVerified),
    PasswordResetRequested(UserPasswordResetRequested),
    PasswordReset(UserPasswordReset),
    Erased(UserErased),
});

/// Example ids shared by the samples, so the catalog reads as one story.
const EXAMPLE_USER: &str = "0190f3a4-5b6c-7d8e-9f01-23456789abcd";

/// An account was created. It starts active, as a customer.
// `email` and `display_name` read as `None` once the user is erased.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct UserRegistered {
    pub user_id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<Email>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<DisplayName>,
    pub role: Role,
}

impl EventPayload for UserRegistered {
    const EVENT_TYPE: &'static str = "user.registered";
    const SCHEMA_VERSION: i32 = 2;
    const PERSONAL_FIELDS: &'static [&'static str] = &["email", "display_name"];
    const PLAINTEXT_VERSION: Option<i32> = Some(1);

    fn example() -> serde_json::Value {
        json!({
            "user_id": EXAMPLE_USER,
            "email": "ada.lovelace@example.com",
            "display_name": "Ada Lovelace",
            "role": "customer"
        })
    }
}

/// The name shown to others changed.
// `display_name` reads as `None` once the user is erased.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct UserDisplayNameChanged {
    pub user_id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<DisplayName>,
}

impl EventPayload for UserDisplayNameChanged {
    const EVENT_TYPE: &'static str = "user.display_name_changed";
    const SCHEMA_VERSION: i32 = 2;
    const PERSONAL_FIELDS: &'static [&'static str] = &["display_name"];
    const PLAINTEXT_VERSION: Option<i32> = Some(1);

    fn example() -> serde_json::Value {
        json!({ "user_id": EXAMPLE_USER, "display_name": "Countess of Lovelace" })
    }
}

/// The password changed. The new hash is in the credentials table, never here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct UserPasswordChanged {
    pub user_id: Uuid,
}

impl EventPayload for UserPasswordChanged {
    const EVENT_TYPE: &'static str = "user.password_changed";
    const SCHEMA_VERSION: i32 = 1;

    fn example() -> serde_json::Value {
        json!({ "user_id": EXAMPLE_USER })
    }
}

/// The user's role changed. `previous_role` saves consumers from keeping state to tell a
/// promotion from a demotion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct UserRoleAssigned {
    pub user_id: Uuid,
    pub role: Role,
    pub previous_role: Role,
}

impl EventPayload for UserRoleAssigned {
    const EVENT_TYPE: &'static str = "user.role_assigned";
    const SCHEMA_VERSION: i32 = 1;

    fn example() -> serde_json::Value {
        json!({ "user_id": EXAMPLE_USER, "role": "seller", "previous_role": "customer" })
    }
}

/// The account was deactivated. It is final: no command is accepted afterwards.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct UserDeactivated {
    pub user_id: Uuid,
}

impl EventPayload for UserDeactivated {
    const EVENT_TYPE: &'static str = "user.deactivated";
    const SCHEMA_VERSION: i32 = 1;

    fn example() -> serde_json::Value {
        json!({ "user_id": EXAMPLE_USER })
    }
}

/// Another verification mail was asked for. The notifier draws a new token (the earlier ones
/// stay valid until they expire or the address is verified).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct UserEmailVerificationRequested {
    pub user_id: Uuid,
}

impl EventPayload for UserEmailVerificationRequested {
    const EVENT_TYPE: &'static str = "user.email_verification_requested";
    const SCHEMA_VERSION: i32 = 1;

    fn example() -> serde_json::Value {
        json!({ "user_id": EXAMPLE_USER })
    }
}

/// The user proved they receive mail at their address (a token from a verification mail).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct UserEmailVerified {
    pub user_id: Uuid,
}

impl EventPayload for UserEmailVerified {
    const EVENT_TYPE: &'static str = "user.email_verified";
    const SCHEMA_VERSION: i32 = 1;

    fn example() -> serde_json::Value {
        json!({ "user_id": EXAMPLE_USER })
    }
}

/// A password reset was asked for with this account's address. The notifier mails a token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct UserPasswordResetRequested {
    pub user_id: Uuid,
}

impl EventPayload for UserPasswordResetRequested {
    const EVENT_TYPE: &'static str = "user.password_reset_requested";
    const SCHEMA_VERSION: i32 = 1;

    fn example() -> serde_json::Value {
        json!({ "user_id": EXAMPLE_USER })
    }
}

/// The password was set with a reset token; every session of the account ended with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct UserPasswordReset {
    pub user_id: Uuid,
}

impl EventPayload for UserPasswordReset {
    const EVENT_TYPE: &'static str = "user.password_reset";
    const SCHEMA_VERSION: i32 = 1;

    fn example() -> serde_json::Value {
        json!({ "user_id": EXAMPLE_USER })
    }
}

/// The user's personal data was erased: their data key is destroyed, so the personal fields of
/// every event of this stream, wherever a copy is kept, can no longer be opened. Final, like
/// deactivation. Drop every copy you keep of this user's personal data; the address may sign up
/// again as a new account, with a new id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct UserErased {
    pub user_id: Uuid,
}

impl EventPayload for UserErased {
    const EVENT_TYPE: &'static str = "user.erased";
    const SCHEMA_VERSION: i32 = 1;

    fn example() -> serde_json::Value {
        json!({ "user_id": EXAMPLE_USER })
    }
}
