//! `projector rebuild`: builds the next version of the read model (`read_v<n+1>`) from the
//! first event, consuming every partition alone, while the live projector keeps serving the
//! current one. Once caught up it flips `read_meta.active` in one transaction; the live
//! projector notices, continues in the new schema from the rebuild's checkpoints, and the
//! previous schema is dropped after a grace period (for queries that started on it).
//!
//! Rejected: rebuilding in place (readers would see a half-empty catalog) and renaming schemas
//! (a rename takes locks readers queue behind; a pointer flip takes none they wait for).

use anyhow::Context;
use deadpool_postgres::Pool;
use tokio::{runtime::Handle, sync::watch};

use crate::{
    consumer::{self, Finish},
    schema::{self, ReadSchema, SchemaState},
    settings::Settings,
};

/// What a rebuild did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rebuilt {
    /// The new active schema.
    pub schema: ReadSchema,
    /// The schema it replaced.
    pub previous: ReadSchema,
    /// Whether the previous schema was dropped (false if stopped during the grace period; the
    /// next `projector run` start-up drops it then).
    pub dropped_previous: bool,
}

/// Consumes both topics from their first offset into `target` under consumer group `group`,
/// until every partition reached the watermark seen at start ([`Finish::CaughtUp`]) or
/// `shutdown` turns true ([`Finish::Stopped`]).
pub async fn catch_up(
    settings: &Settings,
    pool: &Pool,
    target: &ReadSchema,
    group: String,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<Finish> {
    if settings.create_topics
        && let Err(error) = kafka::admin::ensure_topics(&settings.kafka).await
    {
        tracing::warn!(error = format!("{error:#}"), "could not create the topics");
    }
    let mut consumer_settings = settings.consumer.clone();
    consumer_settings.group_id = group;
    let options = consumer::Options {
        settings: consumer_settings,
        kafka: settings.kafka.clone(),
        schema: target.clone(),
        follow_active: None,
        stop_when_caught_up: true,
        leases: None,
        keyring: settings.keyring.clone(),
    };
    let (pool, runtime) = (pool.clone(), Handle::current());
    tokio::task::spawn_blocking(move || consumer::run(options, pool, runtime, shutdown))
        .await
        .context("the consumer thread panicked")?
}

/// Creates the schema of the next generation; returns it with its generation.
pub(crate) async fn create_next(
    pool: &Pool,
    name: fn(i32) -> ReadSchema,
    state: SchemaState,
) -> anyhow::Result<(ReadSchema, i32)> {
    let mut client = pool
        .get()
        .await
        .context("connecting to the read database")?;
    schema::prepare(&mut client).await?;
    let generation = schema::next_generation(&**client).await?;
    let target = name(generation);
    schema::create(&mut client, &target, generation, state).await?;
    Ok((target, generation))
}

/// Drops a schema that will not be used (an interrupted rebuild, a finished verify).
pub(crate) async fn discard(pool: &Pool, target: &ReadSchema) {
    let dropped = match pool.get().await {
        Ok(mut client) => schema::drop_schema(&mut client, target).await,
        Err(error) => Err(error.into()),
    };
    if let Err(error) = dropped {
        tracing::warn!(error = format!("{error:#}"), %target, "could not drop the schema");
    }
}

/// Rebuilds, flips, waits `settings.rebuild_grace` (or until `shutdown`), drops the previous
/// schema. An interrupted rebuild drops its own half-built schema and changes nothing else.
pub async fn rebuild(
    settings: &Settings,
    mut shutdown: watch::Receiver<bool>,
) -> anyhow::Result<Rebuilt> {
    let pool = settings.database.pool()?;
    let (target, generation) =
        create_next(&pool, ReadSchema::generation, SchemaState::Building).await?;
    let group = format!("{}-rebuild-{generation}", settings.consumer.group_id);
    tracing::info!(%target, %group, "rebuilding the read model from the first event");
    let finish = catch_up(settings, &pool, &target, group, shutdown.clone()).await;
    if !matches!(finish, Ok(Finish::CaughtUp)) {
        discard(&pool, &target).await;
        finish?;
        anyhow::bail!("the rebuild was stopped before it caught up; {target} was dropped");
    }
    let previous = {
        let mut client = pool
            .get()
            .await
            .context("connecting to the read database")?;
        schema::activate(&mut client, &target).await?
    };
    tracing::info!(%previous, %target, "read_meta.active flipped");
    let stopped = async {
        // A dropped sender is no request to stop.
        if shutdown.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    let grace_over = tokio::select! {
        () = tokio::time::sleep(settings.rebuild_grace) => true,
        () = stopped => false,
    };
    let mut dropped_previous = false;
    if grace_over {
        let mut client = pool
            .get()
            .await
            .context("connecting to the read database")?;
        schema::drop_schema(&mut client, &previous).await?;
        tracing::info!(%previous, "previous read schema dropped");
        dropped_previous = true;
    }
    Ok(Rebuilt {
        schema: target,
        previous,
        dropped_previous,
    })
}

/// A watch channel that turns true on SIGINT or SIGTERM, for the one-shot commands.
pub fn shutdown_on_signal() -> watch::Receiver<bool> {
    let (stop, stopped) = watch::channel(false);
    tokio::spawn(async move {
        platform::shutdown::signal().await;
        let _ = stop.send(true);
    });
    stopped
}
