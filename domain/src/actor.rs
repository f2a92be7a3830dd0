//! Who is issuing a command, as the API layer established it.

use uuid::Uuid;

use crate::values::Role;

/// The principal behind a command. The API layer builds it from a verified token and the
/// user's current state; the domain only reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// Nobody signed in (self sign-up is the only thing an anonymous actor may do).
    Anonymous,
    /// A signed-in user with the role and status their stream has now.
    User { id: Uuid, role: Role, active: bool },
    /// The service itself: admin bootstrap from configuration and the catalog seeder.
    System,
}

impl Actor {
    /// The user id to record as the event's actor, if any.
    pub fn user_id(&self) -> Option<Uuid> {
        match self {
            Actor::User { id, .. } => Some(*id),
            Actor::Anonymous | Actor::System => None,
        }
    }

    /// Stable text for event metadata: the user id, `system` or `anonymous`.
    pub fn label(&self) -> String {
        match self {
            Actor::User { id, .. } => id.to_string(),
            Actor::System => "system".to_owned(),
            Actor::Anonymous => "anonymous".to_owned(),
        }
    }
}
