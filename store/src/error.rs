//! Errors of the event store, with the one that matters most singled out: a version conflict.

/// SQLSTATE 23505.
const UNIQUE_VIOLATION: &str = "23505";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another writer appended to the stream after we loaded it.
    #[error("the stream changed concurrently")]
    VersionConflict,
    /// The email address already belongs to an account.
    #[error("the email address is already registered")]
    EmailTaken,
    /// The SKU already names a product.
    #[error("the SKU is already in use")]
    SkuTaken,
    /// The command would leave the system without an active admin.
    #[error("the last active admin cannot give up the role")]
    LastAdmin,
    /// The stream belongs to another aggregate type (a product command sent to a user's id).
    #[error("stream {stream_id} is a {found} stream")]
    WrongStreamType {
        stream_id: uuid::Uuid,
        found: String,
    },
    #[error("a stored event could not be decoded")]
    Decode(#[from] domain::EventDecodeError),
    /// A data key that does not unwrap, or sealed fields that do not open with it.
    #[error("personal fields could not be opened")]
    Personal(#[source] personal::KeyError),
    /// The cause is the `source`, printed once by whoever prints the chain.
    #[error("database error while {context}")]
    Database {
        context: &'static str,
        #[source]
        source: tokio_postgres::Error,
    },
}

impl From<personal::KeyError> for StoreError {
    fn from(error: personal::KeyError) -> Self {
        match error {
            personal::KeyError::Database { context, source } => {
                StoreError::Database { context, source }
            }
            other => StoreError::Personal(other),
        }
    }
}

impl StoreError {
    pub fn db(context: &'static str) -> impl FnOnce(tokio_postgres::Error) -> StoreError {
        move |source| StoreError::Database { context, source }
    }

    /// Whether the database, not the request, is at fault and a retry may succeed: the
    /// connection is gone or never came up, the server is starting or shutting down, out of
    /// resources, cancelled the statement (timeout), or picked this transaction as a deadlock
    /// or serialization victim.
    pub fn is_unavailable(&self) -> bool {
        let StoreError::Database { source, .. } = self else {
            return false;
        };
        match source.code() {
            // No SQLSTATE: an I/O error, a closed connection, a failed connect.
            None => true,
            Some(code) => {
                let code = code.code();
                ["08", "53", "57", "58"]
                    .iter()
                    .any(|class| code.starts_with(class))
                    || code == "40001"
                    || code == "40P01"
            }
        }
    }
}

/// The constraint name of a unique violation, if `error` is one.
pub(crate) fn violated_unique_constraint(error: &tokio_postgres::Error) -> Option<&str> {
    let db = error.as_db_error()?;
    (db.code().code() == UNIQUE_VIOLATION).then(|| db.constraint().unwrap_or_default())
}
