//! Password hashes, kept in their own write-side table and never in an event.

use tokio_postgres::GenericClient;
use uuid::Uuid;

use crate::error::StoreError;

/// Stores or replaces the hash for `user_id`, inside the caller's transaction.
pub async fn set_password_hash(
    tx: &impl GenericClient,
    user_id: Uuid,
    password_hash: &str,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO es.user_credentials (user_id, password_hash) VALUES ($1, $2)
         ON CONFLICT (user_id) DO UPDATE
             SET password_hash = EXCLUDED.password_hash, updated_at = clock_timestamp()",
        &[&user_id, &password_hash],
    )
    .await
    .map_err(StoreError::db("storing a password hash"))?;
    Ok(())
}

/// Locks the account's credentials row until the caller's transaction ends, and says whether
/// it is still there: a sign-in that checked the password holds it while it starts the session,
/// so an erasure (which deletes the row first) either waits for the session, and then ends it,
/// or has already removed the account, and the sign-in fails.
pub async fn hold(tx: &impl GenericClient, user_id: Uuid) -> Result<bool, StoreError> {
    let locked = tx
        .execute(
            "UPDATE es.user_credentials SET updated_at = updated_at WHERE user_id = $1",
            &[&user_id],
        )
        .await
        .map_err(StoreError::db("holding the credentials"))?;
    Ok(locked == 1)
}

pub async fn password_hash(
    client: &impl GenericClient,
    user_id: Uuid,
) -> Result<Option<String>, StoreError> {
    let row = client
        .query_opt(
            "SELECT password_hash FROM es.user_credentials WHERE user_id = $1",
            &[&user_id],
        )
        .await
        .map_err(StoreError::db("reading a password hash"))?;
    Ok(row.map(|r| r.get(0)))
}
