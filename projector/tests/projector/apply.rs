//! Applying batches without a broker: rows, categories, idempotency, gaps, unknown events,
//! fencing, and determinism across batch sizes.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use domain::ProductCommand;
use kafka::DecodedEvent;
use projector::{
    ApplyError, CheckpointMove, ReadSchema,
    schema::{self, SchemaState},
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{harness::harness, helpers::snapshot_all, history};

fn counts(pairs: &[(&str, i64)]) -> BTreeMap<String, i64> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
}

#[tokio::test]
async fn a_product_lifecycle_yields_the_row_its_events_describe() {
    let mut h = harness().await;
    let id = Uuid::now_v7();
    let mut events = h.create(id, 0);
    let price = history::euros(2599);
    events.extend(h.product(id, ProductCommand::ChangePrice { price }));
    let reason = "restock".parse().unwrap();
    events.extend(h.product(id, ProductCommand::AdjustStock { delta: 5, reason }));
    events.extend(h.product(id, ProductCommand::Publish));
    events.extend(h.move_to(id, "garden"));

    let outcome = h.apply(&events).await;

    assert_eq!(
        (outcome.applied, outcome.duplicates, outcome.gaps),
        (5, 0, 0)
    );
    let row = h.row(id).await;
    let expected = json!({
        "id": id,
        "seller_id": h.seller,
        "sku": format!("SKU-0-{}", id.simple()).to_uppercase(),
        "name": "Stoneware mug 0",
        "description": "A mug.\nDishwasher safe.",
        "category": "garden",
        "price_minor": 2599,
        "currency": "EUR",
        "stock": 15,
        "status": "published",
        "version": 5,
    });
    for (field, value) in expected.as_object().unwrap() {
        assert_eq!(&row[field], value, "products.{field}");
    }
    let time = |e: &DecodedEvent| serde_json::to_value(e.time).unwrap();
    let (created, updated) = (time(&events[0]), time(&events[4]));
    let as_time = |v: &Value| v.as_str().unwrap().parse::<DateTime<Utc>>().unwrap();
    assert_eq!(as_time(&row["created_at"]), as_time(&created));
    assert_eq!(as_time(&row["updated_at"]), as_time(&updated));
    let found = h
        .client
        .query(
            &format!(
                "SELECT id FROM {}.products WHERE search @@ websearch_to_tsquery('english', 'mugs garden')",
                h.projection.schema()
            ),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(found.len(), 1, "the search vector covers name and category");
}

#[tokio::test]
async fn category_counts_follow_publish_unpublish_archive_and_category_changes() {
    let mut h = harness().await;
    let (a, b, c) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let mut events = h.create(a, 0); // kitchen
    events.extend(h.create(b, 4)); // kitchen
    events.extend(h.create(c, 1)); // garden
    h.apply(&events).await;
    assert_eq!(h.categories().await, counts(&[]), "drafts are not counted");

    let mut events = h.product(a, ProductCommand::Publish);
    events.extend(h.product(b, ProductCommand::Publish));
    events.extend(h.product(c, ProductCommand::Publish));
    h.apply(&events).await;
    assert_eq!(
        h.categories().await,
        counts(&[("kitchen", 2), ("garden", 1)])
    );

    let events = h.move_to(a, "books");
    h.apply(&events).await;
    assert_eq!(
        h.categories().await,
        counts(&[("kitchen", 1), ("garden", 1), ("books", 1)])
    );

    let events = h.product(b, ProductCommand::Unpublish);
    h.apply(&events).await;
    assert_eq!(h.categories().await, counts(&[("garden", 1), ("books", 1)]));

    let events = h.product(c, ProductCommand::Archive);
    h.apply(&events).await;
    assert_eq!(h.categories().await, counts(&[("books", 1)]));

    // Moved while in draft, then published, all in one batch.
    let mut events = h.move_to(b, "books");
    events.extend(h.product(b, ProductCommand::Publish));
    h.apply(&events).await;
    assert_eq!(h.categories().await, counts(&[("books", 2)]));
}

#[tokio::test]
async fn applying_the_same_batch_twice_changes_nothing() {
    let mut h = harness().await;
    let mut events = Vec::new();
    for index in 0..5 {
        let id = Uuid::now_v7();
        for command in history::lifecycle(id, h.seller, index) {
            events.extend(h.product(id, command));
        }
    }
    let user = Uuid::now_v7();
    let recorded = history::record(user, "user", &history::user_history(user, 0), h.clock);
    let user_topic = h.projection.topics().user.clone();
    events.extend(history::at_offsets(&recorded, &user_topic, 0));

    let first = h.apply(&events).await;
    let before = snapshot_all(&h.client, h.projection.schema()).await;
    let second = h.apply(&events).await;
    let after = snapshot_all(&h.client, h.projection.schema()).await;

    assert_eq!(first.applied, events.len());
    assert_eq!((second.applied, second.duplicates), (0, events.len()));
    assert_eq!(before, after);
    assert_eq!(h.count("audit_events").await, events.len() as i64);
    assert_eq!(h.count("users").await, 1);
}

#[tokio::test]
async fn a_version_gap_holds_the_stream_back_until_the_missing_event_comes_again() {
    let metrics = platform::prometheus::install();
    let mut h = harness().await;
    let id = Uuid::now_v7();
    let created = h.create(id, 0);
    let lost = h.product(id, ProductCommand::Publish); // version 2 missing from the topic
    let price = history::euros(1234);
    let repriced = h.product(id, ProductCommand::ChangePrice { price });
    let mut with_gap = created.clone();
    with_gap.extend(repriced.clone());

    let outcome = h.apply(&with_gap).await;

    assert_eq!(lost.len(), 1);
    assert_eq!((outcome.applied, outcome.gaps), (1, 1));
    let row = h.row(id).await;
    assert_eq!(row["version"], 1, "never folded out of order");
    assert_eq!(row["status"], "draft");
    assert_ne!(row["price_minor"], 1234);
    assert!(metrics.render().contains("projector_version_gaps_total"));

    // History published again (a republish): the stream catches up in order.
    let mut again = created;
    again.extend(lost);
    again.extend(repriced);
    let late = h.apply(&again).await;
    assert_eq!((late.applied, late.duplicates, late.gaps), (2, 1, 0));
    let row = h.row(id).await;
    assert_eq!(row["version"], 3);
    assert_eq!(row["status"], "published");
    assert_eq!(row["price_minor"], 1234);
}

#[tokio::test]
async fn an_event_of_unknown_type_is_audited_but_not_projected() {
    let mut h = harness().await;
    let id = Uuid::now_v7();
    let mut events = h.create(id, 0);
    let mut strange = events[0].clone();
    strange.stream_version = 2;
    strange.offset += 1;
    strange.event_type = "product.teleported".to_owned();
    strange.payload = json!({ "product_id": id, "to": "mars" });
    events.push(strange);
    h.offset += 1;
    h.products.get_mut(&id).unwrap().1 = 2;
    events.extend(h.product(id, ProductCommand::Publish));

    let outcome = h.apply(&events).await;

    assert_eq!((outcome.applied, outcome.unknown, outcome.gaps), (3, 1, 0));
    let row = h.row(id).await;
    assert_eq!(
        (row["version"].clone(), row["status"].clone()),
        (json!(3), json!("published"))
    );
    assert_eq!(h.count("audit_events").await, 3);
}

#[tokio::test]
async fn a_batch_whose_checkpoint_moved_is_fenced_and_changes_nothing() {
    let mut h = harness().await;
    let id = Uuid::now_v7();
    let first = h.create(id, 0);
    let step = |expected: i64, next: i64| CheckpointMove {
        topic: h.topic(),
        partition: 0,
        expected: Some(expected),
        next_offset: next,
        last_event_id: None,
    };
    let (owner, zombie) = (step(0, 1), step(0, 1));
    h.projection
        .apply(&mut h.client, &first, &[owner])
        .await
        .unwrap();
    let before = snapshot_all(&h.client, h.projection.schema()).await;

    let stale = h.product(id, ProductCommand::Publish);
    let refused = h.projection.apply(&mut h.client, &stale, &[zombie]).await;

    assert!(
        matches!(refused, Err(ApplyError::Fenced { expected: 0, .. })),
        "{refused:?}"
    );
    assert_eq!(snapshot_all(&h.client, h.projection.schema()).await, before);
}

#[tokio::test]
async fn replaying_in_any_batch_size_yields_the_same_rows() {
    let mut h = harness().await;
    let mut events = Vec::new();
    for index in 0..6 {
        let id = Uuid::now_v7();
        for command in history::lifecycle(id, h.seller, index) {
            events.extend(h.product(id, command));
        }
    }
    h.apply(&events).await;
    let shadow = ReadSchema::generation(2);
    schema::create(&mut h.client, &shadow, 2, SchemaState::Shadow)
        .await
        .unwrap();
    let replay = h.projection.on_schema(shadow.clone());
    for chunk in events.chunks(7) {
        replay.apply_events(&mut h.client, chunk).await.unwrap();
    }

    let live = snapshot_all(&h.client, h.projection.schema()).await;
    assert_eq!(snapshot_all(&h.client, &shadow).await, live);
    let expected_categories: i64 = (0..6).filter(|i| i % 3 == 2).count() as i64;
    let published: i64 = h.categories().await.values().sum();
    assert_eq!(published, expected_categories);
}
