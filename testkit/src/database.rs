//! A fresh, migrated database for each test, so tests never see each other's rows.

use std::time::Duration;

use anyhow::Context;
use platform::db::DbSettings;
use secrecy::SecretString;
use tokio_postgres::NoTls;
use uuid::Uuid;

/// Superuser URL of the test cluster.
pub fn admin_url() -> String {
    std::env::var("CC_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:54329/postgres".to_owned())
}

/// A superuser connection to the test cluster, for tests that change a database from outside
/// (cut its connections, refuse new ones).
pub async fn admin_client() -> anyhow::Result<tokio_postgres::Client> {
    let (client, connection) = tokio_postgres::connect(&admin_url(), NoTls)
        .await
        .context("connecting to the test PostgreSQL")?;
    tokio::spawn(connection);
    Ok(client)
}

#[derive(Debug, Clone)]
pub struct TestDatabase {
    pub name: String,
    pub url: String,
}

impl TestDatabase {
    /// Creates `cc_test_<uuid>` and applies the write-side migrations.
    pub async fn create() -> anyhow::Result<Self> {
        let admin = admin_url();
        let (client, connection) = tokio_postgres::connect(&admin, NoTls)
            .await
            .with_context(|| "connecting to the test PostgreSQL (is `make test` running it?)")?;
        tokio::spawn(connection);
        let name = format!("cc_test_{}", Uuid::new_v4().simple());
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .context("creating the test database")?;
        let url = replace_database(&admin, &name);
        let db = Self { name, url };
        let (mut client, connection) = tokio_postgres::connect(&db.url, NoTls).await?;
        let driver = tokio::spawn(connection);
        store::migrations::run(&mut client).await?;
        drop(client);
        let _ = driver.await;
        Ok(db)
    }

    pub fn settings(&self, application_name: &str) -> DbSettings {
        DbSettings {
            url: SecretString::from(self.url.clone()),
            password: None,
            pool_size: 16,
            statement_timeout: Duration::from_secs(10),
            acquire_timeout: Duration::from_secs(5),
            application_name: application_name.to_owned(),
            tls: platform::db_tls::TlsOverride::default(),
        }
    }

    /// A plain connection for assertions.
    pub async fn connect(&self) -> anyhow::Result<tokio_postgres::Client> {
        let (client, connection) = tokio_postgres::connect(&self.url, NoTls).await?;
        tokio::spawn(connection);
        Ok(client)
    }
}

/// `url` with its database name replaced by `name`.
fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let base = base.rsplit_once('/').map_or(base, |(prefix, _)| prefix);
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}
