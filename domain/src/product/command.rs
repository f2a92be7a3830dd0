//! What may be asked of a product.

use uuid::Uuid;

use crate::values::{CategorySlug, Description, Money, ProductName, Sku, StockReason};

/// A request to change a product, already parsed into value types by the API layer.
#[derive(Debug, Clone, PartialEq)]
pub enum ProductCommand {
    /// Lists a new product as a draft. A seller may only create products they sell.
    Create {
        product_id: Uuid,
        seller_id: Uuid,
        sku: Sku,
        name: ProductName,
        description: Description,
        category: CategorySlug,
        price: Money,
        /// `0..=MAX_STOCK`.
        initial_stock: i64,
    },
    /// Changes any of the given fields; `None` keeps the current value.
    UpdateDetails {
        name: Option<ProductName>,
        description: Option<Description>,
        category: Option<CategorySlug>,
    },
    ChangePrice {
        price: Money,
    },
    /// Adds (positive) or removes (negative) units, with a reason for the record.
    AdjustStock {
        delta: i64,
        reason: StockReason,
    },
    Publish,
    Unpublish,
    /// Withdraws the product for good, from draft or published.
    Archive,
}
