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
    let settings = projector::settings::Settings {
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
        },
        active_check_interval: Duration::from_millis(500),
        shutdown_timeout: Duration::from_secs(20),
        rebuild_grace: Duration::from_secs(300),
        create_topics: true,
    };
    let app = projector::startup::Application::build(settings)
        .await
        .expect("projector builds");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    (stop, task)
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
