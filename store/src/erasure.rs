//! Forgetting a person on the write side, in the transaction that records `user.erased`: every
//! row that holds their address, name or a way to act as them goes, and their data key with it,
//! which leaves every sealed copy of their personal fields unreadable.

use tokio_postgres::{GenericClient, types::Type};
use uuid::Uuid;

use crate::error::StoreError;

/// Deletes what the write side keeps of `user_id` besides its events. The address is read from
/// the reservation before that goes, to find the throttle and trust rows keyed by it.
///
/// Idempotency records go when they answer the user's own requests or mention the user's id or
/// address anywhere in the stored answer (an admin's request that returned the user's
/// representation): a replay after the erasure gets no personal data back.
///
/// Three statements, in this order, because each waits for a row lock and the next must see what
/// the holder committed: the password first (a sign-in holds it while it starts a session and
/// trusts its network: `credentials::hold`), then the reservation (`seal-personal-data` holds it
/// while it draws a legacy user's key), then the rest, whose snapshot includes both.
pub async fn forget(tx: &impl GenericClient, user_id: Uuid) -> Result<(), StoreError> {
    tx.query_typed(
        "DELETE FROM es.user_credentials WHERE user_id = $1",
        &[(&user_id, Type::UUID)],
    )
    .await
    .map_err(StoreError::db("erasing the password"))?;
    let address: Option<String> = tx
        .query_typed(
            "DELETE FROM es.email_reservations WHERE user_id = $1 RETURNING email",
            &[(&user_id, Type::UUID)],
        )
        .await
        .map_err(StoreError::db("erasing the address's reservation"))?
        .first()
        .map(|row| row.get(0));
    tx.query_typed(
        "WITH address AS (
             SELECT $2::text AS email WHERE $2::text IS NOT NULL
         ), trusted AS (
             DELETE FROM es.trusted_clients WHERE email IN (SELECT email FROM address)
         ), throttled AS (
             DELETE FROM es.throttle_windows w USING address a
             WHERE w.key = a.email OR left(w.key, length(a.email) + 1) = a.email || '|'
         ), reauthenticated AS (
             DELETE FROM es.throttle_windows WHERE left(key, 37) = $1::text || '|'
         ), answers AS (
             DELETE FROM es.idempotency_keys k
             WHERE k.scope = $1::text
                OR position(convert_to($1::text, 'UTF8') IN k.body) > 0
                OR EXISTS (SELECT 1 FROM address a
                           WHERE position(convert_to(a.email, 'UTF8') IN k.body) > 0)
         ), snapshot AS (
             DELETE FROM es.snapshots WHERE stream_id = $1
         )
         DELETE FROM es.personal_keys WHERE user_id = $1",
        &[(&user_id, Type::UUID), (&address, Type::TEXT)],
    )
    .await
    .map_err(StoreError::db("erasing personal data"))?;
    Ok(())
}
