//! HTTP routes of command-api.

pub mod health;
pub mod openapi;
pub mod products;
pub mod sessions;
pub mod users;
