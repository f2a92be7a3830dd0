//! query-api: the read side's HTTP API. Read-only SQL over the projector's read models; it never
//! writes and never talks to Kafka, so it scales on its own.

pub mod auth;
pub mod consistency;
pub mod error;
pub mod http_cache;
pub mod listing;
pub mod metrics;
pub mod params;
pub mod read_conn;
pub mod routes;
pub mod settings;
pub mod startup;
pub mod state;
