//! The product aggregate: a seller's catalog entry with its details, price, stock and lifecycle
//! (draft → published ⇄ draft → archived, archived being final).
//!
//! The API layer loads the stream, folds it, decides, and appends what `decide` returned:
//!
//! ```
//! use domain::values::{CategorySlug, Currency, Description, Money, ProductName, Role, Sku};
//! use domain::{Actor, Aggregate, Product, ProductCommand, ProductError, ProductEvent};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let seller_id = uuid::Uuid::now_v7();
//! let seller = Actor::User { id: seller_id, role: Role::Seller, active: true };
//! let history: Vec<ProductEvent> = vec![]; // loaded from the event store
//! let state = Product::fold(&history);
//! let create = ProductCommand::Create {
//!     product_id: uuid::Uuid::now_v7(),
//!     seller_id,
//!     sku: Sku::parse("mug-350")?,
//!     name: ProductName::parse("Ceramic mug")?,
//!     description: Description::parse("")?,
//!     category: CategorySlug::parse("kitchen")?,
//!     price: Money::new(1299, Currency::EUR)?,
//!     initial_stock: 5,
//! };
//! let events = Product::decide(&state, &seller, create)?;
//! let state = events.iter().fold(state, Product::evolve);
//! assert_eq!(state.stock, 5);
//!
//! let too_many = ProductCommand::AdjustStock { delta: -6, reason: "sold".parse()? };
//! let refused = Product::decide(&state, &seller, too_many).unwrap_err();
//! assert_eq!(refused, ProductError::InsufficientStock { available: 5, requested: 6 });
//! assert_eq!(refused.code(), "insufficient_stock");
//! # Ok(())
//! # }
//! ```

mod command;
mod decide;
mod event;
#[cfg(test)]
mod tests;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use command::ProductCommand;
pub use decide::ProductError;
pub use event::{
    ProductArchived, ProductCreated, ProductDetailsUpdated, ProductEvent, ProductPriceChanged,
    ProductPublished, ProductStockAdjusted, ProductUnpublished,
};

use crate::values::{CategorySlug, Description, Money, ProductName, Sku};
use crate::{Actor, Aggregate};

/// The most units of one product we hold. Far above any real warehouse, low enough that no sum
/// of stock levels or deltas comes near `i64` overflow.
pub const MAX_STOCK: i64 = 1_000_000_000;

/// The product aggregate (a marker: state lives in [`ProductState`]).
#[derive(Debug, Clone, Copy)]
pub struct Product;

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

impl Aggregate for Product {
    const STREAM_TYPE: &'static str = "product";
    type State = ProductState;
    type Command = ProductCommand;
    type Event = ProductEvent;
    type Error = ProductError;

    fn decide(
        state: &ProductState,
        actor: &Actor,
        command: ProductCommand,
    ) -> Result<Vec<ProductEvent>, ProductError> {
        decide::decide(state, actor, command)
    }

    fn evolve(mut state: ProductState, event: &ProductEvent) -> ProductState {
        match event {
            ProductEvent::Created(e) => {
                state = ProductState {
                    id: Some(e.product_id),
                    seller_id: Some(e.seller_id),
                    sku: Some(e.sku.clone()),
                    name: Some(e.name.clone()),
                    description: Some(e.description.clone()),
                    category: Some(e.category.clone()),
                    price: Some(e.price),
                    stock: e.initial_stock,
                    status: ProductStatus::Draft,
                };
            }
            ProductEvent::DetailsUpdated(e) => {
                state.name = Some(e.name.clone());
                state.description = Some(e.description.clone());
                state.category = Some(e.category.clone());
            }
            ProductEvent::PriceChanged(e) => state.price = Some(e.price),
            // The event carries the new level, so replay needs no arithmetic that could overflow.
            ProductEvent::StockAdjusted(e) => state.stock = e.stock,
            ProductEvent::Published(_) => state.status = ProductStatus::Published,
            ProductEvent::Unpublished(_) => state.status = ProductStatus::Draft,
            ProductEvent::Archived(_) => state.status = ProductStatus::Archived,
        }
        state
    }
}
