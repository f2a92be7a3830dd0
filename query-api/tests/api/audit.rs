//! Audit trails: who may read them, paging by version, and a product "as of" a moment.

use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{AuditRow, ProductRow, TestApp, UserRow, at, spawn_app};

struct Story {
    seller: UserRow,
    admin: UserRow,
    other: UserRow,
    product: ProductRow,
}

/// A product created at 10:00 for 12.99 and repriced to 14.99 at 11:00, by its seller.
async fn priced_product(app: &TestApp) -> Story {
    let seller = UserRow::new("seller");
    let admin = UserRow::new("admin");
    let other = UserRow::new("seller");
    for user in [&seller, &admin, &other] {
        app.insert_user(user).await;
    }
    let product = ProductRow {
        seller_id: seller.id,
        price_minor: 1499,
        ..ProductRow::published("Ceramic mug")
    };
    app.insert_product(&product).await;
    let id = product.id;
    let events = [
        (
            1,
            "product.created",
            json!({
                "product_id": id, "seller_id": seller.id, "sku": "MUG-1", "name": "Ceramic mug",
                "description": "Stoneware.", "category": "kitchen",
                "price": { "amount_minor": 1299, "currency": "EUR" }, "initial_stock": 5
            }),
            at(10 * 3600),
        ),
        (
            2,
            "product.price_changed",
            json!({
                "product_id": id,
                "previous_price": { "amount_minor": 1299, "currency": "EUR" },
                "price": { "amount_minor": 1499, "currency": "EUR" }
            }),
            at(11 * 3600),
        ),
    ];
    for (version, event_type, payload, recorded_at) in events {
        app.insert_audit_event(&AuditRow {
            stream_id: id,
            stream_type: "product",
            version,
            event_type,
            payload,
            actor: Some(seller.id.to_string()),
            recorded_at,
        })
        .await;
    }
    Story {
        seller,
        admin,
        other,
        product,
    }
}

async fn status_of(app: &TestApp, path: &str, token: Option<&str>) -> StatusCode {
    app.get_with(path, token, &[]).await.status()
}

#[tokio::test]
async fn product_audits_are_for_admins_and_the_products_seller_only() {
    let app = spawn_app().await;
    let story = priced_product(&app).await;
    let path = format!("/v1/audit/products/{}/events", story.product.id);

    assert_eq!(status_of(&app, &path, None).await, StatusCode::UNAUTHORIZED);
    let other = app.token(story.other.id, "seller").await;
    assert_eq!(
        status_of(&app, &path, Some(&other)).await,
        StatusCode::FORBIDDEN
    );
    for (user, role) in [(&story.seller, "seller"), (&story.admin, "admin")] {
        let response = app.get_as(&path, &app.token(user.id, role).await).await;
        assert_eq!(response.status(), StatusCode::OK, "{role}");
        assert_eq!(response.headers()["cache-control"], "private, no-store");
        let body: Value = response.json().await.expect("body");
        let types: Vec<&str> = body["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|e| e["event_type"].as_str().expect("type"))
            .collect();
        assert_eq!(types, ["product.created", "product.price_changed"]);
        assert_eq!(body["items"][1]["actor"], story.seller.id.to_string());
        assert_eq!(
            body["items"][1]["payload"]["previous_price"]["amount_minor"],
            1299
        );
    }
    let unknown = format!("/v1/audit/products/{}/events", Uuid::now_v7());
    let admin = app.token(story.admin.id, "admin").await;
    assert_eq!(
        status_of(&app, &unknown, Some(&admin)).await,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn user_audits_are_for_the_user_and_admins_only() {
    let app = spawn_app().await;
    let story = priced_product(&app).await;
    let user = &story.other;
    app.insert_audit_event(&AuditRow {
        stream_id: user.id,
        stream_type: "user",
        version: 1,
        event_type: "user.registered",
        payload: json!({ "user_id": user.id, "email": user.email, "display_name": "Test User" }),
        actor: Some("anonymous".to_owned()),
        recorded_at: at(0),
    })
    .await;
    let path = format!("/v1/audit/users/{}/events", user.id);

    assert_eq!(status_of(&app, &path, None).await, StatusCode::UNAUTHORIZED);
    let seller = app.token(story.seller.id, "seller").await;
    assert_eq!(
        status_of(&app, &path, Some(&seller)).await,
        StatusCode::FORBIDDEN
    );
    let own = app.token(user.id, "seller").await;
    assert_eq!(status_of(&app, &path, Some(&own)).await, StatusCode::OK);
    let admin = app.token(story.admin.id, "admin").await;
    assert_eq!(status_of(&app, &path, Some(&admin)).await, StatusCode::OK);
    // A product id is not a user stream, even for an admin.
    let product_as_user = format!("/v1/audit/users/{}/events", story.product.id);
    assert_eq!(
        status_of(&app, &product_as_user, Some(&admin)).await,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn audit_events_page_by_version() {
    let app = spawn_app().await;
    let story = priced_product(&app).await;
    let admin = app.token(story.admin.id, "admin").await;
    let base = format!("/v1/audit/products/{}/events", story.product.id);

    let first: Value = app
        .get_as(&format!("{base}?limit=1"), &admin)
        .await
        .json()
        .await
        .expect("body");
    assert_eq!(first["items"][0]["version"], 1);
    assert_eq!(first["next_after_version"], 1);
    let second: Value = app
        .get_as(&format!("{base}?limit=1&after_version=1"), &admin)
        .await
        .json()
        .await
        .expect("body");
    assert_eq!(second["items"][0]["version"], 2);
    assert!(second["next_after_version"].is_null());
}

#[tokio::test]
async fn state_as_of_folds_the_events_recorded_by_then() {
    let app = spawn_app().await;
    let story = priced_product(&app).await;
    let token = app.token(story.seller.id, "seller").await;
    let base = format!("/v1/audit/products/{}/state", story.product.id);

    // 10:30 UTC, written with an offset whose `+` arrives as a space when left unencoded.
    for as_of in [
        "2025-01-01T10:30:00Z",
        "2025-01-01T11:30:00%2B01:00",
        "2025-01-01T11:30:00+01:00",
    ] {
        let response = app.get_as(&format!("{base}?as_of={as_of}"), &token).await;
        assert_eq!(response.status(), StatusCode::OK, "{as_of}");
        let body: Value = response.json().await.expect("body");
        assert_eq!(body["version"], 1, "{as_of}");
        assert_eq!(body["state"]["price"]["amount_minor"], 1299, "{as_of}");
        assert_eq!(body["state"]["status"], "draft", "{as_of}");
        assert_eq!(body["state"]["stock"], 5, "{as_of}");
    }

    let later: Value = app
        .get_as(&format!("{base}?as_of=2025-01-01T11:00:00Z"), &token)
        .await
        .json()
        .await
        .expect("body");
    assert_eq!(
        later["version"], 2,
        "an event recorded exactly at as_of counts"
    );
    assert_eq!(later["state"]["price"]["amount_minor"], 1499);

    let before = app
        .get_as(&format!("{base}?as_of=2025-01-01T09:00:00Z"), &token)
        .await;
    assert_eq!(
        before.status(),
        StatusCode::NOT_FOUND,
        "nothing recorded by then"
    );

    let other = app.token(story.other.id, "seller").await;
    let response = app
        .get_as(&format!("{base}?as_of=2025-01-01T10:30:00Z"), &other)
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}
