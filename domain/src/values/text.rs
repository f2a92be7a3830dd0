//! The shared rule of every free-text value, and the boilerplate of string value types.

use super::error::ValueError;

/// Which control characters a free-text field tolerates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Lines {
    Single,
    /// Line breaks and tabs, for multi-paragraph text.
    Multi,
}

/// Trims `input` and checks its length in chars (what JSON Schema's `maxLength` counts too) and
/// its control characters. The shared rule of every free-text value.
pub(super) fn bounded_text(
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
            type Err = $crate::values::error::ValueError;
            fn from_str(input: &str) -> Result<Self, Self::Err> {
                Self::parse(input)
            }
        }

        impl TryFrom<String> for $name {
            type Error = $crate::values::error::ValueError;
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
pub(super) use string_value;
