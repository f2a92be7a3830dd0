//! Snapshots of long streams: written with the events they cover, used by the next load, equal
//! to the fold of the whole stream, and ignored when another build wrote them or they are broken.

use domain::{
    Aggregate,
    product::{Product, ProductEvent},
};
use reqwest::Method;
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{TestApp, spawn_app_with};

/// A product with `changes` commands after its creation, alternating price and stock.
async fn long_stream(app: &TestApp, changes: usize) -> (Uuid, String) {
    let (_, seller) = app.seller().await;
    let id = app
        .create_product(
            &seller,
            &format!("SNAP-{}", &Uuid::new_v4().simple().to_string()[..8]),
        )
        .await;
    for n in 0..changes {
        let response = if n % 2 == 0 {
            let price = json!({ "amount_minor": 1000 + n as i64, "currency": "EUR" });
            app.send(
                Method::PUT,
                &format!("/v1/products/{id}/price"),
                Some(&seller),
                Some(&price),
                &[],
            )
            .await
        } else {
            let delta = json!({ "delta": 3, "reason": "restock" });
            app.post(
                &format!("/v1/products/{id}/stock-adjustments"),
                Some(&seller),
                &delta,
            )
            .await
        };
        assert!(response.status().is_success(), "{}", response.status());
    }
    (id, seller)
}

/// The fold of every event of the stream, ignoring snapshots.
async fn whole_fold(client: &tokio_postgres::Client, id: Uuid) -> (domain::ProductState, i64) {
    let recorded = store::load_stream(client, id).await.unwrap();
    let events: Vec<ProductEvent> = recorded.iter().map(|e| e.decode().unwrap()).collect();
    (
        Product::fold(&events),
        recorded.last().unwrap().stream_version,
    )
}

async fn snapshot_version(client: &tokio_postgres::Client, id: Uuid) -> Option<(i64, String)> {
    client
        .query_opt(
            "SELECT version, snapshot_key FROM es.snapshots WHERE stream_id = $1",
            &[&id],
        )
        .await
        .unwrap()
        .map(|row| (row.get(0), row.get(1)))
}

#[tokio::test]
async fn a_long_stream_loads_from_its_snapshot_and_equals_the_whole_fold() {
    let app = spawn_app_with(|s| s.relay_enabled = false).await;
    let (id, _) = long_stream(&app, 2 * store::SNAPSHOT_EVERY + 30).await;
    let client = app.db.connect().await.unwrap();

    let (version, key) = snapshot_version(&client, id).await.expect("a snapshot");
    assert_eq!(key, domain::SNAPSHOT_KEY);
    assert_eq!(
        version,
        2 * store::SNAPSHOT_EVERY as i64,
        "one every SNAPSHOT_EVERY events"
    );
    let loaded = store::load::<Product>(&client, id, store::PersonalFields::Ignore)
        .await
        .unwrap();
    let (folded, last_version) = whole_fold(&client, id).await;
    assert_eq!(loaded.version, last_version);
    assert_eq!(loaded.events_since_snapshot as i64, last_version - version);
    assert_eq!(loaded.state, folded);

    // The load really starts from the snapshot: a name planted in it (no later event sets the
    // name) shows through.
    client
        .execute(
            "UPDATE es.snapshots SET state = jsonb_set(state, '{name}', '\"Planted kettle\"')
             WHERE stream_id = $1",
            &[&id],
        )
        .await
        .unwrap();
    let planted = store::load::<Product>(&client, id, store::PersonalFields::Ignore)
        .await
        .unwrap();
    assert_eq!(planted.state.name.unwrap().to_string(), "Planted kettle");
    assert_eq!(planted.state.stock, folded.stock);
}

#[tokio::test]
async fn a_snapshot_of_another_build_or_that_does_not_decode_is_ignored_then_replaced() {
    let app = spawn_app_with(|s| s.relay_enabled = false).await;
    let (id, seller) = long_stream(&app, store::SNAPSHOT_EVERY + 10).await;
    let client = app.db.connect().await.unwrap();
    let (folded, last_version) = whole_fold(&client, id).await;

    for tampering in [
        "UPDATE es.snapshots SET snapshot_key = 'another-build' WHERE stream_id = $1",
        "UPDATE es.snapshots SET snapshot_key = $2, state = '{\"stock\": \"many\"}' WHERE stream_id = $1",
    ] {
        let key = domain::SNAPSHOT_KEY;
        let params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = if tampering.contains("$2") {
            vec![&id, &key]
        } else {
            vec![&id]
        };
        client.execute(tampering, &params).await.unwrap();
        let loaded = store::load::<Product>(&client, id, store::PersonalFields::Ignore)
            .await
            .unwrap();
        assert_eq!(loaded.state, folded, "after {tampering}");
        assert_eq!(loaded.version, last_version);
        assert_eq!(
            loaded.events_since_snapshot as i64, last_version,
            "folded from the start"
        );
    }

    // The next command folded the whole stream again, so it writes a good snapshot.
    let price = json!({ "amount_minor": 777, "currency": "EUR" });
    let response = app
        .send(
            Method::PUT,
            &format!("/v1/products/{id}/price"),
            Some(&seller),
            Some(&price),
            &[],
        )
        .await;
    assert!(response.status().is_success());
    assert_eq!(
        snapshot_version(&client, id).await,
        Some((last_version + 1, domain::SNAPSHOT_KEY.to_owned()))
    );
    let loaded = store::load::<Product>(&client, id, store::PersonalFields::Ignore)
        .await
        .unwrap();
    assert_eq!(loaded.events_since_snapshot, 0);
    assert_eq!(loaded.state.price.unwrap().amount_minor(), 777);
}
