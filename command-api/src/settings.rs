//! command-api settings, read once from the environment at start-up.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `CC_HTTP__HOST` / `CC_HTTP__PORT` | `0.0.0.0` / `8080` | listen address (port 0 picks a free one) |
//! | `CC_HTTP__BODY_LIMIT_BYTES` | `65536` | larger request bodies get 413 |
//! | `CC_HTTP__SHUTDOWN_TIMEOUT_SECS` | `20` | how long in-flight requests may take after SIGTERM |
//! | `CC_HTTP__WORKERS` | number of cores | actix worker threads |
//! | `CC_DATABASE__URL` | required | write-side PostgreSQL (secret) |
//! | `CC_DATABASE__POOL_SIZE`, `CC_DATABASE__STATEMENT_TIMEOUT_MS`, `CC_DATABASE__ACQUIRE_TIMEOUT_MS` | 16, 5000, 2000 | pool |
//! | `CC_KAFKA__*` | see `kafka::settings` | broker and topics |
//! | `CC_AUTH__JWT_SECRET` | required | HS256 signing key shared with query-api, at least 32 bytes (secret) |
//! | `CC_AUTH__TOKEN_TTL_SECS` | `900` | access token lifetime |
//! | `CC_AUTH__LOGIN_MAX_FAILURES` / `CC_AUTH__LOGIN_WINDOW_SECS` | `5` / `900` | failed sign-ins per address before 429, and the window |
//! | `CC_BOOTSTRAP_ADMIN__EMAIL` / `CC_BOOTSTRAP_ADMIN__PASSWORD` | unset | admin created at start-up when absent (password is secret) |
//! | `CC_MIGRATE_ON_START` | `false` | apply migrations before serving |
//! | `CC_RELAY__ENABLED` | `true` | run the outbox relay in this process |
//! | `CC_RELAY__BATCH_SIZE` | `500` | events per relay round trip |
//! | `CC_LOG_FORMAT` | text | `json` for JSON lines (fields in `platform/src/telemetry.rs`); `RUST_LOG` filters |
//! | `CC_OTLP__ENDPOINT` / `CC_OTLP__SERVICE_NAME` | unset / executable name | with the `otlp` cargo feature only: export spans over OTLP/HTTP to `<endpoint>/v1/traces` (see `platform/src/otlp.rs`) |

use std::time::Duration;

use platform::{db::DbSettings, env};
use secrecy::{ExposeSecret, SecretString};

#[derive(Debug, Clone)]
pub struct Settings {
    pub host: String,
    pub port: u16,
    pub body_limit_bytes: usize,
    pub shutdown_timeout: Duration,
    pub workers: Option<usize>,
    pub database: DbSettings,
    pub kafka: kafka::KafkaSettings,
    pub jwt_secret: SecretString,
    pub token_ttl: Duration,
    pub login_throttle: LoginThrottle,
    pub bootstrap_admin: Option<(String, SecretString)>,
    pub migrate_on_start: bool,
    pub relay_enabled: bool,
    pub relay_batch_size: i64,
}

/// Failed sign-ins allowed per address within a window.
#[derive(Debug, Clone, Copy)]
pub struct LoginThrottle {
    pub max_failures: i32,
    pub window_secs: i32,
}

impl Settings {
    pub fn from_env() -> anyhow::Result<Self> {
        let jwt_secret = env::secret("CC_AUTH__JWT_SECRET")?;
        anyhow::ensure!(
            jwt_secret.expose_secret().len() >= 32,
            "CC_AUTH__JWT_SECRET must be at least 32 bytes"
        );
        let bootstrap_admin = match std::env::var("CC_BOOTSTRAP_ADMIN__EMAIL") {
            Ok(email) if !email.is_empty() => {
                Some((email, env::secret("CC_BOOTSTRAP_ADMIN__PASSWORD")?))
            }
            _ => None,
        };
        Ok(Self {
            host: env::string_or("CC_HTTP__HOST", "0.0.0.0"),
            port: env::or("CC_HTTP__PORT", 8080)?,
            body_limit_bytes: env::or("CC_HTTP__BODY_LIMIT_BYTES", 64 * 1024)?,
            shutdown_timeout: Duration::from_secs(env::or("CC_HTTP__SHUTDOWN_TIMEOUT_SECS", 20)?),
            workers: std::env::var("CC_HTTP__WORKERS")
                .ok()
                .and_then(|w| w.parse().ok()),
            database: DbSettings::from_env("command-api")?,
            kafka: kafka::KafkaSettings::from_env()?,
            jwt_secret,
            token_ttl: Duration::from_secs(env::or("CC_AUTH__TOKEN_TTL_SECS", 900)?),
            login_throttle: LoginThrottle {
                max_failures: env::or("CC_AUTH__LOGIN_MAX_FAILURES", 5)?,
                window_secs: env::or("CC_AUTH__LOGIN_WINDOW_SECS", 900)?,
            },
            bootstrap_admin,
            migrate_on_start: env::or("CC_MIGRATE_ON_START", false)?,
            relay_enabled: env::or("CC_RELAY__ENABLED", true)?,
            relay_batch_size: env::or("CC_RELAY__BATCH_SIZE", 500)?,
        })
    }
}
