//! query-api settings from the environment.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `CC_HTTP__HOST` / `CC_HTTP__PORT` | `0.0.0.0` / `8080` | listen address |
//! | `CC_HTTP__SHUTDOWN_TIMEOUT_SECS` | `10` | drain time after SIGTERM |
//! | `CC_HTTP__WORKERS` | number of cores | actix worker threads |
//! | `CC_DATABASE__URL` | required | read models, through a read-only role (secret) |
//! | `CC_DATABASE__POOL_SIZE`, `CC_DATABASE__STATEMENT_TIMEOUT_MS` | 16, 5000 | pool and per-statement bound |
//!
//! query-api never talks to Kafka; `CC_KAFKA__*` variables are ignored.

use std::time::Duration;

use platform::{db::DbSettings, env};

#[derive(Debug, Clone)]
pub struct Settings {
    pub host: String,
    pub port: u16,
    pub shutdown_timeout: Duration,
    pub workers: Option<usize>,
    pub database: DbSettings,
}

impl Settings {
    pub fn from_env() -> anyhow::Result<Self> {
        Ok(Self {
            host: env::string_or("CC_HTTP__HOST", "0.0.0.0"),
            port: env::or("CC_HTTP__PORT", 8080)?,
            shutdown_timeout: Duration::from_secs(env::or("CC_HTTP__SHUTDOWN_TIMEOUT_SECS", 10)?),
            workers: std::env::var("CC_HTTP__WORKERS")
                .ok()
                .and_then(|w| w.parse().ok()),
            database: DbSettings::from_env("query-api")?,
        })
    }
}
