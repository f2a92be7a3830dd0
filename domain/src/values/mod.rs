//! Value types that cannot hold a bad value: parse once at the edge, trust everywhere after.
//!
//! Each type's `parse`/`new` is the only way in, and serde deserialises *through* it, so a stored
//! event or a request body cannot smuggle in what `parse` would refuse. JSON Schemas describe the
//! canonical (normalised) form, which is what serialisation writes; `parse` is more lenient about
//! input (it trims, and case-folds where the type says so).

mod account;
mod catalog;
mod currency;
mod error;
mod money;
mod text;

pub use self::{
    account::{DisplayName, Email, Password, Role},
    catalog::{CategorySlug, Description, ProductName, Sku, StockReason},
    currency::Currency,
    error::ValueError,
    money::Money,
};
