//! Keyset pagination: every walk sees every row exactly once, stays stable while the catalog
//! changes between pages, and refuses cursors that belong to another listing.

use std::collections::HashSet;

use reqwest::StatusCode;
use uuid::Uuid;

use crate::helpers::{ProductRow, at, ids, problem_fields, spawn_app, walk, walk_from};

/// 23 products with many ties: 5 prices, 8 timestamps, 6 names, and "widget" in every name so
/// that a search ranks them all the same.
fn tied_catalog() -> Vec<ProductRow> {
    (0..23)
        .map(|i| ProductRow {
            price_minor: 100 * (i % 5 + 1),
            created_at: at(i % 8),
            ..ProductRow::published(&format!("Widget {}", i % 6))
        })
        .collect()
}

#[tokio::test]
async fn cursor_pagination_walks_every_row_exactly_once_in_every_sort() {
    let app = spawn_app().await;
    let products = tied_catalog();
    app.insert_products(&products).await;
    let all: HashSet<Uuid> = products.iter().map(|p| p.id).collect();

    for query in [
        "sort=newest",
        "sort=price_asc",
        "sort=price_desc",
        "sort=name",
        "q=widget",
        "q=widget&sort=price_asc",
        "sort=price_asc&min_price=200&max_price=400",
    ] {
        let one_page = ids(&app
            .get_json(&format!("/v1/products?{query}&limit=100"))
            .await);
        let (walked, pages) = walk(&app, &format!("/v1/products?{query}&limit=4")).await;
        assert_eq!(
            walked, one_page,
            "{query}: pages in the order of one big page"
        );
        let distinct: HashSet<Uuid> = walked.iter().copied().collect();
        assert_eq!(distinct.len(), walked.len(), "{query}: no duplicates");
        assert_eq!(
            pages,
            walked.len().div_ceil(4).max(1),
            "{query}: no empty last page"
        );
        if !query.contains("price=") {
            assert_eq!(distinct, all, "{query}: every row");
        }
    }
}

#[tokio::test]
async fn a_newest_walk_is_stable_while_products_are_added_and_repriced_between_pages() {
    let app = spawn_app().await;
    let products: Vec<ProductRow> = (0..10)
        .map(|i| ProductRow {
            created_at: at(100 + i),
            ..ProductRow::published(&format!("Item {i}"))
        })
        .collect();
    app.insert_products(&products).await;
    let newest_first: Vec<Uuid> = products.iter().rev().map(|p| p.id).collect();

    let page1 = app.get_json("/v1/products?limit=4").await;
    assert_eq!(ids(&page1), newest_first[..4]);

    // Between pages: a newer product appears (before the cursor), an older one appears (after
    // it), and a product of page 2 changes its price.
    let newer = ProductRow {
        created_at: at(1_000),
        ..ProductRow::published("Brand new")
    };
    let older = ProductRow {
        created_at: at(0),
        ..ProductRow::published("Late import")
    };
    app.insert_products(&[newer.clone(), older.clone()]).await;
    app.set_price(newest_first[5], 99_999).await;

    let mut seen = ids(&page1);
    let mut cursor = page1["next_cursor"]
        .as_str()
        .expect("more pages")
        .to_owned();
    loop {
        let page = app
            .get_json(&format!("/v1/products?limit=4&cursor={cursor}"))
            .await;
        seen.extend(ids(&page));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => break,
        }
    }
    let mut expected = newest_first.clone();
    expected.push(older.id);
    assert_eq!(
        seen, expected,
        "every original row once, in order; the newer one is not replayed"
    );
    assert!(!seen.contains(&newer.id));
}

#[tokio::test]
async fn a_price_walk_is_stable_for_every_row_whose_price_did_not_change() {
    let app = spawn_app().await;
    let products: Vec<ProductRow> = (1..=10)
        .map(|i| ProductRow {
            price_minor: 100 * i,
            ..ProductRow::published(&format!("Item {i}"))
        })
        .collect();
    app.insert_products(&products).await;

    let page1 = app.get_json("/v1/products?sort=price_asc&limit=4").await;
    let cursor = page1["next_cursor"]
        .as_str()
        .expect("more pages")
        .to_owned();
    // A cheaper product appears (behind the cursor), a seen product gets cheaper (stays behind),
    // and an unseen one gets dearer (moves within the unseen part).
    app.insert_product(&ProductRow {
        price_minor: 50,
        ..ProductRow::published("Bargain")
    })
    .await;
    app.set_price(products[1].id, 150).await;
    app.set_price(products[8].id, 950).await;

    let (rest, _) = walk_from(&app, "/v1/products?sort=price_asc&limit=4", Some(cursor)).await;
    let mut seen = ids(&page1);
    seen.extend(rest);
    let expected: Vec<Uuid> = products.iter().map(|p| p.id).collect();
    assert_eq!(seen, expected, "no duplicate, no unchanged row skipped");
}

#[tokio::test]
async fn a_cursor_is_refused_with_other_filters_another_sort_or_when_garbled() {
    let app = spawn_app().await;
    app.insert_products(&tied_catalog()).await;
    let page = app
        .get_json("/v1/products?sort=price_asc&max_price=400&limit=2")
        .await;
    let cursor = page["next_cursor"].as_str().expect("more pages");

    let ok = app
        .get(&format!(
            "/v1/products?sort=price_asc&max_price=400&limit=5&cursor={cursor}"
        ))
        .await;
    assert_eq!(ok.status(), StatusCode::OK, "a new page size is fine");

    for query in [
        format!("sort=price_asc&max_price=500&cursor={cursor}"),
        format!("sort=price_desc&max_price=400&cursor={cursor}"),
        format!("sort=price_asc&cursor={cursor}"),
        "cursor=not-a-cursor".to_owned(),
        "cursor=eyJmIjoiMSJ9".to_owned(),
        format!("sort=price_asc&max_price=400&cursor={}", "A".repeat(3000)),
    ] {
        let response = app.get(&format!("/v1/products?{query}")).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
        let body: serde_json::Value = response.json().await.expect("problem");
        assert_eq!(body["code"], "invalid_cursor", "{query}");
        assert_eq!(problem_fields(&body), ["cursor"], "{query}");
    }
}
