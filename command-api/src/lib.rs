//! command-api: the write side's HTTP API. Every command is authenticated, decided by the pure
//! domain, and recorded as events plus outbox rows in one PostgreSQL transaction; the relay in
//! the same process publishes the outbox to Kafka.

pub mod auth;
pub mod bootstrap;
pub mod command;
pub mod error;
pub mod housekeeping;
pub mod metrics;
pub mod relay;
pub mod republish;
pub mod request;
pub mod routes;
pub mod seal_personal_data;
pub mod seed;
pub mod service_roles;
pub mod settings;
pub mod startup;
pub mod state;
pub mod validation;
