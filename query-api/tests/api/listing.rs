//! `GET /v1/products`: what is listed, filters, every sort, search ranking and totals.

use reqwest::StatusCode;
use uuid::Uuid;

use crate::helpers::{ProductRow, at, ids, problem_fields, spawn_app};

/// Six products with distinct, known attributes (created one minute apart, oldest first).
fn catalog() -> Vec<ProductRow> {
    let seller = Uuid::now_v7();
    let specs: [(&str, &str, i64, i64); 6] = [
        ("Walnut desk", "furniture", 25_000, 3),
        ("Oak chair", "furniture", 8_000, 0),
        ("Ceramic mug", "kitchen", 1_200, 40),
        ("Steel kettle", "kitchen", 3_500, 7),
        ("Linen apron", "kitchen", 2_000, 0),
        ("Desk lamp", "lighting", 4_500, 12),
    ];
    specs
        .iter()
        .enumerate()
        .map(|(i, (name, category, price, stock))| ProductRow {
            category: (*category).to_owned(),
            price_minor: *price,
            stock: *stock,
            created_at: at(60 * i as i64),
            seller_id: if i % 2 == 0 { seller } else { Uuid::now_v7() },
            ..ProductRow::published(name)
        })
        .collect()
}

fn names(body: &serde_json::Value) -> Vec<String> {
    body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|item| item["name"].as_str().expect("name").to_owned())
        .collect()
}

#[tokio::test]
async fn listing_shows_only_published_products_newest_first() {
    let app = spawn_app().await;
    let products = catalog();
    app.insert_products(&products).await;
    app.insert_product(&ProductRow {
        status: "draft",
        created_at: at(10_000),
        ..ProductRow::published("Secret draft")
    })
    .await;
    app.insert_product(&ProductRow {
        status: "archived",
        created_at: at(10_001),
        ..ProductRow::published("Old archived")
    })
    .await;

    let body = app.get_json("/v1/products").await;

    let expected: Vec<Uuid> = products.iter().rev().map(|p| p.id).collect();
    assert_eq!(ids(&body), expected);
    assert!(body["next_cursor"].is_null());
    assert!(body.get("total").is_none(), "no total unless asked");
    let mug = &body["items"][3];
    assert_eq!(mug["name"], "Ceramic mug");
    assert_eq!(
        mug["price"],
        serde_json::json!({"amount_minor": 1200, "currency": "EUR"})
    );
    assert_eq!(mug["in_stock"], true);
    for field in [
        "id",
        "sku",
        "name",
        "description",
        "category",
        "price",
        "stock",
        "in_stock",
        "seller_id",
        "created_at",
        "updated_at",
        "version",
    ] {
        assert!(mug.get(field).is_some(), "item has {field}");
    }
}

#[tokio::test]
async fn listing_filters_by_category_price_stock_and_seller() {
    let app = spawn_app().await;
    let products = catalog();
    app.insert_products(&products).await;
    let seller = products[0].seller_id;

    let cases: Vec<(String, Vec<&str>)> = vec![
        (
            "category=kitchen".into(),
            vec!["Linen apron", "Steel kettle", "Ceramic mug"],
        ),
        (
            "category=KITCHEN".into(),
            vec!["Linen apron", "Steel kettle", "Ceramic mug"],
        ),
        (
            "min_price=4500".into(),
            vec!["Desk lamp", "Oak chair", "Walnut desk"],
        ),
        ("max_price=2000".into(), vec!["Linen apron", "Ceramic mug"]),
        (
            "min_price=2000&max_price=4500".into(),
            vec!["Desk lamp", "Linen apron", "Steel kettle"],
        ),
        (
            "in_stock=true".into(),
            vec!["Desk lamp", "Steel kettle", "Ceramic mug", "Walnut desk"],
        ),
        ("in_stock=false".into(), vec!["Linen apron", "Oak chair"]),
        (
            format!("seller={seller}"),
            vec!["Linen apron", "Ceramic mug", "Walnut desk"],
        ),
        (
            format!("seller={seller}&category=kitchen&in_stock=true&max_price=1500"),
            vec!["Ceramic mug"],
        ),
        ("category=garden".into(), vec![]),
    ];
    for (query, expected) in cases {
        let body = app.get_json(&format!("/v1/products?{query}")).await;
        assert_eq!(names(&body), expected, "{query}");
    }
}

#[tokio::test]
async fn each_sort_orders_the_catalog_and_breaks_ties_by_id() {
    let app = spawn_app().await;
    let mut products = catalog();
    // A second product at the mug's price: the tie is broken by id in the sort's direction.
    let twin = ProductRow {
        price_minor: 1_200,
        created_at: at(-60),
        ..ProductRow::published("Blue mug")
    };
    products.push(twin.clone());
    app.insert_products(&products).await;
    let mug = products[2].id;
    let (low, high) = if mug < twin.id {
        (mug, twin.id)
    } else {
        (twin.id, mug)
    };

    let body = app.get_json("/v1/products?sort=price_asc").await;
    assert_eq!(
        names(&body)[2..],
        [
            "Linen apron",
            "Steel kettle",
            "Desk lamp",
            "Oak chair",
            "Walnut desk"
        ]
    );
    assert_eq!(ids(&body)[..2], [low, high]);

    let body = app.get_json("/v1/products?sort=price_desc").await;
    assert_eq!(
        names(&body)[..5],
        [
            "Walnut desk",
            "Oak chair",
            "Desk lamp",
            "Steel kettle",
            "Linen apron"
        ]
    );
    assert_eq!(ids(&body)[5..], [high, low]);

    let body = app.get_json("/v1/products?sort=name").await;
    assert_eq!(
        names(&body),
        [
            "Blue mug",
            "Ceramic mug",
            "Desk lamp",
            "Linen apron",
            "Oak chair",
            "Steel kettle",
            "Walnut desk"
        ]
    );

    let body = app.get_json("/v1/products?sort=newest").await;
    assert_eq!(names(&body).first().map(String::as_str), Some("Desk lamp"));
    assert_eq!(names(&body).last().map(String::as_str), Some("Blue mug"));
}

#[tokio::test]
async fn search_ranks_a_name_hit_above_a_category_and_a_description_hit() {
    let app = spawn_app().await;
    let in_description = ProductRow {
        description: "A sturdy base that holds any lamp upright.".to_owned(),
        created_at: at(300),
        ..ProductRow::published("Oak stand")
    };
    let in_category = ProductRow {
        category: "lamp-parts".to_owned(),
        created_at: at(200),
        ..ProductRow::published("Brass fitting")
    };
    let in_name = ProductRow {
        created_at: at(100),
        ..ProductRow::published("Reading lamp")
    };
    let unrelated = ProductRow::published("Ceramic mug");
    app.insert_products(&[
        in_description.clone(),
        in_category.clone(),
        in_name.clone(),
        unrelated,
    ])
    .await;

    // Without `sort`, a search is ordered by relevance; stemming matches "lamps" to "lamp".
    for path in ["/v1/products?q=lamps", "/v1/products?q=lamp&sort=relevance"] {
        let body = app.get_json(path).await;
        assert_eq!(
            ids(&body),
            [in_name.id, in_category.id, in_description.id],
            "{path}"
        );
    }
    // Any other sort still filters by the search.
    let body = app.get_json("/v1/products?q=lamp&sort=newest").await;
    assert_eq!(ids(&body), [in_description.id, in_category.id, in_name.id]);
    // An excluded word; quotes only separate words, every word must match.
    let body = app.get_json("/v1/products?q=lamp%20-reading").await;
    assert_eq!(ids(&body), [in_category.id, in_description.id]);
    let body = app.get_json("/v1/products?q=%22reading%20lamp%22").await;
    assert_eq!(ids(&body), [in_name.id]);
    // Only stop words: no lexeme, so nothing matches (and no error).
    let body = app.get_json("/v1/products?q=the").await;
    assert_eq!(ids(&body), Vec::<Uuid>::new());
}

#[tokio::test]
async fn search_completes_the_word_being_typed_and_forgives_one_typo() {
    let app = spawn_app().await;
    let kettle = ProductRow::published("Copper kettle");
    let kettlebell = ProductRow::published("Iron kettlebell");
    let mug = ProductRow::published("Copper mug");
    app.insert_products(&[kettle.clone(), kettlebell.clone(), mug.clone()])
        .await;
    let sorted = |mut v: Vec<Uuid>| {
        v.sort();
        v
    };

    // The last word, typed without a space after it, is also a prefix; earlier words are not.
    let body = app.get_json("/v1/products?q=kett").await;
    assert_eq!(sorted(ids(&body)), sorted(vec![kettle.id, kettlebell.id]));
    let body = app.get_json("/v1/products?q=kett%20").await;
    assert_eq!(ids(&body), Vec::<Uuid>::new(), "a finished word is a word");
    let body = app.get_json("/v1/products?q=copp%20kettle").await;
    assert_eq!(
        ids(&body),
        Vec::<Uuid>::new(),
        "only the last word is a prefix"
    );
    let body = app.get_json("/v1/products?q=kettle%20copp").await;
    assert_eq!(ids(&body), [kettle.id]);

    // One typo in a word of five letters or more: dropped, doubled, swapped or replaced.
    for typo in ["ketle", "kettel", "ktetle", "coppar%20kettle"] {
        let body = app.get_json(&format!("/v1/products?q={typo}%20")).await;
        assert_eq!(ids(&body), [kettle.id], "{typo}");
    }
    // Two typos, or one in a short word, find nothing.
    for typo in ["ktele", "mugg"] {
        let body = app.get_json(&format!("/v1/products?q={typo}%20")).await;
        assert_eq!(ids(&body), Vec::<Uuid>::new(), "{typo}");
    }
    // A word both wanted and excluded finds nothing (without reading the postings of either);
    // a stop word being typed completes like any other prefix.
    let body = app.get_json("/v1/products?q=kettle%20-kettle").await;
    assert_eq!(ids(&body), Vec::<Uuid>::new());
    let onion = ProductRow::published("Onion slicer");
    app.insert_product(&onion).await;
    let body = app.get_json("/v1/products?q=on").await;
    assert_eq!(
        ids(&body),
        [onion.id],
        "on is a stop word, onion a completion"
    );
    // The same words with a filter take the other path and find the same products.
    let body = app
        .get_json("/v1/products?q=ketle%20&in_stock=true&include_total=true")
        .await;
    assert_eq!(ids(&body), [kettle.id]);
    assert_eq!(body["total"], 1);
}

#[tokio::test]
async fn relevance_without_a_search_is_newest_first_and_an_empty_price_range_is_an_empty_page() {
    let app = spawn_app().await;
    app.insert_products(&catalog()).await;
    let newest = app.get_json("/v1/products").await;
    let relevance = app.get_json("/v1/products?sort=relevance").await;
    assert_eq!(ids(&relevance), ids(&newest));
    let empty = app
        .get_json("/v1/products?min_price=500&max_price=100")
        .await;
    assert_eq!(ids(&empty), Vec::<Uuid>::new());
    assert_eq!(empty["next_cursor"], serde_json::Value::Null);
}

#[tokio::test]
async fn include_total_counts_every_matching_row_not_just_the_page() {
    let app = spawn_app().await;
    app.insert_products(&catalog()).await;

    let body = app
        .get_json("/v1/products?category=kitchen&limit=1&include_total=true")
        .await;
    assert_eq!(ids(&body).len(), 1);
    assert_eq!(body["total"], 3);
    assert_eq!(body["total_is_lower_bound"], false);
}

#[tokio::test]
async fn limit_defaults_to_20_and_accepts_1_to_100() {
    let app = spawn_app().await;
    let products: Vec<ProductRow> = (0..105)
        .map(|i| ProductRow {
            created_at: at(i),
            ..ProductRow::published(&format!("Product {i}"))
        })
        .collect();
    app.insert_products(&products).await;

    assert_eq!(ids(&app.get_json("/v1/products").await).len(), 20);
    assert_eq!(ids(&app.get_json("/v1/products?limit=1").await).len(), 1);
    assert_eq!(
        ids(&app.get_json("/v1/products?limit=100").await).len(),
        100
    );
    for bad in ["0", "101", "-1", "ten", "1.5"] {
        let response = app.get(&format!("/v1/products?limit={bad}")).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "limit={bad}");
        let body: serde_json::Value = response.json().await.expect("problem");
        assert_eq!(problem_fields(&body), ["limit"], "limit={bad}");
    }
}
