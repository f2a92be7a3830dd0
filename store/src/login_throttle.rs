//! Failed sign-ins per email address, counted in a fixed window shared by all replicas.

use tokio_postgres::GenericClient;

use crate::error::StoreError;

/// Seconds until `email` may try again, if it is throttled now.
pub async fn retry_after(
    client: &impl GenericClient,
    email: &str,
    max_failures: i32,
    window_secs: i32,
) -> Result<Option<u64>, StoreError> {
    let row = client
        .query_opt(
            "SELECT ceil(EXTRACT(EPOCH FROM window_start + make_interval(secs => $3) - now()))::bigint
             FROM es.login_failures
             WHERE email = $1 AND failures >= $2 AND window_start + make_interval(secs => $3) > now()",
            &[&email, &max_failures, &f64::from(window_secs)],
        )
        .await
        .map_err(StoreError::db("checking the sign-in throttle"))?;
    Ok(row.map(|r| u64::try_from(r.get::<_, i64>(0)).unwrap_or(1).max(1)))
}

/// Counts one failure, starting a new window when the last one has ended.
pub async fn record_failure(
    client: &impl GenericClient,
    email: &str,
    window_secs: i32,
) -> Result<(), StoreError> {
    client
        .execute(
            "INSERT INTO es.login_failures (email, failures, window_start) VALUES ($1, 1, now())
             ON CONFLICT (email) DO UPDATE SET
                 failures = CASE WHEN es.login_failures.window_start + make_interval(secs => $2) > now()
                                 THEN es.login_failures.failures + 1 ELSE 1 END,
                 window_start = CASE WHEN es.login_failures.window_start + make_interval(secs => $2) > now()
                                     THEN es.login_failures.window_start ELSE now() END",
            &[&email, &f64::from(window_secs)],
        )
        .await
        .map_err(StoreError::db("recording a failed sign-in"))?;
    Ok(())
}

/// Forgets the failures of an address after a successful sign-in.
pub async fn clear(client: &impl GenericClient, email: &str) -> Result<(), StoreError> {
    client
        .execute("DELETE FROM es.login_failures WHERE email = $1", &[&email])
        .await
        .map_err(StoreError::db("clearing the sign-in throttle"))?;
    Ok(())
}
