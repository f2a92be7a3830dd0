//! Collects every field error of a request body before answering, so a client sees all of them
//! in one 400 instead of fixing them one round trip at a time.

use domain::values::ValueError;

use crate::error::ApiError;

#[derive(Debug, Default)]
pub struct Fields {
    errors: Vec<ValueError>,
}

impl Fields {
    /// The parsed value, or `None` with the error remembered.
    pub fn check<T>(&mut self, result: Result<T, ValueError>) -> Option<T> {
        result.map_err(|e| self.errors.push(e)).ok()
    }

    /// An optional field: absent stays `None`, present must parse.
    pub fn check_optional<T, I>(
        &mut self,
        input: Option<I>,
        parse: impl FnOnce(I) -> Result<T, ValueError>,
    ) -> Option<T> {
        input.and_then(|value| self.check(parse(value)))
    }

    /// Records a failed rule that is not a value parse.
    pub fn fail(&mut self, error: ValueError) {
        self.errors.push(error);
    }

    /// `Err` with every collected error, if there were any.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(self.errors))
        }
    }
}

/// Unwraps a value that [`Fields::finish`] has vouched for.
pub fn checked<T>(value: Option<T>) -> Result<T, ApiError> {
    value.ok_or_else(|| anyhow::anyhow!("a checked field was missing").into())
}
