//! A product as its events describe it.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::values::{CategorySlug, Description, Money, ProductName, Sku};

/// The most units of one product we hold. Far above any real warehouse, low enough that no sum
/// of stock levels or deltas comes near `i64` overflow.
pub const MAX_STOCK: i64 = 1_000_000_000;

/// Where a product is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProductStatus {
    /// The stream has no events yet.
    #[default]
    NotCreated,
    /// Visible to its seller and admins only.
    Draft,
    /// Listed in the public catalog.
    Published,
    /// Withdrawn for good: accepts no further command.
    Archived,
}

/// A product as its events describe it; also what the audit "state as of" endpoint returns.
/// The default is "not created", with every optional field `None`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ProductState {
    pub id: Option<Uuid>,
    pub seller_id: Option<Uuid>,
    pub sku: Option<Sku>,
    pub name: Option<ProductName>,
    pub description: Option<Description>,
    pub category: Option<CategorySlug>,
    pub price: Option<Money>,
    /// Units on hand; never negative, never above [`MAX_STOCK`].
    pub stock: i64,
    pub status: ProductStatus,
}

/// The state as JSON, for the audit endpoint.
pub fn product_state_json(state: &ProductState) -> serde_json::Value {
    crate::event::encode(state)
}
