//! Creating, flipping and dropping read schemas (the names, DDL and pointer themselves are the
//! `read-model` crate's): DDL runs under an advisory lock, so replicas, rebuilds and verifies
//! starting at once agree.
//!
//! Why plain SQL at start-up rather than refinery: each read schema is a *version* of the read
//! model, created whole by the code that fills it (a rebuild creates `read_v<n+1>` from the same
//! files), so there is no history of changes to replay, only "make this schema exist".

use std::time::Duration;

use anyhow::Context;
use read_model::ddl::{READ_META_SQL, READ_MODEL_SQL};
use tokio_postgres::{Client, GenericClient};

pub use read_model::{ReadSchema, SchemaState};

/// Serialises DDL runs of every projector process (replicas, rebuilds, verifies).
const DDL_LOCK: i64 = 0x4343_5245_4144_0001;

/// Makes sure `read_meta` exists and some schema is active (creating `read_v1` on a fresh
/// database), re-applies the active schema's DDL (new indexes of a release), and returns it.
pub async fn prepare(client: &mut Client) -> anyhow::Result<ReadSchema> {
    let tx = client.transaction().await.context("starting the DDL")?;
    lock(&tx).await?;
    tx.batch_execute(READ_META_SQL)
        .await
        .context("creating read_meta")?;
    let schema = match active(&tx).await? {
        Some(schema) => schema,
        None => {
            let first = ReadSchema::generation(1);
            register(&tx, &first, 1, SchemaState::Active).await?;
            tx.execute(
                "INSERT INTO read_meta.active (schema) VALUES ($1) ON CONFLICT DO NOTHING",
                &[&first.as_str()],
            )
            .await
            .context("activating the first read schema")?;
            first
        }
    };
    tx.batch_execute(&schema.sql(READ_MODEL_SQL))
        .await
        .with_context(|| format!("creating the tables of {schema}"))?;
    tx.commit().await.context("committing the DDL")?;
    Ok(schema)
}

/// Creates a new read schema next to the live one and records it as `state`. Fails if it exists.
pub async fn create(
    client: &mut Client,
    schema: &ReadSchema,
    generation: i32,
    state: SchemaState,
) -> anyhow::Result<()> {
    let tx = client.transaction().await.context("starting the DDL")?;
    lock(&tx).await?;
    tx.batch_execute(READ_META_SQL)
        .await
        .context("creating read_meta")?;
    register(&tx, schema, generation, state).await?;
    tx.batch_execute(&schema.sql(READ_MODEL_SQL))
        .await
        .with_context(|| format!("creating the tables of {schema}"))?;
    tx.commit().await.context("committing the DDL")
}

/// The schema the query API reads now, if any.
pub async fn active(client: &impl GenericClient) -> anyhow::Result<Option<ReadSchema>> {
    read_model::pointer::active(client)
        .await
        .context("reading read_meta.active")
}

/// The generation the next rebuild or verify uses: one above every schema ever recorded.
pub async fn next_generation(client: &impl GenericClient) -> anyhow::Result<i32> {
    let row = client
        .query_one(
            "SELECT COALESCE(max(generation), 0) + 1 FROM read_meta.schemas",
            &[],
        )
        .await
        .context("choosing the next generation")?;
    Ok(row.get(0))
}

/// Points `read_meta.active` at `schema` and retires the previous one, in one transaction:
/// readers see the old schema or the new one, never neither. Returns the previous schema.
pub async fn activate(client: &mut Client, schema: &ReadSchema) -> anyhow::Result<ReadSchema> {
    let tx = client.transaction().await.context("starting the flip")?;
    let previous = tx
        .query_one("SELECT schema FROM read_meta.active FOR UPDATE", &[])
        .await
        .context("locking the active pointer")?;
    let previous = ReadSchema::parse(previous.get(0))?;
    tx.execute(
        "UPDATE read_meta.active SET schema = $1, activated_at = now()",
        &[&schema.as_str()],
    )
    .await
    .context("flipping the active pointer")?;
    tx.execute(
        "UPDATE read_meta.schemas SET state = 'active', activated_at = now() WHERE schema = $1",
        &[&schema.as_str()],
    )
    .await
    .context("marking the new schema active")?;
    tx.execute(
        "UPDATE read_meta.schemas SET state = 'retired', retired_at = now() WHERE schema = $1",
        &[&previous.as_str()],
    )
    .await
    .context("retiring the previous schema")?;
    tx.commit().await.context("committing the flip")?;
    Ok(previous)
}

/// Drops every retired schema retired more than `grace` ago; returns their names.
pub async fn drop_retired(client: &mut Client, grace: Duration) -> anyhow::Result<Vec<String>> {
    let rows = client
        .query(
            "SELECT schema FROM read_meta.schemas
             WHERE state = 'retired' AND retired_at < now() - make_interval(secs => $1)",
            &[&grace.as_secs_f64()],
        )
        .await
        .context("listing retired schemas")?;
    let mut dropped = Vec::new();
    for row in rows {
        let schema = ReadSchema::parse(row.get(0))?;
        drop_schema(client, &schema).await?;
        dropped.push(schema.to_string());
    }
    Ok(dropped)
}

/// Drops one read schema and forgets it. Refuses the active one.
pub async fn drop_schema(client: &mut Client, schema: &ReadSchema) -> anyhow::Result<()> {
    let tx = client.transaction().await.context("starting the drop")?;
    lock(&tx).await?;
    if active(&tx).await?.as_ref() == Some(schema) {
        anyhow::bail!("refusing to drop {schema}: it is the active read schema");
    }
    tx.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .await
        .with_context(|| format!("dropping {schema}"))?;
    tx.execute(
        "DELETE FROM read_meta.schemas WHERE schema = $1",
        &[&schema.as_str()],
    )
    .await
    .context("forgetting the dropped schema")?;
    tx.commit().await.context("committing the drop")
}

/// Takes the DDL lock for the rest of the transaction, and silences the NOTICEs of
/// `IF NOT EXISTS` (every start-up would log one per table otherwise).
async fn lock(tx: &impl GenericClient) -> anyhow::Result<()> {
    // No statement timeout for the DDL, nor for waiting on it: the DDL's one-time backfill of a
    // large catalog's search postings takes minutes, and the replicas waiting here should start
    // after it rather than fail and restart until it is done.
    tx.batch_execute("SET LOCAL statement_timeout = 0")
        .await
        .context("lifting the statement timeout for the DDL")?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&DDL_LOCK])
        .await
        .context("taking the read-side DDL lock")?;
    tx.batch_execute("SET LOCAL client_min_messages = warning")
        .await
        .context("silencing DDL notices")?;
    Ok(())
}

async fn register(
    tx: &impl GenericClient,
    schema: &ReadSchema,
    generation: i32,
    state: SchemaState,
) -> anyhow::Result<()> {
    tx.execute(
        "INSERT INTO read_meta.schemas (schema, generation, state, activated_at)
         VALUES ($1, $2, $3, CASE WHEN $3 = 'active' THEN now() END)",
        &[&schema.as_str(), &generation, &state.as_str()],
    )
    .await
    .with_context(|| format!("recording {schema} in read_meta.schemas"))?;
    Ok(())
}
