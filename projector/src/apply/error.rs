//! Why a batch was not applied.

use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// Another consumer (a replica that took over the partition, or a zombie that has not
    /// noticed it lost it) moved the checkpoint: this batch is stale and was rolled back.
    #[error("the checkpoint of {topic}/{partition} is no longer at offset {expected}")]
    Fenced {
        topic: String,
        partition: i32,
        expected: i64,
    },
    #[error("{context}: {error}")]
    Database {
        context: &'static str,
        error: tokio_postgres::Error,
    },
    /// The data keys cannot be read with this service's master key: a configuration error that
    /// would read every user as erased if skipped.
    #[error("data keys: {0}")]
    Keys(personal::KeyError),
    /// A stored row that this code could not have written; a bug, never skipped silently.
    #[error("stored {table} row {id} is not valid: {reason}")]
    CorruptRow {
        table: &'static str,
        id: Uuid,
        reason: String,
    },
}

/// `map_err` adapter for a key lookup.
pub(super) fn keys(error: personal::KeyError) -> ApplyError {
    match error {
        personal::KeyError::Database { context, source } => ApplyError::Database {
            context,
            error: source,
        },
        other => ApplyError::Keys(other),
    }
}

/// `map_err` adapter naming what failed.
pub(super) fn db(context: &'static str) -> impl FnOnce(tokio_postgres::Error) -> ApplyError {
    move |error| ApplyError::Database { context, error }
}
