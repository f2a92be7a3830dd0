//! What has happened to a product: one payload struct per event type, and the enum that wraps them.
//!
//! Payloads deliberately do not deny unknown fields: consumers must tolerate additions, and so
//! must we when replaying. Prices are `{"amount_minor", "currency"}` objects, never floats.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use super::state::MAX_STOCK;
use crate::event::{EventPayload, impl_domain_event};
use crate::values::{CategorySlug, Description, Money, ProductName, Sku, StockReason};

/// Everything that can happen to a product, oldest first in a stream.
#[derive(Debug, Clone, PartialEq)]
pub enum ProductEvent {
    Created(ProductCreated),
    DetailsUpdated(ProductDetailsUpdated),
    PriceChanged(ProductPriceChanged),
    StockAdjusted(ProductStockAdjusted),
    Published(ProductPublished),
    Unpublished(ProductUnpublished),
    Archived(ProductArchived),
}

impl_domain_event!(ProductEvent {
    Created(ProductCreated),
    DetailsUpdated(ProductDetailsUpdated),
    PriceChanged(ProductPriceChanged),
    StockAdjusted(ProductStockAdjusted),
    Published(ProductPublished),
    Unpublished(ProductUnpublished),
    Archived(ProductArchived),
});

/// Example ids shared by the samples, so the catalog reads as one story.
const EXAMPLE_PRODUCT: &str = "0190f3a4-6c7d-7e8f-8a9b-0c1d2e3f4a5b";
const EXAMPLE_SELLER: &str = "0190f3a4-5b6c-7d8e-9f01-23456789abcd";

/// A product was listed, as a draft.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ProductCreated {
    pub product_id: Uuid,
    pub seller_id: Uuid,
    pub sku: Sku,
    pub name: ProductName,
    pub description: Description,
    pub category: CategorySlug,
    pub price: Money,
    #[schemars(range(min = 0, max = MAX_STOCK))]
    pub initial_stock: i64,
}

impl EventPayload for ProductCreated {
    const EVENT_TYPE: &'static str = "product.created";
    const SCHEMA_VERSION: i32 = 1;

    fn example() -> serde_json::Value {
        json!({
            "product_id": EXAMPLE_PRODUCT,
            "seller_id": EXAMPLE_SELLER,
            "sku": "MUG-CERAMIC-350",
            "name": "Ceramic mug, 350 ml",
            "description": "Stoneware mug with a matte glaze.\nDishwasher safe.",
            "category": "kitchen-dining",
            "price": { "amount_minor": 1299, "currency": "EUR" },
            "initial_stock": 120
        })
    }
}

/// Name, description or category changed. Carries the full new value of all three, so a
/// consumer can overwrite its copy without knowing which one changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ProductDetailsUpdated {
    pub product_id: Uuid,
    pub name: ProductName,
    pub description: Description,
    pub category: CategorySlug,
}

impl EventPayload for ProductDetailsUpdated {
    const EVENT_TYPE: &'static str = "product.details_updated";
    const SCHEMA_VERSION: i32 = 1;

    fn example() -> serde_json::Value {
        json!({
            "product_id": EXAMPLE_PRODUCT,
            "name": "Ceramic mug, 350 ml, sage green",
            "description": "Stoneware mug with a matte sage glaze.\nDishwasher safe.",
            "category": "kitchen-dining"
        })
    }
}

/// The price changed. `previous_price` lets an auditor answer "who changed the price from what"
/// from this one event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ProductPriceChanged {
    pub product_id: Uuid,
    pub previous_price: Money,
    pub price: Money,
}

impl EventPayload for ProductPriceChanged {
    const EVENT_TYPE: &'static str = "product.price_changed";
    const SCHEMA_VERSION: i32 = 1;

    fn example() -> serde_json::Value {
        json!({
            "product_id": EXAMPLE_PRODUCT,
            "previous_price": { "amount_minor": 1299, "currency": "EUR" },
            "price": { "amount_minor": 1499, "currency": "EUR" }
        })
    }
}

/// Units were added or removed. `stock` is the level after the change, so consumers need not
/// sum deltas (and cannot drift if they miss one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ProductStockAdjusted {
    pub product_id: Uuid,
    /// Never zero.
    pub delta: i64,
    pub reason: StockReason,
    #[schemars(range(min = 0, max = MAX_STOCK))]
    pub stock: i64,
}

impl EventPayload for ProductStockAdjusted {
    const EVENT_TYPE: &'static str = "product.stock_adjusted";
    const SCHEMA_VERSION: i32 = 1;

    fn example() -> serde_json::Value {
        json!({
            "product_id": EXAMPLE_PRODUCT,
            "delta": -3,
            "reason": "damaged in transit",
            "stock": 117
        })
    }
}

/// The product is now listed in the public catalog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ProductPublished {
    pub product_id: Uuid,
}

impl EventPayload for ProductPublished {
    const EVENT_TYPE: &'static str = "product.published";
    const SCHEMA_VERSION: i32 = 1;

    fn example() -> serde_json::Value {
        json!({ "product_id": EXAMPLE_PRODUCT })
    }
}

/// The product went back to draft: hidden from the catalog, still editable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ProductUnpublished {
    pub product_id: Uuid,
}

impl EventPayload for ProductUnpublished {
    const EVENT_TYPE: &'static str = "product.unpublished";
    const SCHEMA_VERSION: i32 = 1;

    fn example() -> serde_json::Value {
        json!({ "product_id": EXAMPLE_PRODUCT })
    }
}

/// The product was withdrawn for good. No event follows this one in its stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ProductArchived {
    pub product_id: Uuid,
}

impl EventPayload for ProductArchived {
    const EVENT_TYPE: &'static str = "product.archived";
    const SCHEMA_VERSION: i32 = 1;

    fn example() -> serde_json::Value {
        json!({ "product_id": EXAMPLE_PRODUCT })
    }
}
