//! The admin listener when PostgreSQL cannot be reached: alive, not ready (503 with
//! `Retry-After`), standing by.

use reqwest::StatusCode;
use secrecy::SecretString;
use serde_json::Value;

use crate::helpers::Setup;

#[tokio::test]
async fn readiness_is_503_with_retry_after_while_postgresql_is_unreachable() {
    let setup = Setup::fresh().await;
    let mut settings = setup.settings();
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    settings.database.url = SecretString::from(format!("postgres://postgres@127.0.0.1:{port}/x"));
    let notifier = setup.spawn_with(settings).await;

    assert_eq!(notifier.get("/health/live").await.status(), StatusCode::OK);
    let ready = notifier.get("/health/ready").await;
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(ready.headers().contains_key("retry-after"));
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["checks"]["database"]["ok"], false, "{body}");
    assert_eq!(body["role"], "standby", "{body}");
    let metrics = notifier.get("/metrics").await.text().await.unwrap();
    assert!(metrics.contains("notifier_active"), "{metrics}");
    notifier.stop().await.unwrap();
}
