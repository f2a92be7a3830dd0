//! Guarantee 2: every recorded event reaches Kafka, in per-aggregate order, keyed by aggregate
//! id, with CloudEvents headers; a relay that dies between produce and mark loses nothing.

use std::{collections::HashMap, time::Duration};

use command_api::relay::{Relay, RelayOptions};
use kafka::DecodedEvent;
use reqwest::Method;
use serde_json::json;
use testkit::{read_events, topics::kafka_settings};
use uuid::Uuid;

use crate::helpers::{TestApp, spawn_app, spawn_app_with};

/// Creates two products and changes each a few times; returns how many events the store holds.
async fn record_some_history(app: &TestApp) -> i64 {
    let (_, seller) = app.seller().await;
    for sku in ["ORD-001", "ORD-002"] {
        let id = app.create_product(&seller, sku).await;
        for amount in [1100, 1200, 1300] {
            let body = json!({ "amount_minor": amount, "currency": "EUR" });
            let path = format!("/v1/products/{id}/price");
            app.send(Method::PUT, &path, Some(&seller), Some(&body), &[])
                .await;
        }
        app.send(
            Method::POST,
            &format!("/v1/products/{id}/publish"),
            Some(&seller),
            None,
            &[],
        )
        .await;
    }
    app.event_count().await
}

async fn stored_events(app: &TestApp) -> Vec<(Uuid, i64, String)> {
    let client = app.db.connect().await.unwrap();
    client
        .query(
            "SELECT stream_id, stream_version, event_type FROM es.events ORDER BY position",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect()
}

async fn read_all(app: &TestApp, at_least: usize) -> Vec<DecodedEvent> {
    let topics = [app.topics.user.as_str(), app.topics.product.as_str()];
    read_events(&topics, Duration::from_secs(30), |read| {
        let distinct: std::collections::HashSet<_> = read
            .iter()
            .map(|e| (e.stream_id, e.stream_version))
            .collect();
        distinct.len() >= at_least
    })
    .await
    .unwrap()
}

/// Every stored event was read at least once, and within a stream the first sightings arrive in
/// version order.
fn assert_complete_and_ordered(stored: &[(Uuid, i64, String)], read: &[DecodedEvent]) {
    for (stream, version, event_type) in stored {
        assert!(
            read.iter().any(|e| e.stream_id == *stream
                && e.stream_version == *version
                && e.event_type == *event_type),
            "{event_type} {stream} v{version} never reached Kafka"
        );
    }
    let mut last_seen: HashMap<Uuid, i64> = HashMap::new();
    for event in read {
        let last = last_seen.entry(event.stream_id).or_insert(0);
        // A re-sent duplicate may repeat an older version; a new version must be the next one.
        if event.stream_version > *last {
            assert_eq!(
                event.stream_version,
                *last + 1,
                "gap in stream {}",
                event.stream_id
            );
            *last = event.stream_version;
        }
    }
}

#[tokio::test]
async fn every_event_reaches_its_topic_in_order_with_cloudevents_headers() {
    let app = spawn_app().await;
    let count = record_some_history(&app).await;
    let stored = stored_events(&app).await;
    let read = read_all(&app, count as usize).await;
    assert_complete_and_ordered(&stored, &read);
    let mut partition_of: HashMap<Uuid, i32> = HashMap::new();
    for event in &read {
        let expected_topic = if event.event_type.starts_with("user.") {
            &app.topics.user
        } else {
            &app.topics.product
        };
        assert_eq!(&event.topic, expected_topic);
        // Keyed by aggregate id: one stream, one partition.
        assert_eq!(
            *partition_of
                .entry(event.stream_id)
                .or_insert(event.partition),
            event.partition
        );
        let h = &event.headers;
        assert_eq!(h["ce_specversion"], "1.0");
        assert_eq!(h["ce_id"], event.event_id.to_string());
        assert_eq!(h["ce_type"], event.event_type);
        assert_eq!(h["ce_subject"], event.stream_id.to_string());
        assert_eq!(
            h["ce_sequence"],
            kafka::envelope::sequence(event.stream_version)
        );
        assert_eq!(h["content-type"], "application/json");
        assert!(h["ce_source"].starts_with("/cloudcommerce/"));
        assert!(h.contains_key("ce_time"));
        assert!(h.contains_key("ce_correlationid"));
        assert!(h.contains_key("ce_actor"));
    }
}

#[tokio::test]
async fn traceparent_and_correlation_id_travel_from_http_to_kafka_headers() {
    let app = spawn_app().await;
    let (_, seller) = app.seller().await;
    let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let correlation = Uuid::new_v4().to_string();
    let body = crate::helpers::product_body("TRACE-001");
    let response = app
        .send(
            Method::POST,
            "/v1/products",
            Some(&seller),
            Some(&body),
            &[
                ("traceparent", traceparent),
                ("x-correlation-id", &correlation),
            ],
        )
        .await;
    let id = crate::helpers::id_of(response).await;
    // Without trace headers the request starts a trace of its own, and its events carry it.
    let untraced = app.create_product(&seller, "TRACE-002").await;
    let read = read_events(
        &[app.topics.product.as_str()],
        Duration::from_secs(30),
        |r| {
            [id, untraced]
                .iter()
                .all(|id| r.iter().any(|e| e.stream_id == *id))
        },
    )
    .await
    .unwrap();
    let event = read
        .iter()
        .find(|e| e.stream_id == id)
        .expect("created event");
    assert_eq!(event.traceparent.as_deref(), Some(traceparent));
    assert_eq!(
        event.correlation_id.map(|c| c.to_string()),
        Some(correlation)
    );
    let started = read
        .iter()
        .find(|e| e.stream_id == untraced)
        .and_then(|e| e.traceparent.as_deref())
        .and_then(platform::trace_context::TraceParent::parse)
        .expect("a valid traceparent on the untraced request's event");
    assert_ne!(started.trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
    assert!(!started.sampled(), "nothing recorded the started trace");
}

#[tokio::test]
async fn a_relay_that_dies_between_produce_and_mark_resends_and_loses_nothing() {
    let app = spawn_app_with(|s| s.relay_enabled = false).await;
    let count = record_some_history(&app).await;
    let settings = app.db.settings("relay-crash-test");
    let pool = settings.pool().unwrap();
    let options = RelayOptions {
        batch_size: 5,
        ..RelayOptions::default()
    };
    kafka::admin::ensure_topics(&kafka_settings(app.topics.clone()))
        .await
        .unwrap();
    let crashing = Relay::new(
        pool.clone(),
        settings.target().unwrap(),
        kafka_settings(app.topics.clone()),
        options.clone(),
    )
    .unwrap();
    let (produced, landed) = crashing.produce_pending().await.unwrap();
    assert_eq!(produced.len(), 5);
    assert_eq!(landed.len(), 5, "every event was acknowledged");
    // The process dies here: acknowledged by Kafka, never marked in the outbox.
    drop(crashing);
    let client = app.db.connect().await.unwrap();
    let pending: i64 = client
        .query_one("SELECT count(*) FROM es.outbox", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(pending, count, "nothing was marked");

    let mut replacement = Relay::new(
        pool,
        settings.target().unwrap(),
        kafka_settings(app.topics.clone()),
        options,
    )
    .unwrap();
    while replacement.publish_pending_once().await.unwrap() > 0 {}
    let pending: i64 = client
        .query_one("SELECT count(*) FROM es.outbox", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(pending, 0);

    let stored = stored_events(&app).await;
    let read = read_all(&app, count as usize).await;
    assert_complete_and_ordered(&stored, &read);
    // The five produced before the crash are on the wire twice; consumers dedupe them.
    let wait_for_all = read_events(
        &[app.topics.user.as_str(), app.topics.product.as_str()],
        Duration::from_secs(30),
        |r| r.len() >= count as usize + 5,
    )
    .await
    .unwrap();
    assert_eq!(wait_for_all.len(), count as usize + 5);
}

#[tokio::test]
async fn commands_are_accepted_while_the_relay_is_down_and_published_when_it_returns() {
    let app = spawn_app_with(|s| s.relay_enabled = false).await;
    let count = record_some_history(&app).await;
    let settings = app.db.settings("relay-late-test");
    let relay = Relay::new(
        settings.pool().unwrap(),
        settings.target().unwrap(),
        kafka_settings(app.topics.clone()),
        RelayOptions::default(),
    )
    .unwrap();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(relay.run(stopped));
    let read = read_all(&app, count as usize).await;
    assert_complete_and_ordered(&stored_events(&app).await, &read);
    stop.send(true).unwrap();
    task.await.unwrap();
}

/// Every stored event read back from `topics`, counted per (stream, version).
async fn copies_on(topics: &kafka::Topics, expected: usize) -> HashMap<(Uuid, i64), usize> {
    let names = [topics.user.as_str(), topics.product.as_str()];
    let read = read_events(&names, Duration::from_secs(30), |read| {
        read.len() >= expected
    })
    .await
    .unwrap();
    let mut copies = HashMap::new();
    for event in read {
        *copies
            .entry((event.stream_id, event.stream_version))
            .or_insert(0) += 1;
    }
    copies
}

#[tokio::test]
async fn a_topic_the_broker_lost_gets_its_history_again_from_the_event_store() {
    let app = spawn_app_with(|s| s.relay_enabled = false).await;
    let count = record_some_history(&app).await as usize;
    let settings = app.db.settings("relay-lost-topic-test");
    let pool = settings.pool().unwrap();
    let options = RelayOptions {
        log_check: Duration::from_millis(200),
        ..RelayOptions::default()
    };
    // Published once to the app's topics, by a relay that records where it published.
    kafka::admin::ensure_topics(&kafka_settings(app.topics.clone()))
        .await
        .unwrap();
    let mut first = Relay::new(
        pool.clone(),
        settings.target().unwrap(),
        kafka_settings(app.topics.clone()),
        options.clone(),
    )
    .unwrap();
    while first.publish_pending_once().await.unwrap() > 0 {}
    drop(first);
    let client = app.db.connect().await.unwrap();

    // The broker loses the topics: a relay for new, empty topics finds the offsets it recorded
    // for them (copied here under the new names) pointing at messages that are not there.
    let wiped = testkit::unique_topics();
    // The restarted broker has the topics again, empty.
    kafka::admin::ensure_topics(&kafka_settings(wiped.clone()))
        .await
        .unwrap();
    for (old, new) in [
        (&app.topics.user, &wiped.user),
        (&app.topics.product, &wiped.product),
    ] {
        client
            .execute(
                "INSERT INTO es.published_offsets (topic, partition, next_offset)
                 SELECT $2, partition, next_offset FROM es.published_offsets WHERE topic = $1",
                &[old, new],
            )
            .await
            .unwrap();
    }
    let relay = Relay::new(
        pool,
        settings.target().unwrap(),
        kafka_settings(wiped.clone()),
        options,
    )
    .unwrap();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(relay.run(stopped));
    let copies = copies_on(&wiped, count).await;
    stop.send(true).unwrap();
    task.await.unwrap();
    for (stream, version, event_type) in stored_events(&app).await {
        assert!(
            copies.contains_key(&(stream, version)),
            "{event_type} {stream} v{version} was not published again"
        );
    }
    let pending: i64 = client
        .query_one("SELECT count(*) FROM es.outbox", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(pending, 0);
}

#[tokio::test]
async fn republish_sends_history_again_in_order_from_a_position_through_the_running_relay() {
    let app = spawn_app().await;
    let count = record_some_history(&app).await as usize;
    let stored = stored_events(&app).await;
    read_all(&app, count).await;
    let pool = app.db.settings("republish-test").pool().unwrap();

    let everything = command_api::republish::Request::parse(&[]).unwrap();
    let queued = command_api::republish::republish(&pool, &app.topics, &everything)
        .await
        .unwrap();
    assert_eq!(queued as usize, count);
    let copies = copies_on(&app.topics, 2 * count).await;
    assert!(
        stored
            .iter()
            .all(|(s, v, _)| copies.get(&(*s, *v)) == Some(&2)),
        "every event twice: {copies:?}"
    );
    let read = read_all(&app, count).await;
    assert_complete_and_ordered(&stored, &read);

    // From a position on, and of one stream type: only those go again.
    let client = app.db.connect().await.unwrap();
    let middle: i64 = client
        .query_one(
            "SELECT position FROM es.events WHERE stream_type = 'product'
             ORDER BY position OFFSET 4 LIMIT 1",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let args: Vec<String> = [
        "--from-position",
        &middle.to_string(),
        "--stream-type",
        "product",
    ]
    .iter()
    .map(|a| (*a).to_owned())
    .collect();
    let later = command_api::republish::Request::parse(&args).unwrap();
    let queued = command_api::republish::republish(&pool, &app.topics, &later)
        .await
        .unwrap();
    let expected: i64 = client
        .query_one(
            "SELECT count(*) FROM es.events WHERE stream_type = 'product' AND position >= $1",
            &[&middle],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(queued as i64, expected);
}
