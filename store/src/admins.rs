//! The active admins (role admin, not deactivated), kept in the transactions of the events that
//! change them, so that "at least one admin remains" holds across streams and concurrent
//! commands, the way the reservations keep an email to one account.

use tokio_postgres::GenericClient;
use uuid::Uuid;

use crate::error::StoreError;

/// Serialises every revocation: two admins demoting themselves at once must not both see the
/// other one still there.
const REVOCATION_LOCK: i64 = 0x4343_4144_4d49_4e01;

/// Records `user_id` as an active admin.
pub async fn grant(tx: &impl GenericClient, user_id: Uuid) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO es.active_admins (user_id) VALUES ($1) ON CONFLICT (user_id) DO NOTHING",
        &[&user_id],
    )
    .await
    .map_err(StoreError::db("granting admin"))?;
    Ok(())
}

/// Removes `user_id` from the active admins; [`StoreError::LastAdmin`] if nobody would be left.
/// A user who was not an admin changes nothing.
pub async fn revoke(tx: &impl GenericClient, user_id: Uuid) -> Result<(), StoreError> {
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&REVOCATION_LOCK])
        .await
        .map_err(StoreError::db("taking the admin revocation lock"))?;
    let removed = tx
        .execute(
            "DELETE FROM es.active_admins WHERE user_id = $1",
            &[&user_id],
        )
        .await
        .map_err(StoreError::db("revoking admin"))?;
    if removed == 0 {
        return Ok(());
    }
    let left: i64 = tx
        .query_one("SELECT count(*) FROM es.active_admins", &[])
        .await
        .map_err(StoreError::db("counting admins"))?
        .get(0);
    if left == 0 {
        return Err(StoreError::LastAdmin);
    }
    Ok(())
}
