//! The one set of settings the end-to-end tests run the services with, on a test database and
//! a pair of test topics.

use std::{sync::LazyLock, time::Duration};

use kafka::Topics;
use platform::signing_keys::{Jwks, SigningKeys};
use secrecy::SecretString;
use testkit::{TestDatabase, topics::kafka_settings};
use uuid::Uuid;

pub const ADMIN_EMAIL: &str = "admin@cloudcommerce.test";
pub const ADMIN_PASSWORD: &str = "admin-password-123";
pub const PASSWORD: &str = "a-long-enough-password";
/// One signing key for the whole test process: command-api signs with it, query-api verifies
/// with its public half.
pub static SIGNING_KEY_PEM: LazyLock<String> =
    LazyLock::new(|| SigningKeys::generate_pem().expect("a signing key"));

/// The public JWK set of [`SIGNING_KEY_PEM`].
pub fn jwks() -> Jwks {
    SigningKeys::from_pem_bundle(&SecretString::from(SIGNING_KEY_PEM.clone()))
        .expect("the test key parses")
        .jwks()
}

pub fn command_api(db: &TestDatabase, topics: &Topics) -> command_api::settings::Settings {
    command_api::settings::Settings {
        host: "127.0.0.1".to_owned(),
        port: 0,
        admin_host: "127.0.0.1".to_owned(),
        admin_port: 0,
        cors_origins: Vec::new(),
        body_limit_bytes: 64 * 1024,
        shutdown_timeout: Duration::from_secs(5),
        workers: Some(2),
        database: db.settings("command-api-e2e"),
        kafka: kafka_settings(topics.clone()),
        signing_keys: SecretString::from(SIGNING_KEY_PEM.clone()),
        master_key: SecretString::from(testkit::TEST_MASTER_KEY),
        token_ttl: Duration::from_secs(900),
        session_lifetimes: store::sessions::Lifetimes {
            session: Duration::from_secs(30 * 86_400),
            refresh_token: Duration::from_secs(14 * 86_400),
        },
        fingerprint_key: None,
        trusted_proxy_hops: 0,
        read_api_url: String::new(),
        auth_limits: command_api::settings::AuthLimits::default(),
        // Tests share one process and one hash queue (process.rs floods the real binary).
        hash_queue: command_api::settings::HashQueue::unbounded(),
        bootstrap_admin: Some((
            ADMIN_EMAIL.to_owned(),
            SecretString::from(ADMIN_PASSWORD.to_owned()),
        )),
        migrate_on_start: false,
        relay_enabled: true,
        relay_batch_size: 100,
    }
}

/// The notifier, mailing through the SMTP server at `smtp` (`host:port`).
pub fn notifier(db: &TestDatabase, topics: &Topics, smtp: &str) -> notifier::settings::Settings {
    notifier::settings::Settings {
        host: "127.0.0.1".to_owned(),
        port: 0,
        database: db.settings("notifier-e2e"),
        kafka: kafka_settings(topics.clone()),
        smtp: notifier::settings::SmtpSettings {
            url: SecretString::from(format!("smtp://{smtp}")),
            password: None,
            timeout: Duration::from_secs(5),
        },
        mail: notifier::settings::MailSettings {
            from: "CloudCommerce <no-reply@cloudcommerce.test>".to_owned(),
            link_base_url: "https://shop.example".to_owned(),
        },
        consumer: notifier::settings::ConsumerSettings {
            group_id: format!("e2e-notifier-{}", Uuid::new_v4().simple()),
            dead_letter_topic: format!("{}.dead-letters", topics.user),
            fetch_max_wait: Duration::from_millis(20),
            retry_initial: Duration::from_millis(200),
            retry_max: Duration::from_secs(2),
            standby_poll: Duration::from_millis(300),
        },
        shutdown_timeout: Duration::from_secs(20),
        create_topics: true,
        keyring: testkit::test_keyring(),
    }
}

pub fn projector(db: &TestDatabase, topics: &Topics) -> projector::settings::Settings {
    projector::settings::Settings {
        host: "127.0.0.1".to_owned(),
        port: 0,
        database: db.settings("projector-e2e"),
        kafka: kafka_settings(topics.clone()),
        consumer: projector::settings::ConsumerSettings {
            group_id: format!("e2e-{}", Uuid::new_v4().simple()),
            batch_size: 100,
            batch_max_wait: Duration::from_millis(20),
            lag_sample_interval: Duration::from_millis(500),
            resume_rewind: 1000,
            fetch_max_wait: Duration::from_millis(20),
        },
        active_check_interval: Duration::from_millis(500),
        shutdown_timeout: Duration::from_secs(20),
        rebuild_grace: Duration::from_secs(300),
        create_topics: true,
        keyring: testkit::test_keyring(),
    }
}

pub fn query_api(db: &TestDatabase) -> query_api::settings::Settings {
    query_api::settings::Settings {
        host: "127.0.0.1".to_owned(),
        port: 0,
        admin_host: "127.0.0.1".to_owned(),
        admin_port: 0,
        cors_origins: Vec::new(),
        shutdown_timeout: Duration::from_secs(1),
        workers: Some(2),
        database: db.settings("query-api-e2e"),
        jwks: jwks(),
        // Generous for a busy machine; a running projector applies a write within milliseconds.
        consistency_wait: Duration::from_secs(30),
        max_consistency_waiters: 1_000,
        schema_cache: Duration::from_millis(200),
        listing_cache: Duration::ZERO,
        max_projection_lag: Duration::from_secs(30),
        unready_when_stale: false,
    }
}

/// The environment that runs binary `name` with the same settings as [`command_api`],
/// [`projector`] and [`query_api`], on `port`.
pub fn environment(db: &TestDatabase, topics: &Topics, port: u16) -> Vec<(&'static str, String)> {
    vec![
        ("CC_HTTP__HOST", "127.0.0.1".to_owned()),
        ("CC_HTTP__PORT", port.to_string()),
        ("CC_HTTP__WORKERS", "2".to_owned()),
        ("CC_DATABASE__URL", db.url.clone()),
        ("CC_DATABASE__POOL_SIZE", "4".to_owned()),
        ("CC_KAFKA__BOOTSTRAP_SERVERS", testkit::kafka_bootstrap()),
        ("CC_KAFKA__USER_TOPIC", topics.user.clone()),
        ("CC_KAFKA__PRODUCT_TOPIC", topics.product.clone()),
        ("CC_KAFKA__PARTITIONS", "3".to_owned()),
        ("CC_HTTP__ADMIN_PORT", "0".to_owned()),
        ("CC_AUTH__SIGNING_KEYS", SIGNING_KEY_PEM.clone()),
        (
            "CC_PERSONAL_DATA__MASTER_KEY",
            testkit::TEST_MASTER_KEY.to_owned(),
        ),
        (
            "CC_AUTH__JWKS",
            serde_json::to_string(&jwks()).expect("JWKS as JSON"),
        ),
        ("CC_BOOTSTRAP_ADMIN__EMAIL", ADMIN_EMAIL.to_owned()),
        ("CC_BOOTSTRAP_ADMIN__PASSWORD", ADMIN_PASSWORD.to_owned()),
        ("CC_PROJECTOR__LAG_SAMPLE_INTERVAL_MS", "500".to_owned()),
        ("CC_QUERY__CONSISTENCY_WAIT_MS", "30000".to_owned()),
        ("RUST_LOG", "warn".to_owned()),
    ]
}
