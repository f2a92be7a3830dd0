//! One benchmark run's resources: a database and a pair of topics per scenario group, all named
//! after the run so nothing is shared with another run or with the tests, and the environment
//! the services are started with. Databases are dropped at the end; topics live in the
//! in-memory broker and go with it.

use std::sync::LazyLock;

use anyhow::Context;
use platform::signing_keys::SigningKeys;
use read_model::ReadSchema;
use secrecy::SecretString;
use tokio_postgres::{Client, NoTls};
use uuid::Uuid;

/// The run's token signing key (PKCS#8 PEM) for command-api, and its public JWK set for
/// query-api.
static SIGNING_KEY: LazyLock<(String, String)> = LazyLock::new(|| {
    let pem = SigningKeys::generate_pem().expect("a signing key");
    let keys =
        SigningKeys::from_pem_bundle(&SecretString::from(pem.clone())).expect("the key parses");
    let jwks = serde_json::to_string(&keys.jwks()).expect("JWKS as JSON");
    (pem, jwks)
});

/// The admin command-api bootstraps, which the write scenarios sign in as.
pub const ADMIN: (&str, &str) = ("bench-admin@cloudcommerce.dev", "bench-admin-password");
const PARTITIONS: i32 = 6;

#[derive(Debug)]
pub struct BenchRun {
    admin_url: String,
    bootstrap: String,
    id: String,
    databases: Vec<String>,
}

async fn connect(url: &str) -> anyhow::Result<Client> {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await.with_context(|| {
        format!("connecting to {url} (is the stack running? `make bench` starts it)")
    })?;
    tokio::spawn(connection);
    Ok(client)
}

impl BenchRun {
    pub fn from_env() -> Self {
        Self {
            admin_url: std::env::var("CC_BENCH_DATABASE_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:54329/postgres".to_owned()),
            bootstrap: std::env::var("CC_BENCH_KAFKA_BOOTSTRAP")
                .unwrap_or_else(|_| "127.0.0.1:19192".to_owned()),
            id: Uuid::new_v4().simple().to_string()[..8].to_owned(),
            databases: Vec::new(),
        }
    }

    /// A fresh database `cc_bench_<run>_<purpose>` with the write-side schema, and topics of
    /// its own; returns its URL and the Kafka settings naming those topics.
    pub async fn write_database(
        &mut self,
        purpose: &str,
    ) -> anyhow::Result<(String, kafka::KafkaSettings)> {
        let name = format!("cc_bench_{}_{purpose}", self.id);
        let admin = connect(&self.admin_url).await?;
        // Two statements: neither may run inside the implicit transaction of a batch.
        admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await?;
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await?;
        self.databases.push(name.clone());
        let url = match self.admin_url.rsplit_once('/') {
            Some((base, _)) => format!("{base}/{name}"),
            None => anyhow::bail!("CC_BENCH_DATABASE_URL has no database name"),
        };
        let mut client = connect(&url).await?;
        store::migrations::run(&mut client).await?;
        let topics = kafka::Topics {
            user: format!("bench.{}.user-events.{purpose}", self.id),
            product: format!("bench.{}.product-events.{purpose}", self.id),
        };
        let mut kafka = kafka::KafkaSettings::local(&self.bootstrap, topics);
        kafka.partitions = PARTITIONS;
        Ok((url, kafka))
    }

    /// Creates the read side's tables (as `projector migrate` does) and returns a connection
    /// and the active read schema.
    pub async fn read_schema(&self, url: &str) -> anyhow::Result<(Client, ReadSchema)> {
        let mut client = connect(url).await?;
        let schema = projector::schema::prepare(&mut client).await?;
        Ok((client, schema))
    }

    /// The environment of every service started against `url` and `kafka`'s topics.
    pub fn env(&self, url: &str, kafka: &kafka::KafkaSettings) -> Vec<(String, String)> {
        [
            ("CC_DATABASE__URL", url),
            ("CC_DATABASE__POOL_SIZE", "32"),
            ("CC_KAFKA__BOOTSTRAP_SERVERS", &self.bootstrap),
            ("CC_KAFKA__USER_TOPIC", &kafka.topics.user),
            ("CC_KAFKA__PRODUCT_TOPIC", &kafka.topics.product),
            ("CC_KAFKA__PARTITIONS", &kafka.partitions.to_string()),
            ("CC_AUTH__SIGNING_KEYS", SIGNING_KEY.0.as_str()),
            ("CC_AUTH__JWKS", SIGNING_KEY.1.as_str()),
            ("CC_PERSONAL_DATA__MASTER_KEY", testkit::TEST_MASTER_KEY),
            // The sign-up scenario measures hashing from one loopback client: the per-network
            // and overall budgets and the hash queue's shedding (tested in command-api's abuse
            // tests) are lifted so they do not cut the measurement short.
            ("CC_AUTH__SIGN_UPS_PER_CLIENT", "100000000"),
            ("CC_AUTH__CLIENT_MAX_ATTEMPTS", "100000000"),
            ("CC_AUTH__PASSWORD_CHECKS_PER_SEC", "1000000"),
            ("CC_AUTH__HASH_QUEUE_PER_CORE", "100000"),
            ("CC_AUTH__HASH_WAIT_MS", "60000"),
            ("CC_BOOTSTRAP_ADMIN__EMAIL", ADMIN.0),
            ("CC_BOOTSTRAP_ADMIN__PASSWORD", ADMIN.1),
            // One group per topic pair: scenarios never share partition leases or an offsets group.
            (
                "CC_PROJECTOR__GROUP_ID",
                &format!("{}.projector", kafka.topics.product),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    /// `SHOW server_version`, for the report.
    pub async fn server_version(&self) -> String {
        match connect(&self.admin_url).await {
            Ok(client) => client
                .query_one("SHOW server_version", &[])
                .await
                .map(|row| row.get(0))
                .unwrap_or_else(|_| "unknown".to_owned()),
            Err(_) => "unknown".to_owned(),
        }
    }

    /// Drops every database this run made; the catalog alone is gigabytes.
    pub async fn drop_databases(&mut self) {
        if let Ok(client) = connect(&self.admin_url).await {
            for name in self.databases.drain(..) {
                let _ = client
                    .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await;
            }
        }
    }
}
