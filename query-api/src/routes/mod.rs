//! HTTP routes of query-api.

pub mod audit;
pub mod categories;
pub mod health;
pub mod openapi;
pub mod products;
pub mod users;
