//! projector settings, read once from the environment at start-up.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `CC_HTTP__HOST` / `CC_HTTP__PORT` | `0.0.0.0` / `9090` | admin listener: `/health/live`, `/health/ready`, `/metrics` (port 0 picks a free one) |
//! | `CC_DATABASE__URL` | required | read-side PostgreSQL, as a role that owns the read schemas (secret) |
//! | `CC_DATABASE__PASSWORD` | unset (the URL's password) | the database password, given as it is: when set and non-empty it wins over any password in `CC_DATABASE__URL` and needs no URL escaping (cloud-generated passwords) (secret) |
//! | `CC_DATABASE__POOL_SIZE`, `CC_DATABASE__STATEMENT_TIMEOUT_MS`, `CC_DATABASE__ACQUIRE_TIMEOUT_MS` | 16, 5000, 2000 | pool (batches run one at a time: 4 is plenty) |
//! | `CC_DATABASE__SSLMODE`, `CC_DATABASE__SSLROOTCERT` | the URL's `sslmode` (else `prefer`) and `sslrootcert` (else the system store) | TLS to PostgreSQL: `disable`, `prefer`, `require`, `verify-ca`, `verify-full`, and the CA file to verify against (`platform/src/db_tls.rs`) |
//! | `CC_KAFKA__*` | see `kafka::settings` | broker, topics (`CC_KAFKA__USER_TOPIC`, `CC_KAFKA__PRODUCT_TOPIC`) and credentials |
//! | `CC_PERSONAL_DATA__MASTER_KEY` | required | the master key command-api seals personal fields under (base64 of 32 bytes): opens user events for the `users` table (secret) |
//! | `CC_PROJECTOR__GROUP_ID` | `cloudcommerce-projector` | names the replicas' partition leases (in PostgreSQL) and the consumer group their offsets are copied to for lag-based autoscaling (the group is never joined); `rebuild` uses `<group>-rebuild-<generation>`, `verify` `<group>-rebuild-verify-<generation>` (one ACL prefix covers both) |
//! | `CC_PROJECTOR__BATCH_SIZE` | `500` | most events applied in one transaction |
//! | `CC_PROJECTOR__BATCH_MAX_WAIT_MS` | `50` | longest a batch waits for more events after its first one; it is applied sooner once no fetched event is left (2 ms) |
//! | `CC_PROJECTOR__FETCH_MAX_WAIT_MS` | `20` | longest the broker holds a fetch that has no new data (librdkafka `fetch.wait.max.ms`, default 500 there): the Tansu broker answers only when it runs out, which cost every write about 400 ms of freshness; Kafka answers as soon as data arrives, so a low value there only means more idle fetches |
//! | `CC_PROJECTOR__RESUME_REWIND` | `1000` | an assigned partition is fetched from this many messages before its checkpoint, the rest skipped (see `consumer::resume`) |
//! | `CC_PROJECTOR__LAG_SAMPLE_INTERVAL_MS` | `2000` | how often every replica samples how far the projection is behind Kafka and the event store (`freshness`) |
//! | `CC_PROJECTOR__ACTIVE_CHECK_INTERVAL_MS` | `2000` | how often `run` checks `read_meta.active` to follow a rebuild's flip |
//! | `CC_PROJECTOR__SHUTDOWN_TIMEOUT_SECS` | `25` | after SIGTERM, longest wait for the batch to commit and the group to be left |
//! | `CC_PROJECTOR__REBUILD_GRACE_SECS` | `300` | how long a retired read schema is kept after a flip, for queries still running on it |
//! | `CC_PROJECTOR__CREATE_TOPICS` | `true` | create missing topics at start-up (needs the Create ACL; off in production) |
//! | `CC_LOG_FORMAT` | text | `json` for JSON lines (fields in `platform/src/telemetry.rs`); `RUST_LOG` filters |
//! | `CC_OTLP__ENDPOINT` / `CC_OTLP__SERVICE_NAME` | unset / executable name | with the `otlp` cargo feature only: export spans over OTLP/HTTP to `<endpoint>/v1/traces` (see `platform/src/otlp.rs`) |

use std::{sync::Arc, time::Duration};

use kafka::KafkaSettings;
use personal::Keyring;
use platform::{db::DbSettings, env};

#[derive(Debug, Clone)]
pub struct Settings {
    pub host: String,
    pub port: u16,
    pub database: DbSettings,
    pub kafka: KafkaSettings,
    pub consumer: ConsumerSettings,
    pub active_check_interval: Duration,
    pub shutdown_timeout: Duration,
    pub rebuild_grace: Duration,
    pub create_topics: bool,
    /// Opens the personal fields of user events.
    pub keyring: Arc<Keyring>,
}

/// What the consumer loop needs, shared by `run`, `rebuild` and `verify`.
#[derive(Debug, Clone)]
pub struct ConsumerSettings {
    pub group_id: String,
    pub batch_size: usize,
    pub batch_max_wait: Duration,
    pub lag_sample_interval: Duration,
    /// Messages re-fetched (and skipped) before a checkpoint when a partition is assigned.
    pub resume_rewind: i64,
    /// librdkafka's `fetch.wait.max.ms`: how long the broker may hold a fetch with no new data.
    pub fetch_max_wait: Duration,
}

impl Settings {
    pub fn from_env() -> anyhow::Result<Self> {
        let millis = |name: &str, default: u64| -> anyhow::Result<Duration> {
            Ok(Duration::from_millis(env::or(name, default)?))
        };
        let batch_size: usize = env::or("CC_PROJECTOR__BATCH_SIZE", 500)?;
        anyhow::ensure!(
            batch_size > 0,
            "CC_PROJECTOR__BATCH_SIZE must be at least 1"
        );
        Ok(Self {
            host: env::string_or("CC_HTTP__HOST", "0.0.0.0"),
            port: env::or("CC_HTTP__PORT", 9090)?,
            database: DbSettings::from_env("projector")?,
            kafka: KafkaSettings::from_env()?,
            consumer: ConsumerSettings {
                group_id: env::string_or("CC_PROJECTOR__GROUP_ID", "cloudcommerce-projector"),
                batch_size,
                batch_max_wait: millis("CC_PROJECTOR__BATCH_MAX_WAIT_MS", 50)?,
                lag_sample_interval: millis("CC_PROJECTOR__LAG_SAMPLE_INTERVAL_MS", 2_000)?,
                resume_rewind: env::or("CC_PROJECTOR__RESUME_REWIND", 1000)?,
                fetch_max_wait: millis("CC_PROJECTOR__FETCH_MAX_WAIT_MS", 20)?,
            },
            active_check_interval: millis("CC_PROJECTOR__ACTIVE_CHECK_INTERVAL_MS", 2_000)?,
            shutdown_timeout: Duration::from_secs(env::or(
                "CC_PROJECTOR__SHUTDOWN_TIMEOUT_SECS",
                25,
            )?),
            rebuild_grace: Duration::from_secs(env::or("CC_PROJECTOR__REBUILD_GRACE_SECS", 300)?),
            create_topics: env::or("CC_PROJECTOR__CREATE_TOPICS", true)?,
            keyring: Arc::new(Keyring::from_env()?),
        })
    }
}
