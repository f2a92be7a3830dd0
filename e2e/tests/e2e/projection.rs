//! A product created and published through the command API, relayed to the real broker and
//! applied by the projector, is in the read model; so is its seller's role.

use std::time::Duration;

use e2e::{Stack, stack::eventually};
use reqwest::Method;
use serde_json::Value;

#[tokio::test]
async fn a_product_created_and_published_through_the_command_api_appears_in_products() {
    let mut stack = Stack::start().await;
    let (seller_id, token) = stack.seller().await;
    let (id, _) = stack.create_product(&token, "E2E-KETTLE-1").await;
    let published = stack
        .command(
            Method::POST,
            &format!("/v1/products/{id}/publish"),
            Some(&token),
            None,
        )
        .await;
    assert!(published.status().is_success(), "{}", published.status());

    let client = stack.db.connect().await.unwrap();
    let sql = "SELECT to_jsonb(p) - 'search' FROM read_v1.products p
               WHERE id = $1 AND status = 'published'";
    let row: Value = eventually("the published product", Duration::from_secs(30), || async {
        client
            .query_opt(sql, &[&id])
            .await
            .unwrap()
            .map(|r| r.get(0))
    })
    .await;
    assert_eq!(row["seller_id"], seller_id.to_string());
    assert_eq!(row["sku"], "E2E-KETTLE-1");
    assert_eq!(row["name"], "Kettle");
    assert_eq!(row["price_minor"], 2599);
    assert_eq!(row["stock"], 10);
    assert_eq!(row["version"], 2);
    let role: String = eventually("the seller's account", Duration::from_secs(10), || async {
        let row = client
            .query_opt(
                "SELECT role FROM read_v1.users WHERE id = $1",
                &[&seller_id],
            )
            .await
            .unwrap()?;
        let role: String = row.get(0);
        (role == "seller").then_some(role)
    })
    .await;
    assert_eq!(role, "seller");
    stack.stop_projector().await.unwrap();
}
