//! What has happened to a user: one payload struct per event type, and the enum that wraps them.
//!
//! No event carries a password or a hash (guarantee 6). Payloads deliberately do not deny
//! unknown fields: consumers must tolerate additions, and so must we when replaying.

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
}

impl_domain_event!(UserEvent {
    Registered(UserRegistered),
    DisplayNameChanged(UserDisplayNameChanged),
    PasswordChanged(UserPasswordChanged),
    RoleAssigned(UserRoleAssigned),
    Deactivated(UserDeactivated),
});

/// Example ids shared by the samples, so the catalog reads as one story.
const EXAMPLE_USER: &str = "0190f3a4-5b6c-7d8e-9f01-23456789abcd";

/// An account was created. It starts active, as a customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct UserRegistered {
    pub user_id: Uuid,
    pub email: Email,
    pub display_name: DisplayName,
    pub role: Role,
}

impl EventPayload for UserRegistered {
    const EVENT_TYPE: &'static str = "user.registered";
    const SCHEMA_VERSION: i32 = 1;

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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct UserDisplayNameChanged {
    pub user_id: Uuid,
    pub display_name: DisplayName,
}

impl EventPayload for UserDisplayNameChanged {
    const EVENT_TYPE: &'static str = "user.display_name_changed";
    const SCHEMA_VERSION: i32 = 1;

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
