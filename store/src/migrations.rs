//! Versioned schema migrations of the write side, embedded in the binary and applied by
//! `command-api migrate` (or at start-up with `CC_MIGRATE_ON_START=true`), and the service
//! roles' rights granted again after them, for roles created after the migrations ran.

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

/// Every right the migrations grant the service roles, for roles created after they ran
/// (see the script's own comment).
pub const SERVICE_ROLE_GRANTS_SQL: &str = include_str!("sql/service_role_grants.sql");

/// Applies every pending migration and returns how many ran. Concurrent callers wait for each
/// other on an advisory lock, so a rollout with several pods migrating at once is safe.
pub async fn run(client: &mut Client) -> Result<usize, MigrationError> {
    locked(client, false).await
}

/// [`run`], then grants the service roles that exist every right the migrations give them
/// ([`SERVICE_ROLE_GRANTS_SQL`]), so a role created after the migrations that grant to it is
/// not left without rights. Under the same lock: two GRANTs on one object at once can fail
/// with "tuple concurrently updated".
pub async fn run_and_grant_service_roles(client: &mut Client) -> Result<usize, MigrationError> {
    locked(client, true).await
}

async fn locked(client: &mut Client, grant_service_roles: bool) -> Result<usize, MigrationError> {
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(StoreError::db("taking the migration lock"))?;
    let result = apply(client, grant_service_roles).await;
    client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(StoreError::db("releasing the migration lock"))?;
    result
}

async fn apply(client: &mut Client, grant_service_roles: bool) -> Result<usize, MigrationError> {
    let report = embedded::migrations::runner()
        .set_migration_table_name(HISTORY_TABLE)
        .run_async(client)
        .await?;
    if grant_service_roles {
        client
            .batch_execute(SERVICE_ROLE_GRANTS_SQL)
            .await
            .map_err(StoreError::db("granting the service roles their rights"))?;
    }
    Ok(report.applied_migrations().len())
}
