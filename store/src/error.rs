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
    #[error("stored event could not be decoded: {0}")]
    Decode(#[from] domain::EventDecodeError),
    #[error("database error while {context}: {source}")]
    Database {
        context: &'static str,
        #[source]
        source: tokio_postgres::Error,
    },
}

impl StoreError {
    pub fn db(context: &'static str) -> impl FnOnce(tokio_postgres::Error) -> StoreError {
        move |source| StoreError::Database { context, source }
    }
}

/// The constraint name of a unique violation, if `error` is one.
pub(crate) fn violated_unique_constraint(error: &tokio_postgres::Error) -> Option<&str> {
    let db = error.as_db_error()?;
    (db.code().code() == UNIQUE_VIOLATION).then(|| db.constraint().unwrap_or_default())
}
