//! The PostgreSQL connection pool every service uses, with a statement timeout on every session.

use std::time::Duration;

use anyhow::Context;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use secrecy::{ExposeSecret, SecretString};
use tokio_postgres::NoTls;

#[derive(Debug, Clone)]
pub struct DbSettings {
    pub url: SecretString,
    pub pool_size: usize,
    /// Upper bound for any single statement, so a bad query cannot hold a connection forever.
    pub statement_timeout: Duration,
    /// How long a request waits for a free connection before failing with 503.
    pub acquire_timeout: Duration,
    /// Shows up in `pg_stat_activity` to tell the services apart.
    pub application_name: String,
}

impl DbSettings {
    /// Reads `CC_DATABASE__URL`, `CC_DATABASE__POOL_SIZE`, `CC_DATABASE__STATEMENT_TIMEOUT_MS`
    /// and `CC_DATABASE__ACQUIRE_TIMEOUT_MS`.
    pub fn from_env(application_name: &str) -> anyhow::Result<Self> {
        Ok(Self {
            url: crate::env::secret("CC_DATABASE__URL")?,
            pool_size: crate::env::or("CC_DATABASE__POOL_SIZE", 16)?,
            statement_timeout: Duration::from_millis(crate::env::or(
                "CC_DATABASE__STATEMENT_TIMEOUT_MS",
                5_000,
            )?),
            acquire_timeout: Duration::from_millis(crate::env::or(
                "CC_DATABASE__ACQUIRE_TIMEOUT_MS",
                2_000,
            )?),
            application_name: application_name.to_owned(),
        })
    }

    /// The parsed connection settings (for a dedicated connection outside the pool).
    pub fn pg_config(&self) -> anyhow::Result<tokio_postgres::Config> {
        let mut config: tokio_postgres::Config = self
            .url
            .expose_secret()
            .parse()
            .context("CC_DATABASE__URL is not a valid PostgreSQL URL")?;
        config.application_name(&self.application_name);
        config.connect_timeout(Duration::from_secs(5));
        config.options(format!(
            "-c statement_timeout={}",
            self.statement_timeout.as_millis()
        ));
        Ok(config)
    }

    /// A pool that connects lazily; `ping` checks that the database answers.
    pub fn pool(&self) -> anyhow::Result<Pool> {
        let manager = Manager::from_config(
            self.pg_config()?,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        Pool::builder(manager)
            .max_size(self.pool_size)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(self.acquire_timeout))
            .create_timeout(Some(Duration::from_secs(5)))
            .build()
            .context("building the PostgreSQL pool")
    }
}

/// `SELECT 1` through the pool: the readiness check.
pub async fn ping(pool: &Pool) -> anyhow::Result<()> {
    let client = pool.get().await.context("getting a connection")?;
    client.execute("SELECT 1", &[]).await.context("SELECT 1")?;
    Ok(())
}

/// Opens one connection outside the pool and drives it on the runtime (for LISTEN and
/// session-level advisory locks, which must stay on one connection).
pub async fn connect_dedicated(
    config: &tokio_postgres::Config,
) -> anyhow::Result<(
    tokio_postgres::Client,
    tokio_postgres::Connection<tokio_postgres::Socket, tokio_postgres::tls::NoTlsStream>,
)> {
    config
        .connect(NoTls)
        .await
        .context("opening a dedicated PostgreSQL connection")
}
