//! The `users` table: one row per account, folded with `User::evolve` from the stored row.
//! Nothing secret reaches it, because no event carries a password or a hash.

use chrono::{DateTime, Utc};
use domain::SEALED_FIELD;
use domain::{
    User, UserState,
    values::{DisplayName, Email, Role},
};
use personal::Keyring;
use serde_json::Value;
use tokio_postgres::{GenericClient, Row};
use uuid::Uuid;

use super::{
    error::{ApplyError, db, keys},
    fold::{self, Folded},
    journal::Fresh,
    outcome::BatchOutcome,
};
use read_model::ReadSchema;

const LOAD: &str = "
    SELECT id, email, display_name, role, active, created_at, updated_at, version, email_verified
    FROM {schema}.users WHERE id = ANY($1)";

/// Rows arrive sorted by id, so concurrent batches lock user rows in one order.
const UPSERT: &str = "
    INSERT INTO {schema}.users (id, email, display_name, role, active, created_at, updated_at,
                                version, email_verified)
    SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::text[], $5::boolean[],
                         $6::timestamptz[], $7::timestamptz[], $8::bigint[], $9::boolean[])
    ON CONFLICT (id) DO UPDATE SET
        email = EXCLUDED.email, display_name = EXCLUDED.display_name, role = EXCLUDED.role,
        active = EXCLUDED.active, created_at = EXCLUDED.created_at,
        updated_at = EXCLUDED.updated_at, version = EXCLUDED.version,
        email_verified = EXCLUDED.email_verified";

pub(super) async fn apply(
    tx: &impl GenericClient,
    schema: &ReadSchema,
    events: &[Fresh<'_>],
    keyring: &Keyring,
    outcome: &mut BatchOutcome,
) -> Result<(), ApplyError> {
    if events.is_empty() {
        return Ok(());
    }
    let opened = opened(tx, events, keyring).await?;
    let mut rows = fold::load(tx, &schema.sql(LOAD), "users", events, from_row).await?;
    let changed = fold::fold::<User>(&mut rows, events, Some(opened), outcome);

    let mut columns = Columns::default();
    for id in changed {
        let Some(row) = rows.get(&id) else { continue };
        if !columns.push(id, row) {
            fold::not_created("users", id, outcome);
        }
    }
    columns.write(tx, schema).await
}

/// The payloads of `events` with their personal fields opened, with one key lookup for the
/// batch (erased users' read as erased). A payload that does not open with its user's key is
/// left sealed: the fold then counts it as not understood, like any event it cannot decode,
/// rather than reading it as erased.
async fn opened(
    tx: &impl GenericClient,
    events: &[Fresh<'_>],
    keyring: &Keyring,
) -> Result<Vec<Value>, ApplyError> {
    let mut sealed: Vec<Uuid> = events
        .iter()
        .filter(|f| f.event.payload.get(SEALED_FIELD).is_some())
        .map(|f| f.event.stream_id)
        .collect();
    sealed.sort_unstable();
    sealed.dedup();
    let keys = if sealed.is_empty() {
        Default::default()
    } else {
        keyring.keys(tx, &sealed).await.map_err(keys)?
    };
    let mut payloads = Vec::with_capacity(events.len());
    for fresh in events {
        let e = fresh.event;
        let mut payload = e.payload.clone();
        let key = keys.get(&e.stream_id);
        if let Err(error) = personal::open(&mut payload, key, e.stream_id, &e.event_type) {
            tracing::error!(%error, version = e.stream_version, "personal fields do not open");
            payload = e.payload.clone();
        }
        payloads.push(payload);
    }
    Ok(payloads)
}

/// The stored row back as the aggregate state it was written from.
fn from_row(row: &Row) -> Result<Folded<UserState>, String> {
    let email = row
        .get::<_, Option<&str>>(1)
        .map(Email::parse)
        .transpose()
        .map_err(|e| e.to_string())?;
    let display_name = row
        .get::<_, Option<&str>>(2)
        .map(DisplayName::parse)
        .transpose()
        .map_err(|e| e.to_string())?;
    let state = UserState {
        id: Some(row.get(0)),
        // Only an erasure leaves a registered account without an address.
        erased: email.is_none(),
        email,
        display_name,
        role: row
            .get::<_, &str>(3)
            .parse::<Role>()
            .map_err(|e| e.to_string())?,
        active: row.get(4),
        email_verified: row.get(8),
    };
    Ok(Folded {
        state,
        created_at: row.get(5),
        updated_at: row.get(6),
        version: row.get(7),
    })
}

/// The UNNEST arrays of one upsert.
#[derive(Default)]
struct Columns {
    id: Vec<Uuid>,
    email: Vec<Option<String>>,
    display_name: Vec<Option<String>>,
    role: Vec<&'static str>,
    active: Vec<bool>,
    created_at: Vec<DateTime<Utc>>,
    updated_at: Vec<DateTime<Utc>>,
    version: Vec<i64>,
    email_verified: Vec<bool>,
}

impl Columns {
    /// Adds the row; false if the user was never registered, in which case nothing is added.
    fn push(&mut self, id: Uuid, row: &Folded<UserState>) -> bool {
        let s = &row.state;
        if !s.is_registered() {
            return false;
        }
        self.id.push(id);
        self.email.push(s.email.as_ref().map(ToString::to_string));
        self.display_name
            .push(s.display_name.as_ref().map(ToString::to_string));
        self.role.push(s.role.as_str());
        self.active.push(s.active);
        self.created_at.push(row.created_at);
        self.updated_at.push(row.updated_at);
        self.version.push(row.version);
        self.email_verified.push(s.email_verified);
        true
    }

    async fn write(&self, tx: &impl GenericClient, schema: &ReadSchema) -> Result<(), ApplyError> {
        if self.id.is_empty() {
            return Ok(());
        }
        tx.execute(
            &schema.sql(UPSERT),
            &[
                &self.id,
                &self.email,
                &self.display_name,
                &self.role,
                &self.active,
                &self.created_at,
                &self.updated_at,
                &self.version,
                &self.email_verified,
            ],
        )
        .await
        .map_err(db("writing users"))?;
        Ok(())
    }
}
