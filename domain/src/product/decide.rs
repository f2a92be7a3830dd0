//! Every rule about who may change a product and how its stock, price and status may move; and
//! the error that refuses a command.

use uuid::Uuid;

use super::{
    command::ProductCommand,
    event::{
        ProductArchived, ProductCreated, ProductDetailsUpdated, ProductEvent, ProductPriceChanged,
        ProductPublished, ProductStockAdjusted, ProductUnpublished,
    },
    state::{MAX_STOCK, ProductState, ProductStatus},
};
use crate::values::{CategorySlug, Description, Money, ProductName, Role};
use crate::{
    actor::Actor,
    refusal::{ErrorKind, Refusal},
};

pub(super) fn decide(
    state: &ProductState,
    actor: &Actor,
    command: ProductCommand,
) -> Result<Vec<ProductEvent>, ProductError> {
    let events = match command {
        ProductCommand::Create {
            product_id,
            seller_id,
            sku,
            name,
            description,
            category,
            price,
            initial_stock,
        } => {
            may_create(actor, seller_id)?;
            if state.status != ProductStatus::NotCreated {
                return Err(ProductError::AlreadyExists);
            }
            if !(0..=MAX_STOCK).contains(&initial_stock) {
                return Err(ProductError::InvalidInitialStock { max: MAX_STOCK });
            }
            let created = ProductCreated {
                product_id,
                seller_id,
                sku,
                name,
                description,
                category,
                price,
                initial_stock,
            };
            vec![created.into()]
        }
        ProductCommand::UpdateDetails {
            name,
            description,
            category,
        } => {
            let current = may_change(state, actor)?;
            if name.is_none() && description.is_none() && category.is_none() {
                return Err(ProductError::NothingToUpdate);
            }
            let updated = ProductDetailsUpdated {
                product_id: current.id,
                name: name.unwrap_or_else(|| current.name.clone()),
                description: description.unwrap_or_else(|| current.description.clone()),
                category: category.unwrap_or_else(|| current.category.clone()),
            };
            let unchanged = &updated.name == current.name
                && &updated.description == current.description
                && &updated.category == current.category;
            if unchanged {
                vec![]
            } else {
                vec![updated.into()]
            }
        }
        ProductCommand::ChangePrice { price } => {
            let current = may_change(state, actor)?;
            if price == current.price {
                vec![]
            } else {
                let changed = ProductPriceChanged {
                    product_id: current.id,
                    previous_price: current.price,
                    price,
                };
                vec![changed.into()]
            }
        }
        ProductCommand::AdjustStock { delta, reason } => {
            let current = may_change(state, actor)?;
            let stock = adjusted_stock(state.stock, delta)?;
            let adjusted = ProductStockAdjusted {
                product_id: current.id,
                delta,
                reason,
                stock,
            };
            vec![adjusted.into()]
        }
        ProductCommand::Publish => {
            let current = may_change(state, actor)?;
            match state.status {
                ProductStatus::Published => vec![],
                _ => vec![
                    ProductPublished {
                        product_id: current.id,
                    }
                    .into(),
                ],
            }
        }
        ProductCommand::Unpublish => {
            let current = may_change(state, actor)?;
            match state.status {
                ProductStatus::Published => {
                    vec![
                        ProductUnpublished {
                            product_id: current.id,
                        }
                        .into(),
                    ]
                }
                _ => vec![],
            }
        }
        ProductCommand::Archive => {
            let current = may_change(state, actor)?;
            vec![
                ProductArchived {
                    product_id: current.id,
                }
                .into(),
            ]
        }
    };
    Ok(events)
}

/// The new stock level after `delta`, kept within `0..=MAX_STOCK`.
fn adjusted_stock(available: i64, delta: i64) -> Result<i64, ProductError> {
    if delta == 0 {
        // A zero adjustment would put a line in the audit trail that explains nothing.
        return Err(ProductError::InvalidDelta);
    }
    // `checked_add` because `delta` comes from a request and may be anywhere in `i64`.
    match available.checked_add(delta) {
        Some(stock) if (0..=MAX_STOCK).contains(&stock) => Ok(stock),
        _ if delta < 0 => Err(ProductError::InsufficientStock {
            available,
            requested: delta.unsigned_abs(),
        }),
        _ => Err(ProductError::StockLimitExceeded { max: MAX_STOCK }),
    }
}

/// A seller lists their own products; admins and the system list for anyone.
fn may_create(actor: &Actor, seller_id: Uuid) -> Result<(), ProductError> {
    match *actor {
        Actor::User { active: false, .. } => Err(ProductError::ActorDeactivated),
        Actor::System
        | Actor::User {
            role: Role::Admin, ..
        } => Ok(()),
        Actor::User {
            id,
            role: Role::Seller,
            ..
        } if id == seller_id => Ok(()),
        Actor::Anonymous | Actor::User { .. } => Err(ProductError::Forbidden),
    }
}

/// The parts of an existing product that commands read.
#[derive(Debug)]
struct Current<'a> {
    id: Uuid,
    name: &'a ProductName,
    description: &'a Description,
    category: &'a CategorySlug,
    price: Money,
}

/// Checks that `actor` may change the existing, unarchived product in `state`.
///
/// Permission is checked before existence, so a seller probing other ids gets `Forbidden` for
/// all of them and cannot tell drafts from free ids. A seller must still hold the seller (or
/// admin) role: a seller demoted to customer can no longer touch their old listings.
fn may_change<'a>(state: &'a ProductState, actor: &Actor) -> Result<Current<'a>, ProductError> {
    let allowed = match *actor {
        Actor::Anonymous => false,
        Actor::User { active: false, .. } => return Err(ProductError::ActorDeactivated),
        Actor::System
        | Actor::User {
            role: Role::Admin, ..
        } => true,
        Actor::User {
            id,
            role: Role::Seller,
            ..
        } => state.seller_id == Some(id),
        Actor::User {
            role: Role::Customer,
            ..
        } => false,
    };
    if !allowed {
        return Err(ProductError::Forbidden);
    }
    let (Some(id), Some(name), Some(description), Some(category), Some(price)) = (
        state.id,
        state.name.as_ref(),
        state.description.as_ref(),
        state.category.as_ref(),
        state.price,
    ) else {
        return Err(ProductError::NotFound);
    };
    if state.status == ProductStatus::Archived {
        return Err(ProductError::Archived);
    }
    Ok(Current {
        id,
        name,
        description,
        category,
        price,
    })
}

/// A refused product command. Messages are safe to show the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProductError {
    #[error("product not found")]
    NotFound,
    #[error("a product with this id already exists")]
    AlreadyExists,
    #[error("this product is archived and can no longer be changed")]
    Archived,
    #[error("your account is deactivated")]
    ActorDeactivated,
    #[error("you are not allowed to change this product")]
    Forbidden,
    #[error("initial stock must be between 0 and {max}")]
    InvalidInitialStock { max: i64 },
    #[error("a stock adjustment must add or remove at least one unit")]
    InvalidDelta,
    #[error("not enough stock: {available} available, {requested} requested")]
    InsufficientStock { available: i64, requested: u64 },
    #[error("stock cannot exceed {max} units")]
    StockLimitExceeded { max: i64 },
    #[error("give at least one of name, description or category to update")]
    NothingToUpdate,
}

impl Refusal for ProductError {
    /// Stable snake_case code; the HTTP layer turns it into the problem `type`.
    fn code(&self) -> &'static str {
        match self {
            ProductError::NotFound => "not_found",
            ProductError::AlreadyExists => "already_exists",
            ProductError::Archived => "archived",
            ProductError::ActorDeactivated => "actor_deactivated",
            ProductError::Forbidden => "forbidden",
            ProductError::InvalidInitialStock { .. } => "invalid_initial_stock",
            ProductError::InvalidDelta => "invalid_delta",
            ProductError::InsufficientStock { .. } => "insufficient_stock",
            ProductError::StockLimitExceeded { .. } => "stock_limit_exceeded",
            ProductError::NothingToUpdate => "nothing_to_update",
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            ProductError::NotFound => ErrorKind::NotFound,
            ProductError::ActorDeactivated | ProductError::Forbidden => ErrorKind::Forbidden,
            ProductError::AlreadyExists
            | ProductError::Archived
            | ProductError::InsufficientStock { .. }
            | ProductError::StockLimitExceeded { .. } => ErrorKind::Conflict,
            ProductError::InvalidInitialStock { .. }
            | ProductError::InvalidDelta
            | ProductError::NothingToUpdate => ErrorKind::Invalid,
        }
    }
}
