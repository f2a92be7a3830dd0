//! The seed command records the same events the API would, and tops up rather than duplicates.

use domain::product::Product;

use crate::helpers::spawn_app_with;

#[tokio::test]
async fn seeding_records_decodable_histories_and_a_second_run_adds_nothing() {
    let app = spawn_app_with(|s| s.relay_enabled = false).await;
    let pool = app.db.settings("seed-test").pool().unwrap();
    assert_eq!(
        command_api::seed::seed(&pool, 300, &testkit::test_keyring())
            .await
            .unwrap(),
        300
    );
    assert_eq!(
        command_api::seed::seed(&pool, 300, &testkit::test_keyring())
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        command_api::seed::seed(&pool, 320, &testkit::test_keyring())
            .await
            .unwrap(),
        20
    );
    let client = app.db.connect().await.unwrap();
    let ids: Vec<uuid::Uuid> = client
        .query(
            "SELECT product_id FROM es.sku_reservations WHERE sku LIKE 'SEED-%'",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(ids.len(), 320);
    let mut published = 0;
    for id in ids {
        let loaded = store::load::<Product>(&client, id, store::PersonalFields::Ignore)
            .await
            .unwrap();
        assert!(loaded.version >= 1);
        assert!(loaded.state.stock >= 0);
        assert!(loaded.state.price.is_some());
        if loaded.state.status == domain::product::ProductStatus::Published {
            published += 1;
        }
    }
    assert!(
        published > 250,
        "most seeded products are published: {published}"
    );
}
