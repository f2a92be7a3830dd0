//! A product created and published through the command API is visible in the query API at once
//! when the request carries the command's `Consistency-Token`: one request each, no retry.

use std::time::Instant;

use e2e::{Stack, stack::consistency_token};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use uuid::Uuid;

#[tokio::test]
async fn a_published_product_is_visible_at_once_with_the_commands_consistency_token() {
    let mut stack = Stack::start().await;
    // The checks run in their own task so that a failed assertion still stops the projector.
    let outcome = {
        let stack = &stack;
        let (commands, queries, http) = (
            stack.commands.clone(),
            stack.queries.clone(),
            stack.http.clone(),
        );
        let (seller_id, token) = stack.seller().await;
        let (id, _) = stack.create_product(&token, "QUERY-E2E-1").await;
        tokio::spawn(checks(commands, queries, http, seller_id, token, id)).await
    };
    stack.stop_projector().await.unwrap();
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic.into_panic());
    }
}

async fn checks(
    commands: String,
    queries: String,
    http: reqwest::Client,
    seller_id: Uuid,
    token: String,
    id: Uuid,
) {
    let published = http
        .request(Method::POST, format!("{commands}/v1/products/{id}/publish"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert!(published.status().is_success(), "{}", published.status());
    let consistency = consistency_token(&published);
    assert_eq!(consistency, format!("{id}:2"));

    let started = Instant::now();
    let page = http
        .get(format!("{queries}/v1/products/{id}"))
        .header("Consistency-Token", &consistency)
        .send()
        .await
        .unwrap();
    assert_eq!(
        page.status(),
        StatusCode::OK,
        "waited {:?}",
        started.elapsed()
    );
    let body: Value = page.json().await.unwrap();
    assert_eq!(body["status"], "published");
    assert_eq!(body["seller_id"], seller_id.to_string());
    assert_eq!(body["version"], 2);

    let listing: Value = http
        .get(format!("{queries}/v1/products?seller={seller_id}&q=kettle"))
        .header("Consistency-Token", &consistency)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = listing["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [id.to_string()]);

    let audit: Value = http
        .get(format!("{queries}/v1/audit/products/{id}/events"))
        .bearer_auth(&token)
        .header("Consistency-Token", &consistency)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let types: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["product.created", "product.published"]);
}
