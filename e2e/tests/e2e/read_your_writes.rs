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

    // The items of a page read with the token; `field` of each.
    let items = |path: String, field: &'static str| {
        let request = http
            .get(format!("{queries}{path}"))
            .bearer_auth(&token)
            .header("Consistency-Token", &consistency);
        async move {
            let page: Value = request.send().await.unwrap().json().await.unwrap();
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|item| item[field].as_str().unwrap().to_owned())
                .collect::<Vec<String>>()
        }
    };
    let ids = items(format!("/v1/products?seller={seller_id}&q=kettle"), "id").await;
    assert_eq!(ids, [id.to_string()]);
    let types = items(format!("/v1/audit/products/{id}/events"), "event_type").await;
    assert_eq!(types, ["product.created", "product.published"]);
}
