//! Creates the first admin from configuration, so a fresh database can be administered.

use deadpool_postgres::Pool;
use domain::{
    user::{User, UserCommand},
    values::{DisplayName, Email, Password, Role},
};
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

use crate::{
    auth::{password, principal::Caller},
    command::{CommandRequest, Reply, SideEffect, execute},
    request::CommandHeaders,
};

/// Registers `email` as an admin unless an account with that address exists. Returns the new
/// user's id, or `None` when there was nothing to do.
pub async fn ensure_admin(
    pool: &Pool,
    email: &str,
    password_secret: &SecretString,
) -> anyhow::Result<Option<Uuid>> {
    let email = Email::parse(email).map_err(|e| anyhow::anyhow!("bootstrap admin: {e}"))?;
    {
        let client = pool.get().await?;
        if let Some(existing) =
            store::reservations::user_for_email(&**client, email.as_str()).await?
        {
            tracing::info!(user_id = %existing, "bootstrap admin already exists");
            return Ok(None);
        }
    }
    let password = Password::parse(password_secret.expose_secret())
        .map_err(|e| anyhow::anyhow!("bootstrap admin: {e}"))?;
    let hash = password::hash(password).await?;
    let display_name =
        DisplayName::parse("Administrator").map_err(|e| anyhow::anyhow!("bootstrap admin: {e}"))?;
    let user_id = Uuid::now_v7();
    let headers = CommandHeaders {
        correlation_id: Uuid::now_v7(),
        causation_id: None,
        traceparent: None,
        idempotency_key: None,
        if_match: None,
        target: "bootstrap-admin".to_owned(),
    };
    let caller = Caller::system();
    let request = CommandRequest {
        caller: &caller,
        headers: &headers,
        body: &[],
    };
    let outcome = execute::<User, _>(pool, request, user_id, Reply::ok(), |_, _| {
        Ok((
            vec![
                UserCommand::Register {
                    user_id,
                    email: email.clone(),
                    display_name: display_name.clone(),
                },
                UserCommand::AssignRole { role: Role::Admin },
            ],
            vec![
                SideEffect::ReserveEmail {
                    email: email.as_str().to_owned(),
                    user_id,
                },
                SideEffect::SetPasswordHash {
                    user_id,
                    hash: hash.clone(),
                },
            ],
        ))
    })
    .await;
    match outcome {
        Ok(_) => {
            tracing::info!(%user_id, "bootstrap admin created");
            Ok(Some(user_id))
        }
        // Another replica won the race to create it.
        Err(crate::error::ApiError::Store(store::StoreError::EmailTaken)) => Ok(None),
        Err(e) => Err(anyhow::anyhow!("creating the bootstrap admin: {e}")),
    }
}
