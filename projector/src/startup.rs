//! Building and running `projector run`: prepare the read schema and bind the admin listener
//! first (port 0 in tests), then consume until SIGTERM; then finish the batch, commit, leave the
//! group, and only then stop the admin listener.

use std::future::Future;

use anyhow::Context;
use deadpool_postgres::Pool;
use tokio::{runtime::Handle, sync::watch};

use crate::{
    consumer::{self, Finish},
    freshness::Freshness,
    schema::{self, ReadSchema},
    settings::Settings,
};

pub struct Application {
    port: u16,
    server: actix_web::dev::Server,
    settings: Settings,
    pool: Pool,
    schema: ReadSchema,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("port", &self.port)
            .field("schema", &self.schema)
            .finish_non_exhaustive()
    }
}

/// Creates `read_meta` and the active read schema if missing, drops retired schemas whose grace
/// period is over, and returns the active schema.
pub async fn prepare(settings: &Settings, pool: &Pool) -> anyhow::Result<ReadSchema> {
    let mut client = pool
        .get()
        .await
        .context("connecting to the read database")?;
    let active = schema::prepare(&mut client).await?;
    match schema::drop_retired(&mut client, settings.rebuild_grace).await {
        Ok(dropped) if !dropped.is_empty() => tracing::info!(?dropped, "retired schemas dropped"),
        Ok(_) => {}
        Err(error) => tracing::warn!(error = format!("{error:#}"), "dropping retired schemas"),
    }
    Ok(active)
}

/// Serves the admin listener (health and `/metrics`) for the one-shot `rebuild` and `verify`
/// commands, so their progress (`projector_rebuild_progress`) can be scraped while they run.
pub fn serve_admin(settings: &Settings) -> anyhow::Result<actix_web::dev::ServerHandle> {
    platform::prometheus::install();
    crate::metrics::describe();
    let (listener, _) = platform::server::bind(&settings.host, settings.port)?;
    let server = crate::admin::server(listener, settings.database.pool()?, &settings.kafka)?;
    let handle = server.handle();
    tokio::spawn(server);
    Ok(handle)
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        platform::prometheus::install();
        crate::metrics::describe();
        let pool = settings.database.pool()?;
        let schema = prepare(&settings, &pool).await?;
        if settings.create_topics
            && let Err(error) = kafka::admin::ensure_topics(&settings.kafka).await
        {
            // Production topics are created by the platform and this user may not create
            // them; subscribing to topics that exist is all the projector needs.
            tracing::warn!(error = format!("{error:#}"), "could not create the topics");
        }
        let (listener, port) = platform::server::bind(&settings.host, settings.port)?;
        let server = crate::admin::server(listener, pool.clone(), &settings.kafka)?;
        Ok(Self {
            port,
            server,
            settings,
            pool,
            schema,
        })
    }

    /// The admin listener's port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The read schema that was active at start-up.
    pub fn schema(&self) -> &ReadSchema {
        &self.schema
    }

    /// Consumes until SIGINT or SIGTERM.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.run_until(platform::shutdown::signal()).await
    }

    /// Consumes until `stop` resolves (tests pass their own trigger), then drains: the batch in
    /// flight commits, the partitions' leases are released, the admin listener stops.
    pub async fn run_until(self, stop: impl Future<Output = ()>) -> anyhow::Result<()> {
        let admin = self.server.handle();
        let server = tokio::spawn(self.server);
        let (stop_consumer, stopping) = watch::channel(false);
        let options = consumer::Options {
            settings: self.settings.consumer.clone(),
            kafka: self.settings.kafka.clone(),
            schema: self.schema.clone(),
            follow_active: Some(self.settings.active_check_interval),
            stop_when_caught_up: false,
            leases: Some(self.settings.database.target()?),
            keyring: self.settings.keyring.clone(),
        };
        let freshness = Freshness::new(
            self.pool.clone(),
            kafka::probe::BrokerProbe::new(&self.settings.kafka)?,
            self.settings.kafka.topics.clone(),
            self.settings.consumer.lag_sample_interval,
        );
        let sampler = tokio::spawn(freshness.run(stopping.clone()));
        let (pool, runtime) = (self.pool.clone(), Handle::current());
        let mut consumer =
            tokio::task::spawn_blocking(move || consumer::run(options, pool, runtime, stopping));
        let result = tokio::select! {
            () = stop => {
                tracing::info!("stopping: finishing the batch and releasing the partitions");
                let _ = stop_consumer.send(true);
                match tokio::time::timeout(self.settings.shutdown_timeout, &mut consumer).await {
                    Ok(joined) => joined.context("the consumer thread panicked")?.map(|_| ()),
                    Err(_) => Err(anyhow::anyhow!(
                        "the consumer did not stop within {:?}",
                        self.settings.shutdown_timeout
                    )),
                }
            }
            joined = &mut consumer => match joined.context("the consumer thread panicked")? {
                Ok(Finish::Stopped | Finish::CaughtUp) => Ok(()),
                Err(error) => Err(error.context("the consumer failed")),
            },
        };
        let _ = stop_consumer.send(true);
        let _ = sampler.await;
        admin.stop(true).await;
        let _ = server.await;
        tracing::info!("projector stopped");
        result
    }
}
