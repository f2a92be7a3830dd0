//! The PostgreSQL connection pool every service uses, with a statement timeout on every session
//! and TLS as the URL's `sslmode` says (`db_tls`).

use std::time::Duration;

use anyhow::Context;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use postgres_openssl::{MakeTlsConnector, TlsStream};
use secrecy::{ExposeSecret, SecretString};
use tokio_postgres::Socket;

use crate::db_tls;

/// Where and how to connect: the parsed settings and the TLS connector `sslmode` asks for.
#[derive(Clone)]
pub struct PgTarget {
    pub config: tokio_postgres::Config,
    pub tls: MakeTlsConnector,
    pub tls_mode: db_tls::TlsMode,
}

impl std::fmt::Debug for PgTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The config holds the password.
        f.debug_struct("PgTarget")
            .field("tls_mode", &self.tls_mode)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone)]
pub struct DbSettings {
    pub url: SecretString,
    /// `CC_DATABASE__PASSWORD`: wins over a password in the URL, and needs no URL escaping, so
    /// a cloud-generated password (`@`, `:`, `/`, `%`, spaces) is given as it is.
    pub password: Option<SecretString>,
    pub pool_size: usize,
    /// Upper bound for any single statement, so a bad query cannot hold a connection forever.
    pub statement_timeout: Duration,
    /// How long a request waits for a free connection before failing with 503.
    pub acquire_timeout: Duration,
    /// Shows up in `pg_stat_activity` to tell the services apart.
    pub application_name: String,
    /// `sslmode` and `sslrootcert` given beside the URL; they win over the URL's own.
    pub tls: db_tls::TlsOverride,
}

impl DbSettings {
    /// Reads `CC_DATABASE__URL`, `CC_DATABASE__PASSWORD` (optional; when set and non-empty it
    /// is the password, whatever the URL says), `CC_DATABASE__POOL_SIZE`,
    /// `CC_DATABASE__STATEMENT_TIMEOUT_MS`, `CC_DATABASE__ACQUIRE_TIMEOUT_MS`,
    /// `CC_DATABASE__SSLMODE` and `CC_DATABASE__SSLROOTCERT`.
    pub fn from_env(application_name: &str) -> anyhow::Result<Self> {
        Ok(Self {
            url: crate::env::secret("CC_DATABASE__URL")?,
            password: crate::env::optional_secret("CC_DATABASE__PASSWORD"),
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
            tls: db_tls::TlsOverride::from_env(),
        })
    }

    /// The parsed connection settings and TLS connector (also for a dedicated connection
    /// outside the pool).
    pub fn target(&self) -> anyhow::Result<PgTarget> {
        let (url, tls) = db_tls::split_url(self.url.expose_secret())
            .and_then(|(url, tls)| Ok((url, self.tls.apply(tls)?)))
            .context("the database URL's TLS settings are not valid")?;
        let mut config: tokio_postgres::Config = url
            .parse()
            .context("CC_DATABASE__URL is not a valid PostgreSQL URL")?;
        if let Some(password) = &self.password {
            config.password(password.expose_secret());
        }
        config.ssl_mode(tls.mode.transport());
        config.application_name(&self.application_name);
        config.connect_timeout(Duration::from_secs(5));
        config.options(format!(
            "-c statement_timeout={}",
            self.statement_timeout.as_millis()
        ));
        Ok(PgTarget {
            config,
            tls: db_tls::connector(&tls)?,
            tls_mode: tls.mode,
        })
    }

    /// A pool that connects lazily; `ping` checks that the database answers.
    pub fn pool(&self) -> anyhow::Result<Pool> {
        let target = self.target()?;
        let manager = Manager::from_config(
            target.config,
            target.tls,
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
    target: &PgTarget,
) -> anyhow::Result<(
    tokio_postgres::Client,
    tokio_postgres::Connection<Socket, TlsStream<Socket>>,
)> {
    target
        .config
        .connect(target.tls.clone())
        .await
        .context("opening a dedicated PostgreSQL connection")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(url: &str, password: Option<&str>) -> DbSettings {
        DbSettings {
            url: SecretString::from(url.to_owned()),
            password: password.map(|p| SecretString::from(p.to_owned())),
            pool_size: 1,
            statement_timeout: Duration::from_secs(1),
            acquire_timeout: Duration::from_secs(1),
            application_name: "db-test".to_owned(),
            tls: db_tls::TlsOverride::default(),
        }
    }

    fn password_of(settings: &DbSettings) -> Option<Vec<u8>> {
        let target = settings.target().expect("a valid target");
        target.config.get_password().map(<[u8]>::to_vec)
    }

    #[test]
    fn the_separate_password_wins_over_the_urls_and_is_taken_verbatim() {
        let hostile = "p@ss:w/rd?#% with spaces";
        let with_both = settings("postgres://app:in-url@db.example/shop", Some(hostile));
        assert_eq!(password_of(&with_both), Some(hostile.as_bytes().to_vec()));
        let without_url_password = settings("postgres://app@db.example/shop", Some(hostile));
        assert_eq!(
            password_of(&without_url_password),
            Some(hostile.as_bytes().to_vec())
        );
    }

    #[test]
    fn without_the_separate_password_the_urls_own_is_used() {
        let url_only = settings("postgres://app:in-url@db.example/shop", None);
        assert_eq!(password_of(&url_only), Some(b"in-url".to_vec()));
    }
}
