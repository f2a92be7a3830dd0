//! Query-string parsing that names the parameter in every error, reports all of them at once,
//! and refuses parameters a route does not know.
//!
//! Why not `web::Query<T>` with `deny_unknown_fields`: serde_urlencoded's type errors ("invalid
//! digit found in string") do not say which parameter was wrong, and a typo such as `sort=prize`
//! must be a 400 that names `sort`, not a silently ignored filter.

use actix_web::web;
use platform::{Problem, problem::FieldError};

use crate::error::ApiError;

#[derive(Debug)]
pub struct QueryParams {
    pairs: Vec<(String, String)>,
    errors: Vec<FieldError>,
}

impl QueryParams {
    pub fn parse(query_string: &str) -> Result<Self, ApiError> {
        let pairs = web::Query::<Vec<(String, String)>>::from_query(query_string)
            .map_err(|e| {
                Problem::bad_request("invalid_query", format!("invalid query string: {e}"))
            })?
            .into_inner();
        Ok(Self {
            pairs,
            errors: Vec::new(),
        })
    }

    /// The value of `name`, removed from the pending set. Given twice or empty is an error.
    pub fn take(&mut self, name: &str) -> Option<String> {
        let mut values = Vec::new();
        self.pairs.retain(|(key, value)| {
            if key == name {
                values.push(value.clone());
                false
            } else {
                true
            }
        });
        match values.as_slice() {
            [] => None,
            [value] if value.trim().is_empty() => {
                self.error(name, "must not be empty");
                None
            }
            [value] => Some(value.clone()),
            _ => {
                self.error(name, "must be given at most once");
                None
            }
        }
    }

    /// The value of `name` parsed by `parse`, whose error message is reported for `name`.
    pub fn parsed<T>(
        &mut self,
        name: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        let raw = self.take(name)?;
        match parse(raw.trim()) {
            Ok(value) => Some(value),
            Err(message) => {
                self.error(name, message);
                None
            }
        }
    }

    /// Like `parsed`, and reports the parameter when it is missing.
    pub fn required<T>(
        &mut self,
        name: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        let present = self.pairs.iter().any(|(key, _)| key == name);
        let value = self.parsed(name, parse);
        if !present {
            self.error(name, "is required");
        }
        value
    }

    pub fn error(&mut self, name: &str, message: impl Into<String>) {
        self.errors.push(FieldError {
            field: name.to_owned(),
            message: message.into(),
        });
    }

    /// Fails with every error found, plus one per parameter nobody took.
    pub fn finish(mut self) -> Result<(), ApiError> {
        let mut unknown: Vec<String> = Vec::new();
        for (key, _) in self.pairs.drain(..) {
            if !unknown.contains(&key) {
                unknown.push(key);
            }
        }
        for key in unknown {
            self.error(&key, "unknown parameter");
        }
        if self.errors.is_empty() {
            return Ok(());
        }
        let names: Vec<&str> = self.errors.iter().map(|e| e.field.as_str()).collect();
        let mut problem = Problem::bad_request(
            "invalid_query",
            format!("invalid query parameters: {}", names.join(", ")),
        );
        problem.errors = self.errors;
        Err(problem.into())
    }
}

/// `true` or `false`, nothing else: `in_stock=yes` is more likely a mistake than a wish.
pub fn boolean(raw: &str) -> Result<bool, String> {
    match raw {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err("must be true or false".to_owned()),
    }
}

/// A whole number within `min..=max`.
pub fn integer_in(raw: &str, min: i64, max: i64) -> Result<i64, String> {
    match raw.parse::<i64>() {
        Ok(value) if (min..=max).contains(&value) => Ok(value),
        _ => Err(format!("must be a whole number from {min} to {max}")),
    }
}

pub fn uuid(raw: &str) -> Result<uuid::Uuid, String> {
    raw.parse().map_err(|_| "must be a UUID".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_duplicate_and_malformed_parameters_are_all_named() {
        let mut params =
            QueryParams::parse("limit=abc&sort=new&sort=old&colour=red").expect("parses");
        let limit = params.parsed("limit", |raw| integer_in(raw, 1, 100));
        let sort = params.take("sort");
        assert_eq!((limit, sort), (None, None));
        let Err(ApiError::Problem(problem)) = params.finish() else {
            panic!("expected a problem");
        };
        let fields: Vec<&str> = problem.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["limit", "sort", "colour"]);
    }

    #[test]
    fn booleans_are_strict() {
        assert_eq!(boolean("true"), Ok(true));
        assert!(boolean("1").is_err());
    }
}
