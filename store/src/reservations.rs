//! Uniqueness that spans streams (one account per email, one product per SKU), claimed inside the
//! same transaction as the event that needs it. Concurrent claims of one value block on the
//! primary key, and exactly one transaction commits.

use tokio_postgres::GenericClient;
use uuid::Uuid;

use crate::error::{StoreError, violated_unique_constraint};

pub async fn reserve_email(
    tx: &impl GenericClient,
    email: &str,
    user_id: Uuid,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO es.email_reservations (email, user_id) VALUES ($1, $2)",
        &[&email, &user_id],
    )
    .await
    .map_err(|e| match violated_unique_constraint(&e) {
        Some("email_reservations_pkey") => StoreError::EmailTaken,
        _ => StoreError::Database {
            context: "reserving an email address",
            source: e,
        },
    })?;
    Ok(())
}

/// The account an email address belongs to.
pub async fn user_for_email(
    client: &impl GenericClient,
    email: &str,
) -> Result<Option<Uuid>, StoreError> {
    let row = client
        .query_opt(
            "SELECT user_id FROM es.email_reservations WHERE email = $1",
            &[&email],
        )
        .await
        .map_err(StoreError::db("looking up an email address"))?;
    Ok(row.map(|r| r.get(0)))
}

pub async fn reserve_sku(
    tx: &impl GenericClient,
    sku: &str,
    product_id: Uuid,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO es.sku_reservations (sku, product_id) VALUES ($1, $2)",
        &[&sku, &product_id],
    )
    .await
    .map_err(|e| match violated_unique_constraint(&e) {
        Some("sku_reservations_pkey") => StoreError::SkuTaken,
        _ => StoreError::Database {
            context: "reserving an SKU",
            source: e,
        },
    })?;
    Ok(())
}
