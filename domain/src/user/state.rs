//! A user as their events describe them.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    actor::Actor,
    values::{DisplayName, Email, Role},
};

/// A user as its events describe it. The default is "not registered".
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct UserState {
    /// `None` until registered.
    pub id: Option<Uuid>,
    pub email: Option<Email>,
    pub display_name: Option<DisplayName>,
    pub role: Role,
    pub active: bool,
    /// Whether the user proved they receive mail at `email`. Snapshots taken before this field
    /// existed read as unverified, which is what their streams say.
    #[serde(default)]
    pub email_verified: bool,
    /// The user's personal data was erased (`email` and `display_name` are `None` from then on).
    #[serde(default)]
    pub erased: bool,
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
