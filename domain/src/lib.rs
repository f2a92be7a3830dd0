//! CloudCommerce's business rules: the user and product aggregates, their commands and events.
//!
//! Everything here is pure. `decide` holds every rule and may refuse a command; `evolve` folds an
//! event into state and never fails. Anything that needs I/O (who is asking, whether an email is
//! taken) is looked up by the caller and arrives as data.

pub mod actor;
pub mod aggregate;
pub mod event;
pub mod product;
pub mod refusal;
pub mod user;
pub mod values;

#[cfg(test)]
mod testing;

pub use actor::Actor;
pub use aggregate::{Aggregate, SNAPSHOT_KEY};
pub use event::{
    DomainEvent, EventDecodeError, EventPayload, EventTypeInfo, SEALED_FIELD, StoredPayload,
};
pub use product::{
    Product, ProductCommand, ProductError, ProductEvent, ProductState, ProductStatus,
    product_state_json,
};
pub use refusal::{ErrorKind, Refusal};
pub use user::{User, UserCommand, UserError, UserEvent, UserState};
