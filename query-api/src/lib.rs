//! query-api: the read side's HTTP API. Read-only SQL over the projector's read models; it never
//! writes and never talks to Kafka, so it scales on its own.

pub mod routes;
pub mod settings;
pub mod startup;
