//! `spawn_notifier()`: the notifier in this process on a fresh database, fresh topics on the
//! real broker and its own in-process mail sink; recording events in the store and publishing
//! them the way the relay does (the production envelope), raw messages, reading the dead-letter topic, and the queries the
//! tests assert with.

use std::{
    path::PathBuf,
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use kafka::{KafkaSettings, Outgoing, Topics, envelope};
use notifier::{
    settings::{ConsumerSettings, MailSettings, Settings, SmtpSettings},
    startup::Application,
};
use rdkafka::{
    Message, Offset, TopicPartitionList,
    consumer::{BaseConsumer, Consumer},
    message::{Header, OwnedHeaders, OwnedMessage},
    producer::FutureRecord,
};
use secrecy::SecretString;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use testkit::{
    TestDatabase, mail_sink::MailSink, mailbox::ReceivedMail, topics::kafka_settings, unique_topics,
};
use tokio::{sync::oneshot, task::JoinHandle};
use uuid::Uuid;

pub use testkit::eventually;

pub const LINK_BASE: &str = "https://shop.example";

/// A notifier running in this process.
#[derive(Debug)]
pub struct TestNotifier {
    pub db: TestDatabase,
    pub topics: Topics,
    pub dead_letter_topic: String,
    pub group_id: String,
    pub mail_dir: PathBuf,
    pub admin: String,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

/// Where a notifier runs: database, topics, group and SMTP relay.
#[derive(Debug, Clone)]
pub struct Setup {
    pub db: TestDatabase,
    pub topics: Topics,
    pub dead_letter_topic: String,
    pub group_id: String,
    pub smtp: String,
    pub mail_dir: PathBuf,
}

impl Setup {
    /// A fresh database and topics, and a mail sink of its own.
    pub async fn fresh() -> Self {
        let mail_dir = fresh_mail_dir();
        let sink = MailSink::start(&mail_dir).await.unwrap();
        Self::with_smtp(&format!("smtp://{sink}"), mail_dir).await
    }

    /// A fresh database and topics, mailing through `smtp` (a sink expected to write to
    /// `mail_dir`).
    pub async fn with_smtp(smtp: &str, mail_dir: PathBuf) -> Self {
        let db = TestDatabase::create().await.expect("test database");
        let topics = unique_topics();
        Self {
            dead_letter_topic: format!("{}.dead-letters", topics.user),
            group_id: format!("notifier-test-{}", Uuid::new_v4().simple()),
            db,
            topics,
            smtp: smtp.to_owned(),
            mail_dir,
        }
    }

    pub fn settings(&self) -> Settings {
        Settings {
            host: "127.0.0.1".to_owned(),
            port: 0,
            database: self.db.settings("notifier-test"),
            kafka: kafka_settings(self.topics.clone()),
            smtp: SmtpSettings {
                url: SecretString::from(self.smtp.clone()),
                password: None,
                timeout: Duration::from_secs(5),
            },
            mail: MailSettings {
                from: "CloudCommerce <no-reply@cloudcommerce.dev>".to_owned(),
                link_base_url: LINK_BASE.to_owned(),
            },
            consumer: ConsumerSettings {
                group_id: self.group_id.clone(),
                dead_letter_topic: self.dead_letter_topic.clone(),
                fetch_max_wait: Duration::from_millis(20),
                retry_initial: Duration::from_millis(200),
                retry_max: Duration::from_secs(1),
                standby_poll: Duration::from_millis(300),
            },
            shutdown_timeout: Duration::from_secs(20),
            create_topics: true,
            keyring: testkit::test_keyring(),
        }
    }

    pub async fn spawn(&self) -> TestNotifier {
        self.spawn_with(self.settings()).await
    }

    /// [`Setup::spawn`] with settings changed by the test.
    pub async fn spawn_with(&self, settings: Settings) -> TestNotifier {
        platform::telemetry::init("warn");
        let app = Application::build(settings).await.expect("notifier builds");
        let admin = format!("http://127.0.0.1:{}", app.port());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(app.run_until(async move {
            let _ = stopped.await;
        }));
        TestNotifier {
            db: self.db.clone(),
            topics: self.topics.clone(),
            dead_letter_topic: self.dead_letter_topic.clone(),
            group_id: self.group_id.clone(),
            mail_dir: self.mail_dir.clone(),
            admin,
            stop: Some(stop),
            task: Some(task),
        }
    }
}

pub fn fresh_mail_dir() -> PathBuf {
    std::env::temp_dir().join(format!("notifier-test-mail-{}", Uuid::new_v4().simple()))
}

/// A fresh database, topics and mail sink, with the notifier consuming them.
pub async fn spawn_notifier() -> TestNotifier {
    Setup::fresh().await.spawn().await
}

impl TestNotifier {
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

    /// Every mail the sink kept whose `To` names `address`.
    pub fn mails_to(&self, address: &str) -> Vec<ReceivedMail> {
        mails_to(&self.mail_dir, address)
    }

    /// Waits until `count` mails to `address` are there; returns them.
    pub async fn wait_for_mails(&self, address: &str, count: usize) -> Vec<ReceivedMail> {
        eventually(
            &format!("{count} mail(s) to {address}"),
            Duration::from_secs(30),
            || async {
                let mails = self.mails_to(address);
                (mails.len() >= count).then_some(mails)
            },
        )
        .await
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        reqwest::get(format!("{}{path}", self.admin)).await.unwrap()
    }
}

pub fn mails_to(dir: &std::path::Path, address: &str) -> Vec<ReceivedMail> {
    testkit::mailbox::received(dir)
        .unwrap()
        .into_iter()
        .filter(|mail| {
            mail.header("To")
                .is_some_and(|to| to.contains(&format!("<{address}>")))
        })
        .collect()
}

/// An event as the relay would publish it.
#[derive(Debug, Clone)]
pub struct TestEvent {
    pub event_id: Uuid,
    pub user_id: Uuid,
    pub version: i64,
    pub event_type: String,
    pub payload: Value,
    pub time: DateTime<Utc>,
}

impl TestEvent {
    pub fn new(user_id: Uuid, version: i64, event_type: &str, payload: Value) -> Self {
        Self {
            event_id: Uuid::now_v7(),
            user_id,
            version,
            event_type: event_type.to_owned(),
            payload,
            time: Utc::now(),
        }
    }

    pub fn registered(user_id: Uuid, email: &str, display_name: &str) -> Self {
        Self::new(
            user_id,
            1,
            "user.registered",
            json!({
                "user_id": user_id, "email": email, "display_name": display_name,
                "role": "customer"
            }),
        )
    }

    /// An event carrying only the user id (the request events).
    pub fn request(user_id: Uuid, version: i64, event_type: &str) -> Self {
        Self::new(user_id, version, event_type, json!({ "user_id": user_id }))
    }

    pub fn at(mut self, time: DateTime<Utc>) -> Self {
        self.time = time;
        self
    }
}

/// A user that is new to every test: its id and a unique address.
pub fn new_user() -> (Uuid, String) {
    let id = Uuid::now_v7();
    (id, format!("user-{}@example.com", id.simple()))
}

/// Records `events` in the event store and publishes them, as command-api and its relay do.
pub async fn publish(db: &TestDatabase, kafka: &KafkaSettings, events: &[TestEvent]) {
    record(db, events).await;
    send(kafka, events).await;
}

/// Appends `events` to `es.events` (the store `es.issue_mailed_token` checks requests
/// against); an event id already there is left as it was.
pub async fn record(db: &TestDatabase, events: &[TestEvent]) {
    let client = db.connect().await.unwrap();
    for event in events {
        client
            .execute(
                "INSERT INTO es.events (event_id, stream_id, stream_type, stream_version,
                     event_type, schema_version, payload, correlation_id, actor, recorded_at)
                 VALUES ($1, $2, 'user', $3, $4, 1, $5, gen_random_uuid(), 'system', $6)
                 ON CONFLICT (event_id) DO NOTHING",
                &[
                    &event.event_id,
                    &event.user_id,
                    &event.version,
                    &event.event_type,
                    &event.payload,
                    &event.time,
                ],
            )
            .await
            .unwrap();
    }
}

/// Publishes `events` to the user topic in the production envelope, in order, without
/// recording them.
pub async fn send(kafka: &KafkaSettings, events: &[TestEvent]) {
    let producer = kafka::producer::idempotent_producer(kafka).unwrap();
    for event in events {
        let outgoing = Outgoing {
            event_id: event.event_id,
            stream_id: event.user_id,
            stream_type: "user",
            stream_version: event.version,
            event_type: &event.event_type,
            schema_version: 1,
            payload: &event.payload,
            correlation_id: Uuid::now_v7(),
            causation_id: None,
            actor: "system",
            traceparent: None,
            recorded_at: event.time,
        };
        let (key, headers, value) = envelope::encode(&outgoing);
        let record = FutureRecord::to(&kafka.topics.user)
            .key(&key)
            .headers(headers)
            .payload(&value);
        producer
            .send(record, Duration::from_secs(10))
            .await
            .map_err(|(error, _)| error)
            .unwrap();
    }
}

/// Publishes one message as given, bypassing the envelope.
pub async fn publish_raw(
    kafka: &KafkaSettings,
    key: &[u8],
    headers: &[(&str, &[u8])],
    payload: &[u8],
) {
    let producer = kafka::producer::idempotent_producer(kafka).unwrap();
    let headers = headers
        .iter()
        .fold(OwnedHeaders::new(), |all, (key, value)| {
            all.insert(Header {
                key,
                value: Some(*value),
            })
        });
    let record = FutureRecord::to(&kafka.topics.user)
        .key(key)
        .headers(headers)
        .payload(payload);
    producer
        .send(record, Duration::from_secs(10))
        .await
        .map_err(|(error, _)| error)
        .unwrap();
}

/// Every message of `topic` (all partitions, from the beginning) once `count` are there.
pub async fn read_raw(kafka: &KafkaSettings, topic: &str, count: usize) -> Vec<OwnedMessage> {
    let (kafka, topic) = (kafka.clone(), topic.to_owned());
    tokio::task::spawn_blocking(move || {
        let consumer: BaseConsumer = kafka
            .client_config()
            .set(
                "group.id",
                format!("notifier-test-reader-{}", Uuid::new_v4()),
            )
            .set("enable.auto.commit", "false")
            .create()
            .unwrap();
        let metadata = consumer
            .fetch_metadata(Some(&topic), Duration::from_secs(10))
            .unwrap();
        let mut assignment = TopicPartitionList::new();
        for described in metadata.topics().iter().filter(|t| t.name() == topic) {
            for partition in described.partitions() {
                assignment
                    .add_partition_offset(&topic, partition.id(), Offset::Beginning)
                    .unwrap();
            }
        }
        consumer.assign(&assignment).unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut messages = Vec::new();
        while messages.len() < count && Instant::now() < deadline {
            if let Some(Ok(message)) = consumer.poll(Duration::from_millis(200)) {
                messages.push(message.detach());
            }
        }
        messages.sort_by_key(|m: &OwnedMessage| (m.timestamp().to_millis(), m.offset()));
        messages
    })
    .await
    .unwrap()
}

/// The outcome the notifier recorded for `event_id`, once it has one.
pub async fn outcome_of(db: &TestDatabase, event_id: Uuid) -> String {
    let client = db.connect().await.unwrap();
    eventually(
        &format!("an outcome for {event_id}"),
        Duration::from_secs(30),
        || async {
            client
                .query_opt(
                    "SELECT outcome FROM notifier.deliveries WHERE event_id = $1",
                    &[&event_id],
                )
                .await
                .unwrap()
                .map(|row| row.get::<_, String>(0))
        },
    )
    .await
}

/// The 43-character token of the mail's link (after `token=`).
pub fn token_in(mail: &ReceivedMail) -> String {
    let text = mail.text().unwrap();
    let at = text.find("token=").expect("a link with a token") + "token=".len();
    text[at..at + 43].to_owned()
}

pub fn sha256(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// (user id, seconds from issue to expiry, seconds from now to expiry) of the stored token
/// whose hash is that of `token`, in `table`.
pub async fn stored_token(db: &TestDatabase, table: &str, token: &str) -> Option<(Uuid, f64, f64)> {
    let client = db.connect().await.unwrap();
    let sql = format!(
        "SELECT user_id, EXTRACT(EPOCH FROM expires_at - issued_at)::float8,
                EXTRACT(EPOCH FROM expires_at - now())::float8
         FROM {table} WHERE token_hash = $1"
    );
    client
        .query_opt(&sql, &[&sha256(token)])
        .await
        .unwrap()
        .map(|row| (row.get(0), row.get(1), row.get(2)))
}
