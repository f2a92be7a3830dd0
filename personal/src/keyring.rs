//! The master key with `es.personal_keys`: draws, finds and destroys the users' data keys.

use std::collections::HashMap;

use serde_json::Value;
use tokio_postgres::{GenericClient, types::Type};
use uuid::Uuid;

use crate::{
    data_key::DataKey,
    master_key::{MASTER_KEY_ENV, MasterKey, MasterKeyError},
    payload::{self, OpenError},
};

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("database error while {context}")]
    Database {
        context: &'static str,
        #[source]
        source: tokio_postgres::Error,
    },
    /// This service runs with another master key than the one that wrapped the user's key: a
    /// configuration error, said once rather than as payloads that do not open.
    #[error(
        "the data key of user {user_id} is wrapped by master key {stored}, this service holds {held}"
    )]
    OtherMasterKey {
        user_id: Uuid,
        stored: String,
        held: String,
    },
    #[error("the data key of user {user_id} does not unwrap with the master key that wrapped it")]
    Unwrappable { user_id: Uuid },
    #[error(transparent)]
    Open(#[from] OpenError),
}

impl KeyError {
    fn db(context: &'static str) -> impl FnOnce(tokio_postgres::Error) -> Self {
        move |source| Self::Database { context, source }
    }
}

/// What the services that read or write personal fields hold: command-api, projector, notifier.
#[derive(Debug)]
pub struct Keyring {
    master: MasterKey,
}

impl Keyring {
    pub fn new(master: MasterKey) -> Self {
        Self { master }
    }

    /// The keyring of the master key in [`MASTER_KEY_ENV`], for the command-line tools.
    pub fn from_env() -> Result<Self, MasterKeyError> {
        let text = std::env::var(MASTER_KEY_ENV).map_err(|_| MasterKeyError::Missing)?;
        Ok(Self::new(MasterKey::from_base64(&text)?))
    }

    pub fn master_key_id(&self) -> &str {
        self.master.id()
    }

    /// The data key to seal a new event of `user_id` with, drawn and stored wrapped (in the
    /// caller's transaction) if the user has none yet: at registration, or for an account
    /// registered before personal fields were sealed. Two transactions drawing one at once
    /// agree on the first to commit.
    pub async fn key_for_writing(
        &self,
        client: &impl GenericClient,
        user_id: Uuid,
    ) -> Result<DataKey, KeyError> {
        if let Some(key) = self.keys(client, &[user_id]).await?.remove(&user_id) {
            return Ok(key);
        }
        let (key, wrapped) = self.master.new_data_key(user_id);
        let inserted = client
            .query_typed(
                "INSERT INTO es.personal_keys (user_id, master_key_id, wrapped) VALUES ($1, $2, $3)
                 ON CONFLICT (user_id) DO NOTHING RETURNING user_id",
                &[
                    (&user_id, Type::UUID),
                    (&self.master.id(), Type::TEXT),
                    (&wrapped, Type::BYTEA),
                ],
            )
            .await
            .map_err(KeyError::db("storing a data key"))?;
        if !inserted.is_empty() {
            return Ok(key);
        }
        self.keys(client, &[user_id])
            .await?
            .remove(&user_id)
            .ok_or(KeyError::Unwrappable { user_id })
    }

    /// The data keys of those of `user_ids` that still have one (erased users have none).
    pub async fn keys(
        &self,
        client: &impl GenericClient,
        user_ids: &[Uuid],
    ) -> Result<HashMap<Uuid, DataKey>, KeyError> {
        let rows = client
            .query_typed(
                "SELECT user_id, master_key_id, wrapped FROM es.personal_keys
                 WHERE user_id = ANY($1)",
                &[(&user_ids, Type::UUID_ARRAY)],
            )
            .await
            .map_err(KeyError::db("reading data keys"))?;
        let mut keys = HashMap::with_capacity(rows.len());
        for row in rows {
            let user_id: Uuid = row.get(0);
            let stored: &str = row.get(1);
            if stored != self.master.id() {
                return Err(KeyError::OtherMasterKey {
                    user_id,
                    stored: stored.to_owned(),
                    held: self.master.id().to_owned(),
                });
            }
            let key = self
                .master
                .unwrap_data_key(user_id, row.get(2))
                .ok_or(KeyError::Unwrappable { user_id })?;
            keys.insert(user_id, key);
        }
        Ok(keys)
    }

    /// Opens the personal fields of every `(stream id, event type, payload)`, with one query for
    /// all their keys. Payloads of erased users lose their sealed field (see [`payload::open`]).
    pub async fn open_all<'a>(
        &self,
        client: &impl GenericClient,
        payloads: impl IntoIterator<Item = (Uuid, &'a str, &'a mut Value)>,
    ) -> Result<(), KeyError> {
        let sealed: Vec<(Uuid, &str, &mut Value)> = payloads
            .into_iter()
            .filter(|(_, _, payload)| payload.get(domain::SEALED_FIELD).is_some())
            .collect();
        if sealed.is_empty() {
            return Ok(());
        }
        let mut ids: Vec<Uuid> = sealed.iter().map(|(id, _, _)| *id).collect();
        ids.sort_unstable();
        ids.dedup();
        let keys = self.keys(client, &ids).await?;
        for (stream_id, event_type, payload) in sealed {
            payload::open(payload, keys.get(&stream_id), stream_id, event_type)?;
        }
        Ok(())
    }
}

/// Destroys the data key of `user_id`, in the caller's transaction (the one that records the
/// erasure). Needs no master key: anyone allowed to erase may, nobody may read. Returns whether
/// a key was there.
pub async fn destroy(client: &impl GenericClient, user_id: Uuid) -> Result<bool, KeyError> {
    let deleted = client
        .execute_typed(
            "DELETE FROM es.personal_keys WHERE user_id = $1",
            &[(&user_id, Type::UUID)],
        )
        .await
        .map_err(KeyError::db("destroying a data key"))?;
    Ok(deleted > 0)
}
