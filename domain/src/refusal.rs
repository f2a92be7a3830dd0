//! What the API layer needs to know of any refusal, whichever aggregate made it.

/// What kind of refusal an aggregate error is. The HTTP layer maps these to status codes
/// (404, 403, 409, 422) and uses each error's `code()` for the problem `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The target stream has no entity yet.
    NotFound,
    /// The actor may not issue this command (not signed in, deactivated, or lacking the role).
    Forbidden,
    /// The command is well-formed but the entity's current state refuses it.
    Conflict,
    /// The command itself is malformed, whatever the state.
    Invalid,
}

/// A command refused by an aggregate's rules. The message (`Display`) is safe to show a user;
/// `code` is stable and machine-readable; `kind` says which HTTP status family fits. Generic
/// code reads every aggregate's errors through this trait, never by naming the aggregate.
pub trait Refusal: std::error::Error + Send + Sync + 'static {
    fn code(&self) -> &'static str;
    fn kind(&self) -> ErrorKind;
}
