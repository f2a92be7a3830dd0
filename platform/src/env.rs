//! Reading typed settings from `CC_*` environment variables, with defaults and secrets that never print.

use std::str::FromStr;

use anyhow::Context;
use secrecy::SecretString;

/// The variable's value parsed as `T`, or `default` when it is unset or empty.
pub fn or<T>(name: &str, default: T) -> anyhow::Result<T>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    match std::env::var(name) {
        Ok(raw) if !raw.trim().is_empty() => raw
            .trim()
            .parse()
            .map_err(|e| anyhow::anyhow!("{name}={raw:?} is not valid: {e}")),
        _ => Ok(default),
    }
}

/// The variable's value, or `default`.
pub fn string_or(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| default.to_owned())
}

/// A value that must be set.
pub fn required(name: &str) -> anyhow::Result<String> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .with_context(|| format!("{name} must be set"))
}

/// A secret that must be set; it is wrapped at once so it cannot end up in a log line.
pub fn secret(name: &str) -> anyhow::Result<SecretString> {
    required(name).map(SecretString::from)
}

/// A secret that may be absent.
pub fn optional_secret(name: &str) -> Option<SecretString> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .map(SecretString::from)
}
