//! Versioned schema migrations of the write side, embedded in the binary and applied by
//! `command-api migrate` (or at start-up with `CC_MIGRATE_ON_START=true`).

use tokio_postgres::Client;

use crate::error::StoreError;

mod embedded {
    refinery::embed_migrations!("migrations");
}

/// Table that records which write-side migrations ran (the read side keeps its own).
const HISTORY_TABLE: &str = "es_schema_history";

/// Advisory lock key that serialises migration runs from several pods or processes.
const MIGRATION_LOCK: i64 = 0x4343_4d49_4752_0001;

#[derive(Debug, thiserror::Error)]
pub enum MigrationError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("applying migrations")]
    Refinery(#[from] refinery::Error),
}

/// Applies every pending migration and returns how many ran. Concurrent callers wait for each
/// other on an advisory lock, so a rollout with several pods migrating at once is safe.
pub async fn run(client: &mut Client) -> Result<usize, MigrationError> {
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(StoreError::db("taking the migration lock"))?;
    let result = embedded::migrations::runner()
        .set_migration_table_name(HISTORY_TABLE)
        .run_async(client)
        .await;
    client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(StoreError::db("releasing the migration lock"))?;
    Ok(result?.applied_migrations().len())
}
