//! Value types that cannot hold a bad value: parse once at the edge, trust everywhere after.
//!
//! Each type's `parse`/`new` is the only way in, and serde deserialises *through* it, so a stored
//! event or a request body cannot smuggle in what `parse` would refuse. JSON Schemas describe the
//! canonical (normalised) form, which is what serialisation writes; `parse` is more lenient about
//! input (it trims, and case-folds where the type says so).

mod account;
mod catalog;
mod currency;
mod money;

pub use account::{DisplayName, Email, Password, Role};
pub use catalog::{CategorySlug, Description, ProductName, Sku, StockReason};
pub use currency::Currency;
pub use money::Money;

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

/// Which control characters a free-text field tolerates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lines {
    Single,
    /// Line breaks and tabs, for multi-paragraph text.
    Multi,
}

/// Trims `input` and checks its length in chars (what JSON Schema's `maxLength` counts too) and
/// its control characters. The shared rule of every free-text value.
fn bounded_text(
    field: &'static str,
    input: &str,
    min: usize,
    max: usize,
    lines: Lines,
) -> Result<String, ValueError> {
    let text = input.trim();
    let len = text.chars().count();
    if len == 0 && min > 0 {
        return Err(ValueError::Empty { field });
    }
    if len < min {
        return Err(ValueError::TooShort { field, min });
    }
    if len > max {
        return Err(ValueError::TooLong { field, max });
    }
    let allowed = |c: char| lines == Lines::Multi && matches!(c, '\n' | '\r' | '\t');
    if text.chars().any(|c| c.is_control() && !allowed(c)) {
        return Err(ValueError::ControlCharacters { field });
    }
    Ok(text.to_owned())
}

/// The boilerplate of a string value type `struct $name(String)` with a `parse(&str)`:
/// accessors, `Display`, `FromStr`, serde as a plain string (deserialising through `parse`) and an
/// inline JSON Schema given as a literal.
macro_rules! string_value {
    ($name:ident, $schema:tt) => {
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::values::ValueError;
            fn from_str(input: &str) -> Result<Self, Self::Err> {
                Self::parse(input)
            }
        }

        impl TryFrom<String> for $name {
            type Error = $crate::values::ValueError;
            fn try_from(input: String) -> Result<Self, Self::Error> {
                Self::parse(&input)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(deserializer)?;
                Self::parse(&raw).map_err(serde::de::Error::custom)
            }
        }

        impl schemars::JsonSchema for $name {
            fn inline_schema() -> bool {
                // Inline, so each event schema reads on its own without chasing `$defs`.
                true
            }

            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }

            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!($schema)
            }
        }
    };
}
use string_value;
