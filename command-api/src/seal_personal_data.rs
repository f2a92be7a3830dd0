//! `command-api seal-personal-data`: the one-time, audited rewrite that brings a store recorded
//! before personal fields were sealed (V14) to the sealed form, the only rewrite of `es.events`
//! there is (V15's trigger lets nothing else through, the owner included).
//!
//! Each v1 `user.registered` and `user.display_name_changed` gets its address and name sealed
//! with the user's data key (drawn if the user has none yet) and becomes v2; a user erased
//! before this ran has no key, so their fields are dropped instead. The user streams'
//! snapshots, which hold the state in clear, are deleted (the next command folds the events).
//! Each run is a row of `es.personal_data_sealings`: who, with which master key, how much.
//!
//! Runs as the database owner (like `migrate`), with the services' master key, in chunks that
//! each commit, so it can be stopped and run again; a second run finds nothing left. Copies made
//! before it ran stay where they are: the topics (recreate them and `republish`) and the read
//! model's audit copy (`projector rebuild`); `k8s/README.md` has the whole procedure.

use std::collections::{HashMap, HashSet, hash_map::Entry};

use anyhow::Context;
use domain::{DomainEvent, UserEvent};
use personal::Keyring;
use tokio_postgres::{Client, Transaction, types::Type};
use uuid::Uuid;

/// Events rewritten per transaction.
const CHUNK: i64 = 500;
/// One sealing run at a time.
const SEALING_LOCK: i64 = 0x4343_5345_414c_0001;

/// What a run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sealed {
    /// Events whose personal fields are now sealed.
    pub events_sealed: i64,
    /// Events of users erased before the run, whose personal fields were dropped.
    pub events_stripped: i64,
    pub snapshots_dropped: i64,
}

/// Seals every event still holding personal fields in clear; `progress` hears how far it got.
pub async fn seal_personal_data(
    client: &mut Client,
    keyring: &Keyring,
    operator: &str,
    mut progress: impl FnMut(Sealed, i64),
) -> anyhow::Result<Sealed> {
    client
        .execute("SELECT pg_advisory_lock($1)", &[&SEALING_LOCK])
        .await
        .context("taking the sealing lock")?;
    let result = run(client, keyring, operator, &mut progress).await;
    client
        .execute("SELECT pg_advisory_unlock($1)", &[&SEALING_LOCK])
        .await
        .context("releasing the sealing lock")?;
    result
}

async fn run(
    client: &mut Client,
    keyring: &Keyring,
    operator: &str,
    progress: &mut impl FnMut(Sealed, i64),
) -> anyhow::Result<Sealed> {
    let fields_of = personal_fields();
    let types: Vec<&str> = fields_of.keys().copied().collect();
    let total: i64 = client
        .query_one(
            "SELECT count(*) FROM es.events WHERE event_type = ANY($1) AND schema_version = 1",
            &[&types],
        )
        .await
        .context("counting events in clear")?
        .get(0);
    let run_id: i64 = client
        .query_one(
            "INSERT INTO es.personal_data_sealings (operator, master_key_id) VALUES ($1, $2)
             RETURNING id",
            &[&operator, &keyring.master_key_id()],
        )
        .await
        .context("recording the run")?
        .get(0);
    let mut done = Sealed::default();
    progress(done, total);
    loop {
        let tx = client.transaction().await.context("starting a chunk")?;
        let chunk = seal_chunk(&tx, keyring, &fields_of, &types).await?;
        if chunk == Sealed::default() {
            break;
        }
        done.events_sealed += chunk.events_sealed;
        done.events_stripped += chunk.events_stripped;
        record(&tx, run_id, done, false).await?;
        tx.commit().await.context("committing a chunk")?;
        progress(done, total);
    }
    let tx = client
        .transaction()
        .await
        .context("starting the last step")?;
    let dropped = tx
        .execute("DELETE FROM es.snapshots WHERE stream_type = 'user'", &[])
        .await
        .context("dropping the user snapshots")?;
    done.snapshots_dropped = i64::try_from(dropped).unwrap_or(i64::MAX);
    record(&tx, run_id, done, true).await?;
    tx.commit().await.context("finishing the run")?;
    Ok(done)
}

/// The personal fields of each event type that has any, from the domain's catalog.
fn personal_fields() -> HashMap<&'static str, &'static [&'static str]> {
    UserEvent::catalog()
        .into_iter()
        .filter(|info| info.plaintext_version.is_some())
        .map(|info| (info.event_type, info.personal_fields))
        .collect()
}

/// Seals the next [`CHUNK`] events in clear, in `tx`.
async fn seal_chunk(
    tx: &Transaction<'_>,
    keyring: &Keyring,
    fields_of: &HashMap<&'static str, &'static [&'static str]>,
    types: &[&str],
) -> anyhow::Result<Sealed> {
    tx.batch_execute("SET LOCAL cc.sealing_personal_data = 'on'")
        .await
        .context("declaring the rewrite")?;
    let rows = tx
        .query(
            "SELECT position, stream_id, event_type, payload FROM es.events
             WHERE event_type = ANY($1) AND schema_version = 1
             ORDER BY position LIMIT $2 FOR UPDATE",
            &[&types, &CHUNK],
        )
        .await
        .context("reading events in clear")?;
    let streams: Vec<Uuid> = rows.iter().map(|row| row.get(1)).collect();
    // Held to the commit: an erasure deletes the reservation, so it waits for this chunk, and
    // one that committed before is seen below. No key is ever drawn for an erased user.
    tx.query(
        "SELECT 1 FROM es.email_reservations WHERE user_id = ANY($1) FOR UPDATE",
        &[&streams],
    )
    .await
    .context("holding the accounts' reservations")?;
    let erased: HashSet<Uuid> = tx
        .query(
            "SELECT DISTINCT stream_id FROM es.events
             WHERE stream_id = ANY($1) AND event_type = 'user.erased'",
            &[&streams],
        )
        .await
        .context("finding erased users")?
        .iter()
        .map(|row| row.get(0))
        .collect();
    let mut keys = HashMap::new();
    let mut chunk = Sealed::default();
    for row in &rows {
        let (position, stream_id): (i64, Uuid) = (row.get(0), row.get(1));
        let event_type: &str = row.get(2);
        let mut payload: serde_json::Value = row.get(3);
        let fields = fields_of.get(event_type).copied().unwrap_or_default();
        if erased.contains(&stream_id) {
            if let Some(object) = payload.as_object_mut() {
                for field in fields {
                    object.remove(*field);
                }
            }
            chunk.events_stripped += 1;
        } else {
            let key = match keys.entry(stream_id) {
                Entry::Occupied(known) => known.into_mut(),
                Entry::Vacant(new) => new.insert(keyring.key_for_writing(tx, stream_id).await?),
            };
            personal::seal(&mut payload, fields, key, stream_id, event_type);
            chunk.events_sealed += 1;
        }
        tx.execute_typed(
            "UPDATE es.events SET payload = $1, schema_version = 2 WHERE position = $2",
            &[(&payload, Type::JSONB), (&position, Type::INT8)],
        )
        .await
        .context("rewriting an event")?;
    }
    Ok(chunk)
}

async fn record(
    tx: &Transaction<'_>,
    run_id: i64,
    done: Sealed,
    finished: bool,
) -> anyhow::Result<()> {
    tx.execute(
        "UPDATE es.personal_data_sealings
         SET events_sealed = $2, events_stripped = $3, snapshots_dropped = $4,
             finished_at = CASE WHEN $5 THEN clock_timestamp() END
         WHERE id = $1",
        &[
            &run_id,
            &done.events_sealed,
            &done.events_stripped,
            &done.snapshots_dropped,
            &finished,
        ],
    )
    .await
    .context("recording progress")?;
    Ok(())
}
