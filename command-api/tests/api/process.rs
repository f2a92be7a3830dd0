//! The real `command-api` binary as a process: SIGTERM drains in-flight requests and flushes the
//! relay; SIGKILL right after 2xx answers loses nothing (guarantee 1).

use std::{
    net::TcpListener,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::json;
use testkit::{TestDatabase, read_events, unique_topics};

use crate::helpers::PASSWORD;

struct Server {
    child: Child,
    base: String,
    /// The admin listener (`/metrics`).
    admin: String,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start(db: &TestDatabase, topics: &kafka::Topics, port: u16) -> Server {
    // Lifecycle tests send bursts of sign-ups on a busy test machine: no shedding there.
    start_with(
        db,
        topics,
        port,
        &[
            ("CC_AUTH__HASH_WAIT_MS", "60000"),
            ("CC_AUTH__HASH_QUEUE_PER_CORE", "10000"),
        ],
    )
}

fn start_with(
    db: &TestDatabase,
    topics: &kafka::Topics,
    port: u16,
    extra: &[(&str, &str)],
) -> Server {
    let admin_port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_command-api"))
        .arg("serve")
        .env("CC_HTTP__HOST", "127.0.0.1")
        .env("CC_HTTP__PORT", port.to_string())
        .env("CC_HTTP__ADMIN_PORT", admin_port.to_string())
        .env("CC_HTTP__WORKERS", "2")
        .env("CC_DATABASE__URL", &db.url)
        .env("CC_PERSONAL_DATA__MASTER_KEY", testkit::TEST_MASTER_KEY)
        .env("CC_KAFKA__BOOTSTRAP_SERVERS", testkit::kafka_bootstrap())
        .env("CC_KAFKA__USER_TOPIC", &topics.user)
        .env("CC_KAFKA__PRODUCT_TOPIC", &topics.product)
        .env("CC_KAFKA__PARTITIONS", "2")
        .env(
            "CC_AUTH__SIGNING_KEYS",
            platform::signing_keys::SigningKeys::generate_pem().unwrap(),
        )
        .env("RUST_LOG", "warn")
        .envs(extra.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("command-api starts");
    Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
        admin: format!("http://127.0.0.1:{admin_port}"),
    }
}

async fn wait_ready(server: &Server) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let http = reqwest::Client::new();
    while Instant::now() < deadline {
        let ready = http
            .get(format!("{}/health/ready", server.base))
            .send()
            .await;
        if ready.is_ok_and(|r| r.status() == StatusCode::OK) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("command-api never became ready");
}

fn signal(child: &Child, signal: &str) {
    let status = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

fn wait_exit(child: &mut Child, within: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "command-api did not exit in {within:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Sends `n` sign-ups at once and returns each outcome: a status, or None for a connection error.
async fn sign_ups(base: &str, prefix: &str, n: usize) -> Vec<Option<StatusCode>> {
    let http = reqwest::Client::new();
    let requests = (0..n).map(|i| {
        let body = json!({ "email": format!("{prefix}-{i}@example.com"), "password": PASSWORD, "display_name": "P" });
        let request = http.post(format!("{base}/v1/users")).json(&body).send();
        async move { request.await.ok().map(|r| r.status()) }
    });
    join_all(requests).await
}

/// The `relay_active` gauge of a running server.
async fn relay_active(server: &Server) -> f64 {
    let text = reqwest::get(format!("{}/metrics", server.admin))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find(|l| l.starts_with("relay_active "))
        .and_then(|l| l.split_whitespace().nth(1))
        .map_or(0.0, |v| v.parse().unwrap())
}

async fn registered_count(db: &TestDatabase) -> usize {
    let client = db.connect().await.unwrap();
    let count: i64 = client
        .query_one(
            "SELECT count(*) FROM es.events WHERE event_type = 'user.registered'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    usize::try_from(count).unwrap()
}

#[tokio::test]
async fn sigterm_finishes_in_flight_requests_flushes_the_relay_and_exits_cleanly() {
    let db = TestDatabase::create().await.unwrap();
    let topics = unique_topics();
    let mut server = start(&db, &topics, free_port());
    wait_ready(&server).await;
    let base = server.base.clone();
    let in_flight = tokio::spawn(async move { sign_ups(&base, "drain", 24).await });
    // Let the requests reach the server (argon2 keeps them busy), then ask it to stop.
    tokio::time::sleep(Duration::from_millis(150)).await;
    signal(&server.child, "-TERM");
    let outcomes = in_flight.await.unwrap();
    let status = wait_exit(&mut server.child, Duration::from_secs(25));
    assert!(status.success(), "exit status {status}");
    // Every request got a real answer or was never accepted; none was cut off with a 5xx.
    let created = outcomes
        .iter()
        .filter(|o| **o == Some(StatusCode::CREATED))
        .count();
    assert!(
        outcomes
            .iter()
            .all(|o| o.is_none() || *o == Some(StatusCode::CREATED)),
        "{outcomes:?}"
    );
    assert!(created > 0, "some requests were in flight: {outcomes:?}");
    assert_eq!(registered_count(&db).await, created);
    // The relay was flushed before exit: every recorded event is already on the topic.
    let read = read_events(&[topics.user.as_str()], Duration::from_secs(20), |r| {
        r.len() >= created
    })
    .await
    .unwrap();
    assert!(
        read.len() >= created,
        "{} of {created} events published before exit",
        read.len()
    );
    let client = db.connect().await.unwrap();
    let pending: i64 = client
        .query_one("SELECT count(*) FROM es.outbox", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(pending, 0, "the outbox was drained before exit");
}

#[tokio::test]
async fn commands_answered_2xx_survive_a_sigkill_right_after_the_answer() {
    let db = TestDatabase::create().await.unwrap();
    let topics = unique_topics();
    let port = free_port();
    let mut server = start(&db, &topics, port);
    wait_ready(&server).await;
    let outcomes = sign_ups(&server.base, "killed", 10).await;
    signal(&server.child, "-KILL");
    wait_exit(&mut server.child, Duration::from_secs(10));
    let created = outcomes
        .iter()
        .filter(|o| **o == Some(StatusCode::CREATED))
        .count();
    assert_eq!(created, 10);
    assert_eq!(registered_count(&db).await, created);
    // A new process picks up whatever the dead one had not published yet.
    let mut restarted = start(&db, &topics, free_port());
    wait_ready(&restarted).await;
    let read = read_events(&[topics.user.as_str()], Duration::from_secs(30), |r| {
        r.iter()
            .map(|e| e.stream_id)
            .collect::<std::collections::HashSet<_>>()
            .len()
            >= created
    })
    .await
    .unwrap();
    let streams: std::collections::HashSet<_> = read.iter().map(|e| e.stream_id).collect();
    assert_eq!(streams.len(), created);
    signal(&restarted.child, "-TERM");
    assert!(wait_exit(&mut restarted.child, Duration::from_secs(25)).success());
}

#[tokio::test]
async fn a_standby_relay_takes_over_when_the_active_one_dies() {
    let db = TestDatabase::create().await.unwrap();
    let topics = unique_topics();
    let mut first = start(&db, &topics, free_port());
    wait_ready(&first).await;
    // Only the active relay publishes, so a published event proves the first one leads.
    assert_eq!(
        sign_ups(&first.base, "before", 1).await,
        [Some(StatusCode::CREATED)]
    );
    let read = read_events(&[topics.user.as_str()], Duration::from_secs(30), |r| {
        !r.is_empty()
    })
    .await
    .unwrap();
    assert_eq!(read.len(), 1);
    let mut second = start(&db, &topics, free_port());
    wait_ready(&second).await;
    assert_eq!(
        relay_active(&second).await,
        0.0,
        "the second replica stands by"
    );
    signal(&first.child, "-KILL");
    wait_exit(&mut first.child, Duration::from_secs(10));
    let outcomes = sign_ups(&second.base, "takeover", 5).await;
    assert!(outcomes.iter().all(|o| *o == Some(StatusCode::CREATED)));
    let read = read_events(&[topics.user.as_str()], Duration::from_secs(30), |r| {
        r.len() >= 6
    })
    .await
    .unwrap();
    assert_eq!(read.len(), 6);
    assert_eq!(relay_active(&second).await, 1.0);
    signal(&second.child, "-TERM");
    assert!(wait_exit(&mut second.child, Duration::from_secs(25)).success());
}

#[tokio::test]
async fn a_sign_up_flood_is_shed_with_503_and_a_sign_in_still_gets_an_answer() {
    let db = TestDatabase::create().await.unwrap();
    let topics = unique_topics();
    let tight = [
        ("CC_AUTH__HASH_QUEUE_PER_CORE", "2"),
        ("CC_AUTH__HASH_WAIT_MS", "300"),
        ("CC_BOOTSTRAP_ADMIN__EMAIL", "flood-admin@example.com"),
        ("CC_BOOTSTRAP_ADMIN__PASSWORD", PASSWORD),
    ];
    let mut server = start_with(&db, &topics, free_port(), &tight);
    wait_ready(&server).await;
    let base = server.base.clone();
    let flood = tokio::spawn(async move { sign_ups(&base, "flood", 80).await });
    tokio::time::sleep(Duration::from_millis(50)).await;
    let sign_in = reqwest::Client::new()
        .post(format!("{}/v1/sessions", server.base))
        .json(&json!({ "email": "flood-admin@example.com", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    // Answered one way or the other, never left in an unbounded queue: 200, or 503 to retry.
    assert!(
        [StatusCode::OK, StatusCode::SERVICE_UNAVAILABLE].contains(&sign_in.status()),
        "{}",
        sign_in.status()
    );
    let outcomes = flood.await.unwrap();
    let created = outcomes
        .iter()
        .filter(|s| **s == Some(StatusCode::CREATED))
        .count();
    let shed = outcomes
        .iter()
        .filter(|s| **s == Some(StatusCode::SERVICE_UNAVAILABLE))
        .count();
    assert_eq!(created + shed, outcomes.len(), "{outcomes:?}");
    assert!(shed > 0 && created > 0, "created {created}, shed {shed}");
    // Shed sign-ups changed nothing.
    assert_eq!(registered_count(&db).await, created + 1);
    let metrics = reqwest::get(format!("{}/metrics", server.admin))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("password_hashes_shed_total"),
        "no shed counter"
    );
    signal(&server.child, "-KILL");
    let _ = server.child.wait();
}
