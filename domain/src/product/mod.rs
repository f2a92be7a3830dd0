//! The product aggregate: a seller's catalog entry with its details, price, stock and lifecycle
//! (draft → published ⇄ draft → archived, archived being final).
//!
//! The API layer loads the stream, folds it, decides, and appends what `decide` returned:
//!
//! ```
//! use domain::values::{CategorySlug, Currency, Description, Money, ProductName, Role, Sku};
//! use domain::{Actor, Aggregate, Product, ProductCommand, ProductError, ProductEvent, Refusal};
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
mod state;
#[cfg(test)]
mod tests;

pub use self::{
    command::ProductCommand,
    decide::ProductError,
    event::{
        ProductArchived, ProductCreated, ProductDetailsUpdated, ProductEvent, ProductPriceChanged,
        ProductPublished, ProductStockAdjusted, ProductUnpublished,
    },
    state::{MAX_STOCK, ProductState, ProductStatus, product_state_json},
};
use crate::{actor::Actor, aggregate::Aggregate};

/// The product aggregate (a marker: state lives in [`ProductState`]).
#[derive(Debug, Clone, Copy)]
pub struct Product;

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
