//! Guarantee 5 end to end: a catalog loaded by the seed command, rebuilt from the first event
//! beside the live schema and flipped while query-api serves listings; then verified.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use e2e::{Stack, settings};

#[tokio::test]
async fn a_seeded_catalog_is_rebuilt_and_verified_while_the_query_api_keeps_answering() {
    let mut stack = Stack::start().await;
    let seed_pool = stack.db.settings("seed").pool().unwrap();
    command_api::seed::seed(&seed_pool, 150, &testkit::test_keyring())
        .await
        .unwrap();
    let outcome = tokio::spawn(rebuild_checks(
        stack.db.clone(),
        stack.topics.clone(),
        stack.queries.clone(),
    ))
    .await;
    stack.stop_projector().await.unwrap();
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic.into_panic());
    }
}

async fn rebuild_checks(db: testkit::TestDatabase, topics: kafka::Topics, queries: String) {
    let client = db.connect().await.unwrap();
    let streams: i64 = client
        .query_one("SELECT count(DISTINCT stream_id) FROM es.events", &[])
        .await
        .unwrap()
        .get(0);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let applied = client
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

    let reading = Arc::new(AtomicBool::new(true));
    let reader = {
        let reading = reading.clone();
        tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut statuses = Vec::new();
            while reading.load(Ordering::Relaxed) {
                for path in [
                    "/v1/products?limit=20",
                    "/v1/categories",
                    "/v1/products?q=lamp",
                ] {
                    let response = http.get(format!("{queries}{path}")).send().await;
                    statuses.push(response.map(|r| r.status().as_u16()).unwrap_or(0));
                }
            }
            statuses
        })
    };

    let mut settings = settings::projector(&db, &topics);
    // Longer than query-api's one-second cache of the active schema, as in production (300 s).
    settings.rebuild_grace = Duration::from_secs(3);
    let (_keep, running) = tokio::sync::watch::channel(false);
    let rebuilt = projector::rebuild::rebuild(&settings, running.clone())
        .await
        .unwrap();
    assert_eq!(rebuilt.schema.as_str(), "read_v2");
    // Keep reading across the flip and past the old schema's grace period.
    tokio::time::sleep(Duration::from_secs(2)).await;
    reading.store(false, Ordering::Relaxed);
    let statuses = reader.await.unwrap();
    assert!(statuses.len() > 10, "the reader ran: {}", statuses.len());
    assert!(
        statuses.iter().all(|s| *s == 200),
        "every read during the rebuild and flip answered 200: {statuses:?}"
    );

    let report = projector::verify::verify(&settings, running).await.unwrap();
    assert!(report.differences.is_empty(), "{:#}", report.to_json());
    assert_eq!(report.compared.get("products"), Some(&150));
}
