//! Why a value was refused.

/// Why a value was refused. Messages name the field and are safe to show a user: none of them
/// echoes the input, so a mistyped password can never reach a log line through an error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    #[error("{field} must not be empty")]
    Empty { field: &'static str },
    #[error("{field} must be at least {min} characters long")]
    TooShort { field: &'static str, min: usize },
    #[error("{field} must be at most {max} characters long")]
    TooLong { field: &'static str, max: usize },
    #[error("{field} must not contain control characters")]
    ControlCharacters { field: &'static str },
    #[error("{field} must be greater than zero")]
    NotPositive { field: &'static str },
    #[error("{field} {reason}")]
    Invalid {
        field: &'static str,
        /// Completes the sentence "`field` ...", e.g. "must contain exactly one '@'".
        reason: &'static str,
    },
}

impl ValueError {
    /// The input field the error is about, e.g. `email`.
    pub fn field(&self) -> &'static str {
        match self {
            ValueError::Empty { field }
            | ValueError::TooShort { field, .. }
            | ValueError::TooLong { field, .. }
            | ValueError::ControlCharacters { field }
            | ValueError::NotPositive { field }
            | ValueError::Invalid { field, .. } => field,
        }
    }

    /// Stable snake_case code for problem documents.
    pub fn code(&self) -> &'static str {
        match self {
            ValueError::Empty { .. } => "empty",
            ValueError::TooShort { .. } => "too_short",
            ValueError::TooLong { .. } => "too_long",
            ValueError::ControlCharacters { .. } => "control_characters",
            ValueError::NotPositive { .. } => "not_positive",
            ValueError::Invalid { .. } => "invalid",
        }
    }
}
