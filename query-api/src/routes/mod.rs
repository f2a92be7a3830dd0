//! HTTP routes of query-api.

pub mod health;
