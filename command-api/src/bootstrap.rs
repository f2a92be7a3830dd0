//! Creates the first admin from configuration, so a fresh database can be administered.

use anyhow::Context;
use deadpool_postgres::Pool;
use domain::{
    Actor,
    user::{User, UserCommand},
    values::{DisplayName, Email, Password, Role},
};
use secrecy::{ExposeSecret, SecretString};
use store::StoreError;
use uuid::Uuid;

use crate::{
    auth::password,
    command::{
        core::{self, Provenance, Target},
        effects::Secrets,
        error::CommandError,
    },
};

/// Registers `email` as an admin unless an account with that address exists. Returns the new
/// user's id, or `None` when there was nothing to do.
pub async fn ensure_admin(
    pool: &Pool,
    email: &str,
    password_secret: &SecretString,
    keyring: &personal::Keyring,
) -> anyhow::Result<Option<Uuid>> {
    let email = Email::parse(email).map_err(|e| anyhow::anyhow!("bootstrap admin: {e}"))?;
    let mut client = pool.get().await?;
    if let Some(existing) = store::reservations::user_for_email(&**client, email.as_str()).await? {
        tracing::info!(user_id = %existing, "bootstrap admin already exists");
        return Ok(None);
    }
    let password = Password::parse(password_secret.expose_secret())
        .map_err(|e| anyhow::anyhow!("bootstrap admin: {e}"))?;
    let secrets = Secrets::password_hash(password::hash(password).await?);
    let display_name =
        DisplayName::parse("Administrator").map_err(|e| anyhow::anyhow!("bootstrap admin: {e}"))?;
    let user_id = Uuid::now_v7();
    let commands = vec![
        UserCommand::Register {
            user_id,
            email,
            display_name,
        },
        UserCommand::AssignRole { role: Role::Admin },
    ];
    let tx = client.transaction().await?;
    let target = Target {
        actor: &Actor::System,
        stream_id: user_id,
        expected_version: Some(0),
    };
    let provenance = Provenance::internal();
    match core::run::<User>(&*tx, target, commands, &provenance, &secrets, keyring).await {
        Ok(_) => {}
        // Another replica won the race to create it.
        Err(CommandError::Store(StoreError::EmailTaken)) => return Ok(None),
        Err(e) => return Err(anyhow::Error::new(e).context("creating the bootstrap admin")),
    }
    tx.commit()
        .await
        .context("committing the bootstrap admin")?;
    tracing::info!(%user_id, "bootstrap admin created");
    Ok(Some(user_id))
}
