//! command-api settings, read once from the environment at start-up.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `CC_HTTP__HOST` / `CC_HTTP__PORT` | `0.0.0.0` / `8080` | listen address (port 0 picks a free one) |
//! | `CC_HTTP__CORS_ALLOWED_ORIGINS` | empty (no CORS) | comma-separated browser origins allowed to call the API cross-origin |
//! | `CC_HTTP__ADMIN_HOST` / `CC_HTTP__ADMIN_PORT` | `CC_HTTP__HOST` / `9090` | admin listener: `/metrics`, `/health/live`, `/health/ready`, for monitoring only |
//! | `CC_HTTP__BODY_LIMIT_BYTES` | `65536` | larger request bodies get 413 |
//! | `CC_HTTP__SHUTDOWN_TIMEOUT_SECS` | `20` | how long in-flight requests may take after SIGTERM |
//! | `CC_HTTP__WORKERS` | number of cores | actix worker threads |
//! | `CC_DATABASE__URL` | required | write-side PostgreSQL (secret) |
//! | `CC_DATABASE__PASSWORD` | unset (the URL's password) | the database password, given as it is: when set and non-empty it wins over any password in `CC_DATABASE__URL` and needs no URL escaping (cloud-generated passwords) (secret) |
//! | `CC_DATABASE__POOL_SIZE`, `CC_DATABASE__STATEMENT_TIMEOUT_MS`, `CC_DATABASE__ACQUIRE_TIMEOUT_MS` | 16, 5000, 2000 | pool |
//! | `CC_DATABASE__SSLMODE`, `CC_DATABASE__SSLROOTCERT` | the URL's `sslmode` (else `prefer`) and `sslrootcert` (else the system store) | TLS to PostgreSQL: `disable`, `prefer`, `require`, `verify-ca`, `verify-full`, and the CA file to verify against (`platform/src/db_tls.rs`) |
//! | `CC_KAFKA__*` | see `kafka::settings` | broker and topics |
//! | `CC_AUTH__SIGNING_KEYS` | required | Ed25519 private keys, PKCS#8 PEM blocks, the signing one first (`command-api keygen` makes one; `platform/src/signing_keys.rs` on rotation) (secret) |
//! | `CC_AUTH__FINGERPRINT_KEY` | derived from the signing key (then a key rotation voids 24 h of idempotency records: set it in production) | key of the idempotency HMAC, the same on every replica (secret) |
//! | `CC_AUTH__TOKEN_TTL_SECS` | `900` | access token lifetime |
//! | `CC_AUTH__SESSION_TTL_SECS` | `2592000` (30 days) | a session's whole life from sign-in, however often it is refreshed |
//! | `CC_AUTH__REFRESH_TOKEN_TTL_SECS` | `1209600` (14 days) | how long a refresh token stays usable if unused (each refresh issues a new one) |
//! | `CC_HTTP__READ_API_URL` | empty | where query-api answers, e.g. `https://api.shop.example`; a created resource's `Location` is this plus its path (empty: the path alone, for one front door that routes reads to query-api) |
//! | `CC_HTTP__TRUSTED_PROXY_HOPS` | `0` | proxies in front of the service whose `Forwarded` / `X-Forwarded-For` entry names the client (`auth/client_address.rs`) |
//! | `CC_AUTH__LOGIN_WINDOW_SECS` | `900` | the window of every per-client and per-account budget below |
//! | `CC_AUTH__LOGIN_MAX_FAILURES` | `5` | sign-in attempts per account and client network before 429 (a success starts over) |
//! | `CC_AUTH__ACCOUNT_MAX_ATTEMPTS` | `50` | sign-in attempts per account from networks it has not signed in from lately |
//! | `CC_AUTH__CLIENT_MAX_ATTEMPTS` | `300` | sign-in and re-authentication attempts per client network, all accounts |
//! | `CC_AUTH__SIGN_UPS_PER_CLIENT` | `100` | sign-ups per client network |
//! | `CC_AUTH__PASSWORD_CHECKS_PER_SEC` | `200` | password hashes started per second by all replicas together, beyond which 503 |
//! | `CC_AUTH__TRUSTED_CLIENT_DAYS` | `30` | how long a network that signed in to an account skips that account's budget |
//! | `CC_AUTH__HASH_QUEUE_PER_CORE` / `CC_AUTH__HASH_WAIT_MS` | `32` / `500` | hashes that may wait per core, and the longest wait, before 503 (`auth/password.rs`) |
//! | `CC_PERSONAL_DATA__MASTER_KEY` | required | 32 random bytes, base64 (`openssl rand -base64 32`): wraps the users' data keys, which seal personal fields in events (`personal/`); the same on every service that holds it (secret) |
//! | `CC_BOOTSTRAP_ADMIN__EMAIL` / `CC_BOOTSTRAP_ADMIN__PASSWORD` | unset | admin created at start-up when absent (password is secret) |
//! | `CC_MIGRATE_ON_START` | `false` | apply migrations before serving |
//! | `CC_MIGRATE__WRITER_PASSWORD`, `CC_MIGRATE__PROJECTOR_PASSWORD`, `CC_MIGRATE__READER_PASSWORD`, `CC_MIGRATE__NOTIFIER_PASSWORD` | unset | `command-api migrate` only, all four or none: create the login roles `cc_writer`, `cc_projector`, `cc_reader`, `cc_notifier` where missing and set these passwords on every run, before migrating (a managed database without an operator; the connecting role needs `CREATEROLE`; `service_roles.rs`) (secrets) |
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
    pub admin_host: String,
    pub admin_port: u16,
    pub cors_origins: Vec<String>,
    pub body_limit_bytes: usize,
    pub shutdown_timeout: Duration,
    pub workers: Option<usize>,
    pub database: DbSettings,
    pub kafka: kafka::KafkaSettings,
    /// The PEM bundle; parsed when the application is built.
    pub signing_keys: SecretString,
    pub fingerprint_key: Option<SecretString>,
    /// Base64; parsed when the application is built.
    pub master_key: SecretString,
    pub token_ttl: Duration,
    pub session_lifetimes: store::sessions::Lifetimes,
    pub trusted_proxy_hops: usize,
    /// Origin of query-api for `Location` (no trailing `/`); empty for a path alone.
    pub read_api_url: String,
    pub auth_limits: AuthLimits,
    pub hash_queue: HashQueue,
    pub bootstrap_admin: Option<(String, SecretString)>,
    pub migrate_on_start: bool,
    pub relay_enabled: bool,
    pub relay_batch_size: i64,
}

/// Password attempts allowed per budget (`auth/throttle.rs`).
#[derive(Debug, Clone, Copy)]
pub struct AuthLimits {
    pub window_secs: i32,
    pub per_account_client: i32,
    pub per_account: i32,
    pub per_client: i32,
    pub sign_ups_per_client: i32,
    pub global_per_second: i32,
    pub trust_days: i32,
}

impl Default for AuthLimits {
    fn default() -> Self {
        Self {
            window_secs: 900,
            per_account_client: 5,
            per_account: 50,
            per_client: 300,
            sign_ups_per_client: 100,
            global_per_second: 200,
            trust_days: 30,
        }
    }
}

impl AuthLimits {
    fn from_env() -> anyhow::Result<Self> {
        let d = Self::default();
        Ok(Self {
            window_secs: env::or("CC_AUTH__LOGIN_WINDOW_SECS", d.window_secs)?,
            per_account_client: env::or("CC_AUTH__LOGIN_MAX_FAILURES", d.per_account_client)?,
            per_account: env::or("CC_AUTH__ACCOUNT_MAX_ATTEMPTS", d.per_account)?,
            per_client: env::or("CC_AUTH__CLIENT_MAX_ATTEMPTS", d.per_client)?,
            sign_ups_per_client: env::or("CC_AUTH__SIGN_UPS_PER_CLIENT", d.sign_ups_per_client)?,
            global_per_second: env::or("CC_AUTH__PASSWORD_CHECKS_PER_SEC", d.global_per_second)?,
            trust_days: env::or("CC_AUTH__TRUSTED_CLIENT_DAYS", d.trust_days)?,
        })
    }
}

/// How much password hashing may wait for a core before it is shed (`auth/password.rs`).
#[derive(Debug, Clone, Copy)]
pub struct HashQueue {
    pub waiting_per_core: usize,
    pub max_wait: Duration,
}

impl Default for HashQueue {
    fn default() -> Self {
        Self {
            waiting_per_core: 32,
            max_wait: Duration::from_millis(500),
        }
    }
}

impl HashQueue {
    /// A queue that never sheds: for test processes, where many servers share one queue.
    pub fn unbounded() -> Self {
        Self {
            waiting_per_core: usize::MAX / 1024,
            max_wait: Duration::from_secs(3600),
        }
    }

    fn from_env() -> anyhow::Result<Self> {
        let d = Self::default();
        let max_wait_ms = u64::try_from(d.max_wait.as_millis()).unwrap_or(u64::MAX);
        Ok(Self {
            waiting_per_core: env::or("CC_AUTH__HASH_QUEUE_PER_CORE", d.waiting_per_core)?,
            max_wait: Duration::from_millis(env::or("CC_AUTH__HASH_WAIT_MS", max_wait_ms)?),
        })
    }
}

/// `CC_HTTP__READ_API_URL` without its trailing `/`, refused at start-up unless it is empty or
/// an http(s) URL: a typo would otherwise show up only as `Location` headers that lead nowhere.
fn read_api_url(raw: &str) -> anyhow::Result<String> {
    let url = raw.trim().trim_end_matches('/');
    let scheme_ok = url.starts_with("http://") || url.starts_with("https://");
    anyhow::ensure!(
        url.is_empty() || (scheme_ok && !url.contains(char::is_whitespace)),
        "CC_HTTP__READ_API_URL must be empty or an http(s) URL, got {raw:?}"
    );
    Ok(url.to_owned())
}

impl Settings {
    /// The keyring of the master key in these settings.
    pub fn keyring(&self) -> anyhow::Result<personal::Keyring> {
        let master = personal::MasterKey::from_base64(self.master_key.expose_secret())
            .map_err(|e| anyhow::anyhow!("{}: {e}", personal::MASTER_KEY_ENV))?;
        Ok(personal::Keyring::new(master))
    }

    pub fn from_env() -> anyhow::Result<Self> {
        let signing_keys = env::secret("CC_AUTH__SIGNING_KEYS")?;
        // Refused at start-up, not at the first sign-in.
        platform::signing_keys::SigningKeys::from_pem_bundle(&signing_keys)?;
        let master_key = env::secret(personal::MASTER_KEY_ENV)?;
        personal::MasterKey::from_base64(master_key.expose_secret())
            .map_err(|e| anyhow::anyhow!("{}: {e}", personal::MASTER_KEY_ENV))?;
        let bootstrap_admin = match std::env::var("CC_BOOTSTRAP_ADMIN__EMAIL") {
            Ok(email) if !email.is_empty() => {
                Some((email, env::secret("CC_BOOTSTRAP_ADMIN__PASSWORD")?))
            }
            _ => None,
        };
        let host = env::string_or("CC_HTTP__HOST", "0.0.0.0");
        Ok(Self {
            admin_host: env::string_or("CC_HTTP__ADMIN_HOST", &host),
            admin_port: env::or("CC_HTTP__ADMIN_PORT", 9090)?,
            cors_origins: platform::server::cors_origins_from_env(),
            host,
            port: env::or("CC_HTTP__PORT", 8080)?,
            body_limit_bytes: env::or("CC_HTTP__BODY_LIMIT_BYTES", 64 * 1024)?,
            shutdown_timeout: Duration::from_secs(env::or("CC_HTTP__SHUTDOWN_TIMEOUT_SECS", 20)?),
            workers: std::env::var("CC_HTTP__WORKERS")
                .ok()
                .and_then(|w| w.parse().ok()),
            database: DbSettings::from_env("command-api")?,
            kafka: kafka::KafkaSettings::from_env()?,
            signing_keys,
            fingerprint_key: std::env::var("CC_AUTH__FINGERPRINT_KEY")
                .ok()
                .filter(|key| !key.is_empty())
                .map(SecretString::from),
            master_key,
            token_ttl: Duration::from_secs(env::or("CC_AUTH__TOKEN_TTL_SECS", 900)?),
            session_lifetimes: store::sessions::Lifetimes {
                session: Duration::from_secs(env::or("CC_AUTH__SESSION_TTL_SECS", 30 * 86_400)?),
                refresh_token: Duration::from_secs(env::or(
                    "CC_AUTH__REFRESH_TOKEN_TTL_SECS",
                    14 * 86_400,
                )?),
            },
            trusted_proxy_hops: env::or("CC_HTTP__TRUSTED_PROXY_HOPS", 0)?,
            read_api_url: read_api_url(&env::string_or("CC_HTTP__READ_API_URL", ""))?,
            auth_limits: AuthLimits::from_env()?,
            hash_queue: HashQueue::from_env()?,
            bootstrap_admin,
            migrate_on_start: env::or("CC_MIGRATE_ON_START", false)?,
            relay_enabled: env::or("CC_RELAY__ENABLED", true)?,
            relay_batch_size: env::or("CC_RELAY__BATCH_SIZE", 500)?,
        })
    }
}
