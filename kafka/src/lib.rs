//! The Kafka side of the write path: topic names, the CloudEvents envelope every event travels
//! in, the idempotent producer, and the relay that drains the PostgreSQL outbox into the topics.

pub mod contracts;
pub mod envelope;
pub mod metrics;
pub mod probe;
pub mod producer;
pub mod relay;
pub mod settings;
pub mod topics;

pub use envelope::{DecodedEvent, EnvelopeError};
pub use relay::Relay;
pub use settings::KafkaSettings;
pub use topics::Topics;
