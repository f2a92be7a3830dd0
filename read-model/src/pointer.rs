//! `read_meta.active`: which read schema readers use now. A rebuild flips it with one UPDATE, so
//! a reader sees the old schema or the new one, never a mixture.

use tokio_postgres::GenericClient;

use crate::name::{InvalidSchemaName, ReadSchema};

/// The query that names the active schema (one row, or none before the first projector start).
pub const ACTIVE_SQL: &str = "SELECT schema FROM read_meta.active";

#[derive(Debug, thiserror::Error)]
pub enum PointerError {
    #[error("reading read_meta.active")]
    Database(#[from] tokio_postgres::Error),
    #[error("read_meta.active names an invalid schema")]
    Invalid(#[from] InvalidSchemaName),
}

/// The schema readers use now, if any is active yet.
pub async fn active(client: &impl GenericClient) -> Result<Option<ReadSchema>, PointerError> {
    let row = client.query_opt(ACTIVE_SQL, &[]).await?;
    Ok(row.map(|row| ReadSchema::parse(row.get(0))).transpose()?)
}
