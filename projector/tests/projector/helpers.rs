//! `spawn_projector()`: the projector in this process, on a fresh database and fresh topics;
//! `ProjectorProcess`: the real binary as a child (for kill -9, SIGTERM, its own `/metrics` and
//! its log lines); and the queries the tests assert with.

use std::{
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use kafka::{KafkaSettings, Topics};
use projector::{
    ReadSchema,
    settings::{ConsumerSettings, Settings},
    startup::Application,
};
use serde_json::Value;
use testkit::{TestDatabase, topics::kafka_settings, unique_topics};
use tokio::{sync::oneshot, task::JoinHandle};
use uuid::Uuid;

/// A projector running in this process.
#[derive(Debug)]
pub struct TestProjector {
    pub db: TestDatabase,
    pub topics: Topics,
    pub schema: ReadSchema,
    pub admin: String,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

pub fn test_settings(db: &TestDatabase, topics: &Topics) -> Settings {
    Settings {
        host: "127.0.0.1".to_owned(),
        port: 0,
        database: db.settings("projector-test"),
        kafka: kafka_settings(topics.clone()),
        consumer: ConsumerSettings {
            group_id: format!("projector-test-{}", Uuid::new_v4().simple()),
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

/// A fresh database and fresh topics, with the projector consuming them.
pub async fn spawn_projector() -> TestProjector {
    let db = TestDatabase::create().await.expect("test database");
    spawn_projector_on(db, unique_topics()).await
}

/// The projector on an existing database (e.g. the command API's) and topics.
pub async fn spawn_projector_on(db: TestDatabase, topics: Topics) -> TestProjector {
    platform::telemetry::init("warn");
    let app = Application::build(test_settings(&db, &topics))
        .await
        .expect("projector builds");
    let admin = format!("http://127.0.0.1:{}", app.port());
    let schema = app.schema().clone();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    TestProjector {
        db,
        topics,
        schema,
        admin,
        stop: Some(stop),
        task: Some(task),
    }
}

impl TestProjector {
    pub fn kafka(&self) -> KafkaSettings {
        kafka_settings(self.topics.clone())
    }

    /// Asks it to stop as SIGTERM would, and returns how its run ended.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.task.take() {
            Some(task) => task.await?,
            None => Ok(()),
        }
    }
}

/// Creates the test topics with `partitions` partitions.
pub async fn create_topics(topics: &Topics, partitions: i32) -> KafkaSettings {
    let mut settings = kafka_settings(topics.clone());
    settings.partitions = partitions;
    kafka::admin::ensure_topics(&settings).await.unwrap();
    settings
}

pub use testkit::eventually;

/// Every row of `schema.table` as JSON, in primary-key order, without the columns in `except`.
pub async fn snapshot(
    client: &tokio_postgres::Client,
    schema: &ReadSchema,
    table: &str,
    order: &str,
    except: &[&str],
) -> Vec<Value> {
    let except: Vec<String> = except.iter().map(|s| (*s).to_owned()).collect();
    let sql = format!("SELECT to_jsonb(t) - $1::text[] FROM {schema}.{table} t ORDER BY {order}");
    client
        .query(&sql, &[&except])
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect()
}

/// Every read table, for "nothing changed" comparisons (checkpoints without their wall-clock
/// `updated_at`; the search vector is derived from the compared columns).
pub async fn snapshot_all(client: &tokio_postgres::Client, schema: &ReadSchema) -> Vec<Vec<Value>> {
    vec![
        snapshot(client, schema, "products", "id", &["search"]).await,
        snapshot(client, schema, "categories", "slug", &[]).await,
        snapshot(client, schema, "users", "id", &[]).await,
        snapshot(client, schema, "audit_events", "stream_id, version", &[]).await,
        snapshot(client, schema, "stream_versions", "stream_id", &[]).await,
        snapshot(
            client,
            schema,
            "checkpoints",
            "topic, partition",
            &["updated_at"],
        )
        .await,
    ]
}

/// Sum of the stored next offsets: how many messages the projector has moved past.
pub async fn checkpointed(client: &tokio_postgres::Client, schema: &ReadSchema) -> i64 {
    let sql = format!("SELECT COALESCE(sum(next_offset), 0)::bigint FROM {schema}.checkpoints");
    match client.query_one(&sql, &[]).await {
        Ok(row) => row.get(0),
        Err(_) => 0, // the schema does not exist yet
    }
}

/// The real binary as a child process, with its own admin port.
#[derive(Debug)]
pub struct ProjectorProcess {
    pub child: Child,
    pub admin: String,
}

impl ProjectorProcess {
    /// Starts `projector run` against `db` and `topics` in consumer group `group`.
    pub fn start(db: &TestDatabase, topics: &Topics, group: &str, batch_size: usize) -> Self {
        Self::start_with(db, topics, group, batch_size, &[])
    }

    /// [`Self::start`] with extra environment variables.
    pub fn start_with(
        db: &TestDatabase,
        topics: &Topics,
        group: &str,
        batch_size: usize,
        env: &[(&str, &str)],
    ) -> Self {
        Self::spawn(db, topics, group, batch_size, env)
    }

    fn spawn(
        db: &TestDatabase,
        topics: &Topics,
        group: &str,
        batch_size: usize,
        env: &[(&str, &str)],
    ) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = std::env::var("CC_TEST_PROJECTOR_LOG").ok();
        let child = Command::new(env!("CARGO_BIN_EXE_projector"))
            .arg("run")
            .env("CC_DATABASE__URL", &db.url)
            .env("CC_DATABASE__POOL_SIZE", "4")
            .env("CC_PERSONAL_DATA__MASTER_KEY", testkit::TEST_MASTER_KEY)
            .env("CC_KAFKA__BOOTSTRAP_SERVERS", testkit::kafka_bootstrap())
            .env("CC_KAFKA__USER_TOPIC", &topics.user)
            .env("CC_KAFKA__PRODUCT_TOPIC", &topics.product)
            .env("CC_PROJECTOR__GROUP_ID", group)
            .env("CC_PROJECTOR__BATCH_SIZE", batch_size.to_string())
            .env("CC_PROJECTOR__LAG_SAMPLE_INTERVAL_MS", "500")
            .env("CC_HTTP__HOST", "127.0.0.1")
            .env("CC_HTTP__PORT", port.to_string())
            .env("RUST_LOG", log.as_deref().unwrap_or("warn"))
            .envs(env.iter().copied())
            // Quiet unless CC_TEST_PROJECTOR_LOG (a RUST_LOG filter) asks for the children's logs.
            .stdout(if log.is_some() {
                Stdio::inherit()
            } else {
                Stdio::null()
            })
            .stderr(Stdio::inherit())
            .spawn()
            .expect("projector binary starts");
        Self {
            child,
            admin: format!("http://127.0.0.1:{port}"),
        }
    }

    /// Its `/metrics` text, if it answers.
    pub async fn scrape(&self) -> Option<String> {
        reqwest::get(format!("{}/metrics", self.admin))
            .await
            .ok()?
            .text()
            .await
            .ok()
    }

    /// SIGKILL: no batch finishes, no group is left, nothing is flushed.
    pub fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGTERM, as Kubernetes sends before a pod is deleted.
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits up to `timeout` for the process to exit; its exit status, or `None` if it did not.
    pub async fn exited_within(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        None
    }

    /// The value of an unlabelled gauge on its `/metrics`, if it answers and has it.
    pub async fn gauge(&self, name: &str) -> Option<f64> {
        let body = self.scrape().await?;
        body.lines().find_map(|line| {
            line.strip_prefix(name)?
                .strip_prefix(' ')?
                .trim()
                .parse()
                .ok()
        })
    }
}

impl Drop for ProjectorProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
