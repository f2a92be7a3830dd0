//! query-api settings from the environment.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `CC_HTTP__HOST` / `CC_HTTP__PORT` | `0.0.0.0` / `8080` | listen address |
//! | `CC_HTTP__SHUTDOWN_TIMEOUT_SECS` | `10` | drain time after SIGTERM |
//! | `CC_HTTP__WORKERS` | number of cores | actix worker threads |
//! | `CC_DATABASE__URL` | required | read models, through a read-only role (secret) |
//! | `CC_DATABASE__PASSWORD` | unset (the URL's password) | the database password, given as it is: when set and non-empty it wins over any password in `CC_DATABASE__URL` and needs no URL escaping (cloud-generated passwords) (secret) |
//! | `CC_DATABASE__POOL_SIZE`, `CC_DATABASE__STATEMENT_TIMEOUT_MS` | 16, 5000 | pool and per-statement bound |
//! | `CC_DATABASE__SSLMODE`, `CC_DATABASE__SSLROOTCERT` | the URL's `sslmode` (else `prefer`) and `sslrootcert` (else the system store) | TLS to PostgreSQL: `disable`, `prefer`, `require`, `verify-ca`, `verify-full`, and the CA file to verify against (`platform/src/db_tls.rs`) |
//! | `CC_DATABASE__ACQUIRE_TIMEOUT_MS` | 2000 | wait for a pooled connection before answering 503 |
//! | `CC_AUTH__JWKS` | required | the public keys that verify access tokens: command-api's `/.well-known/jwks.json` (or `command-api jwks`); not a secret, and no key here can sign |
//! | `CC_HTTP__CORS_ALLOWED_ORIGINS` | empty (no CORS) | comma-separated browser origins allowed to call the API cross-origin |
//! | `CC_HTTP__ADMIN_HOST` / `CC_HTTP__ADMIN_PORT` | `CC_HTTP__HOST` / `9090` | admin listener: `/metrics`, `/health/live`, `/health/ready`, for monitoring only |
//! | `CC_QUERY__CONSISTENCY_WAIT_MS` | 2000 | how long a `Consistency-Token` request waits for the projection |
//! | `CC_QUERY__MAX_CONSISTENCY_WAITERS` | 1000 | requests that may wait for the projection at once; more get 503 |
//! | `CC_QUERY__SCHEMA_CACHE_MS` | 1000 | how long the active read schema name is cached (at most 1000) |
//! | `CC_QUERY__MAX_PROJECTION_LAG_SECS` | 30 | readiness reports the projection as stale when it is further behind its sources than this, or no projector has sampled it for this long |
//! | `CC_QUERY__UNREADY_WHEN_STALE` | `false` | `true`: a stale projection also makes readiness answer 503 (takes every replica out of the Service at once; only where another site can serve) |
//! | `CC_QUERY__LISTING_CACHE_MS` | 500 | how long a listing page is reused for identical anonymous requests (0 turns it off; at most 5000, the `max-age` every shared cache already may use) |
//! | `CC_LOG_FORMAT` | text | `json` for JSON lines (fields in `platform/src/telemetry.rs`); `RUST_LOG` filters |
//! | `CC_OTLP__ENDPOINT` / `CC_OTLP__SERVICE_NAME` | unset / executable name | with the `otlp` cargo feature only: export spans over OTLP/HTTP to `<endpoint>/v1/traces` (see `platform/src/otlp.rs`) |
//!
//! query-api never talks to Kafka; `CC_KAFKA__*` variables are ignored.

use std::time::Duration;

use anyhow::ensure;
use platform::{db::DbSettings, env, signing_keys::Jwks};

/// A rebuild flips the active schema; readers must follow within this bound.
pub const MAX_SCHEMA_CACHE: Duration = Duration::from_secs(1);
/// Listings say `max-age=5`; an in-process copy must not be staler than that promise.
pub const MAX_LISTING_CACHE: Duration = Duration::from_secs(5);

#[derive(Debug, Clone)]
pub struct Settings {
    pub host: String,
    pub port: u16,
    pub admin_host: String,
    pub admin_port: u16,
    pub cors_origins: Vec<String>,
    pub shutdown_timeout: Duration,
    pub workers: Option<usize>,
    pub database: DbSettings,
    /// Verifies bearer tokens issued by command-api.
    pub jwks: Jwks,
    /// Upper bound of a read-your-writes wait before answering 503.
    pub consistency_wait: Duration,
    pub max_consistency_waiters: usize,
    /// How far behind its sources the projection may be before readiness calls it stale.
    pub max_projection_lag: Duration,
    /// Whether a stale projection fails readiness (503) rather than only reporting it.
    pub unready_when_stale: bool,
    /// How long the name of the active read schema is reused before it is read again.
    pub schema_cache: Duration,
    /// How long a listing page is reused (`listing::cache`); zero turns it off.
    pub listing_cache: Duration,
}

impl Settings {
    pub fn from_env() -> anyhow::Result<Self> {
        let jwks = Jwks::parse(&env::string_or("CC_AUTH__JWKS", ""))
            .map_err(|e| e.context("CC_AUTH__JWKS"))?;
        let schema_cache = Duration::from_millis(env::or("CC_QUERY__SCHEMA_CACHE_MS", 1_000)?);
        ensure!(
            schema_cache <= MAX_SCHEMA_CACHE,
            "CC_QUERY__SCHEMA_CACHE_MS must be at most 1000: a schema flip must be followed within a second"
        );
        let listing_cache = Duration::from_millis(env::or("CC_QUERY__LISTING_CACHE_MS", 500)?);
        ensure!(
            listing_cache <= MAX_LISTING_CACHE,
            "CC_QUERY__LISTING_CACHE_MS must be at most 5000: listings promise max-age=5"
        );
        let host = env::string_or("CC_HTTP__HOST", "0.0.0.0");
        Ok(Self {
            admin_host: env::string_or("CC_HTTP__ADMIN_HOST", &host),
            admin_port: env::or("CC_HTTP__ADMIN_PORT", 9090)?,
            cors_origins: platform::server::cors_origins_from_env(),
            host,
            port: env::or("CC_HTTP__PORT", 8080)?,
            shutdown_timeout: Duration::from_secs(env::or("CC_HTTP__SHUTDOWN_TIMEOUT_SECS", 10)?),
            workers: std::env::var("CC_HTTP__WORKERS")
                .ok()
                .and_then(|w| w.parse().ok()),
            database: DbSettings::from_env("query-api")?,
            jwks,
            consistency_wait: Duration::from_millis(env::or(
                "CC_QUERY__CONSISTENCY_WAIT_MS",
                2_000,
            )?),
            max_consistency_waiters: env::or("CC_QUERY__MAX_CONSISTENCY_WAITERS", 1_000)?,
            max_projection_lag: Duration::from_secs(env::or(
                "CC_QUERY__MAX_PROJECTION_LAG_SECS",
                30,
            )?),
            unready_when_stale: env::or("CC_QUERY__UNREADY_WHEN_STALE", false)?,
            schema_cache,
            listing_cache,
        })
    }
}
