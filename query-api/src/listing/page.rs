//! What a listing answers with: products as listings show them, one page at a time.

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio_postgres::Row;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Price {
    /// Amount in the currency's minor unit (cents for EUR).
    #[schema(example = 1299)]
    pub amount_minor: i64,
    #[schema(example = "EUR")]
    pub currency: String,
}

/// A product as listings show it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProductItem {
    pub id: Uuid,
    pub sku: String,
    pub name: String,
    pub description: String,
    pub category: String,
    pub price: Price,
    pub stock: i64,
    pub in_stock: bool,
    pub seller_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Stream version of the last event this row reflects.
    pub version: i64,
}

impl ProductItem {
    /// A row of `listing::sql::page` or of the detail query (same leading columns).
    pub fn from_row(row: &Row) -> Result<Self, tokio_postgres::Error> {
        let stock: i64 = row.try_get("stock")?;
        Ok(Self {
            id: row.try_get("id")?,
            sku: row.try_get("sku")?,
            name: row.try_get("name")?,
            description: row.try_get("description")?,
            category: row.try_get("category")?,
            price: Price {
                amount_minor: row.try_get("price_minor")?,
                currency: row.try_get("currency")?,
            },
            stock,
            in_stock: stock > 0,
            seller_id: row.try_get("seller_id")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
            version: row.try_get("version")?,
        })
    }
}

/// One page of a listing.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProductPage {
    pub items: Vec<ProductItem>,
    /// Pass as `cursor` (with the same filters and sort) for the next page; `null` on the last.
    pub next_cursor: Option<String>,
    /// With `include_total=true`: matching rows, counted up to 10 000.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<i64>,
    /// With `include_total=true`: `true` when more rows match than `total` says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_is_lower_bound: Option<bool>,
}
