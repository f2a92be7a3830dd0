//! Why a command recorded nothing: the domain refused it, the stream was not at the version the
//! caller named, or the store failed. No HTTP here; `ApiError` maps these to problems.

use domain::{ErrorKind, Refusal};
use store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The aggregate's rules refused the command; `message` is safe to show a user.
    #[error("{message}")]
    Refused {
        kind: ErrorKind,
        code: &'static str,
        message: String,
    },
    /// The caller named a version (`If-Match`) other than the current one.
    #[error("the stream is at version {current}")]
    WrongVersion { current: i64 },
    /// An event needs a secret the caller did not bring: a bug in the caller, never input.
    #[error("the command records a {0} but none was given")]
    MissingSecret(&'static str),
    /// The mailed token the command rests on was used, expired or never issued to this user.
    #[error("the token is not valid")]
    TokenInvalid,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl CommandError {
    /// A refusal of any aggregate, read through the domain's [`Refusal`] trait.
    pub fn refused(refusal: &impl Refusal) -> Self {
        CommandError::Refused {
            kind: refusal.kind(),
            code: refusal.code(),
            message: refusal.to_string(),
        }
    }
}
