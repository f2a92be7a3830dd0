//! End to end through the real services: a product created and published through the command
//! API, relayed to the real broker and applied by the real projector, is visible in the query
//! API at once when the request carries the command's `Consistency-Token`.

use std::time::{Duration, Instant};

use query_api::startup::Application;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use uuid::Uuid;

use crate::{command_api_helpers, helpers};

/// The projector in this process, consuming the command API's topics into its database; send on
/// the channel, then await the task, to stop it (its consumer thread would otherwise keep the
/// test's runtime from shutting down).
async fn spawn_projector(
    db: &testkit::TestDatabase,
    topics: &kafka::Topics,
) -> (
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<anyhow::Result<()>>,
) {
    let app = projector::startup::Application::build(projector_settings(db, topics))
        .await
        .expect("projector builds");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    (stop, task)
}

fn projector_settings(
    db: &testkit::TestDatabase,
    topics: &kafka::Topics,
) -> projector::settings::Settings {
    projector::settings::Settings {
        host: "127.0.0.1".to_owned(),
        port: 0,
        database: db.settings("projector-e2e"),
        kafka: testkit::topics::kafka_settings(topics.clone()),
        consumer: projector::settings::ConsumerSettings {
            group_id: format!("query-api-e2e-{}", Uuid::new_v4().simple()),
            batch_size: 100,
            batch_max_wait: Duration::from_millis(20),
            session_timeout: Duration::from_secs(6),
            lag_sample_interval: Duration::from_millis(500),
            resume_rewind: 1000,
            fetch_max_wait: Duration::from_millis(20),
        },
        active_check_interval: Duration::from_millis(500),
        shutdown_timeout: Duration::from_secs(20),
        rebuild_grace: Duration::from_secs(300),
        create_topics: true,
    }
}

fn token_of(response: &reqwest::Response) -> String {
    response.headers()["consistency-token"]
        .to_str()
        .expect("token")
        .to_owned()
}

#[tokio::test]
async fn a_published_product_is_visible_at_once_with_the_commands_consistency_token() {
    let commands = command_api_helpers::spawn_app().await;
    let (stop, projector) = spawn_projector(&commands.db, &commands.topics).await;
    // The checks run in their own task so that a failed assertion still stops the projector.
    let checks = tokio::spawn(checks(commands));
    let outcome = checks.await;
    let _ = stop.send(());
    let stopped = tokio::time::timeout(Duration::from_secs(30), projector).await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic.into_panic());
    }
    assert!(
        matches!(stopped, Ok(Ok(Ok(())))),
        "projector stopped cleanly: {stopped:?}"
    );
}

async fn checks(commands: command_api_helpers::TestApp) {
    let mut settings = helpers::test_settings(&commands.db);
    // Generous for the consumer group's first join on a busy machine; a ready projector applies
    // a write within milliseconds.
    settings.consistency_wait = Duration::from_secs(30);
    let queries = Application::build(settings)
        .await
        .expect("query-api builds");
    let query_api = format!("http://127.0.0.1:{}", queries.port());
    tokio::spawn(queries.run_until_stopped());
    let http = reqwest::Client::new();

    let (seller_id, token) = commands.seller().await;
    let created = commands
        .post(
            "/v1/products",
            Some(&token),
            &command_api_helpers::product_body("QUERY-E2E-1"),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let id: Uuid = created.json::<Value>().await.expect("body")["id"]
        .as_str()
        .expect("id")
        .parse()
        .expect("uuid");
    let published = commands
        .send(
            Method::POST,
            &format!("/v1/products/{id}/publish"),
            Some(&token),
            None,
            &[],
        )
        .await;
    assert!(published.status().is_success(), "{}", published.status());
    let consistency = token_of(&published);
    assert_eq!(consistency, format!("{id}:2"));

    // One request each, no client-side retry: the token makes the write visible.
    let started = Instant::now();
    let page = http
        .get(format!("{query_api}/v1/products/{id}"))
        .header("Consistency-Token", &consistency)
        .send()
        .await
        .expect("request");
    assert_eq!(
        page.status(),
        StatusCode::OK,
        "waited {:?}",
        started.elapsed()
    );
    let body: Value = page.json().await.expect("body");
    assert_eq!(body["status"], "published");
    assert_eq!(body["seller_id"], seller_id.to_string());
    assert_eq!(body["version"], 2);

    let listing: Value = http
        .get(format!(
            "{query_api}/v1/products?seller={seller_id}&q=kettle"
        ))
        .header("Consistency-Token", &consistency)
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("body");
    assert_eq!(helpers::ids(&listing), [id]);

    let audit: Value = http
        .get(format!("{query_api}/v1/audit/products/{id}/events"))
        .bearer_auth(&token)
        .header("Consistency-Token", &consistency)
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("body");
    let types: Vec<&str> = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| e["event_type"].as_str().expect("type"))
        .collect();
    assert_eq!(types, ["product.created", "product.published"]);
}

/// Issue guarantee 5 end to end: a catalog loaded by the seed command, rebuilt from the first
/// event beside the live schema and flipped while query-api serves listings; then verified.
#[tokio::test]
async fn a_seeded_catalog_is_rebuilt_and_verified_while_the_query_api_keeps_answering() {
    let commands = command_api_helpers::spawn_app().await;
    let seed_pool = commands.db.settings("seed").pool().expect("pool");
    command_api::seed::seed(&seed_pool, 150)
        .await
        .expect("seeded");
    let (stop, projector) = spawn_projector(&commands.db, &commands.topics).await;
    let checks = tokio::spawn(rebuild_checks(commands));
    let outcome = checks.await;
    let _ = stop.send(());
    let _ = tokio::time::timeout(Duration::from_secs(30), projector).await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic.into_panic());
    }
}

async fn rebuild_checks(commands: command_api_helpers::TestApp) {
    let db = commands.db.connect().await.expect("db");
    let streams: i64 = db
        .query_one("SELECT count(DISTINCT stream_id) FROM es.events", &[])
        .await
        .expect("count")
        .get(0);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let applied = db
            .query_one("SELECT count(*) FROM read_v1.stream_versions", &[])
            .await
            .map(|r| r.get::<_, i64>(0))
            .unwrap_or(0);
        if applied == streams {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "projected {applied} of {streams} streams"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let queries = Application::build(helpers::test_settings(&commands.db))
        .await
        .expect("query-api builds");
    let query_api = format!("http://127.0.0.1:{}", queries.port());
    tokio::spawn(queries.run_until_stopped());
    let reading = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let reader = {
        let (reading, query_api) = (reading.clone(), query_api.clone());
        tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut statuses = Vec::new();
            while reading.load(std::sync::atomic::Ordering::Relaxed) {
                for path in [
                    "/v1/products?limit=20",
                    "/v1/categories",
                    "/v1/products?q=lamp",
                ] {
                    let response = http.get(format!("{query_api}{path}")).send().await;
                    statuses.push(response.map(|r| r.status().as_u16()).unwrap_or(0));
                }
            }
            statuses
        })
    };

    let mut settings = projector_settings(&commands.db, &commands.topics);
    // Longer than query-api's one-second cache of the active schema, as in production (300 s).
    settings.rebuild_grace = Duration::from_secs(3);
    let (_keep, running) = tokio::sync::watch::channel(false);
    let rebuilt = projector::rebuild::rebuild(&settings, running.clone())
        .await
        .expect("rebuilt");
    assert_eq!(rebuilt.schema.as_str(), "read_v2");
    // Keep reading across the flip and past the old schema's grace period.
    tokio::time::sleep(Duration::from_secs(2)).await;
    reading.store(false, std::sync::atomic::Ordering::Relaxed);
    let statuses = reader.await.expect("reader");
    assert!(statuses.len() > 10, "the reader ran: {}", statuses.len());
    assert!(
        statuses.iter().all(|s| *s == 200),
        "every read during the rebuild and flip answered 200: {statuses:?}"
    );

    let report = projector::verify::verify(&settings, running)
        .await
        .expect("verified");
    assert!(report.differences.is_empty(), "{:#}", report.to_json());
    assert_eq!(report.compared.get("products"), Some(&150));
}
