//! What a listing answers with: products as listings show them, one page at a time.

use serde::Serialize;
use utoipa::ToSchema;

pub use read_model::representation::{Price, ProductItem};

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
