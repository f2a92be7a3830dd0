//! Kafka as a transport: topic names, the CloudEvents envelope every event travels in, the
//! producer and client settings, topic creation and a broker probe. It knows nothing of where
//! events are stored: publishers hand it an [`envelope::Outgoing`] view.

pub mod admin;
pub mod envelope;
pub mod probe;
pub mod producer;
pub mod settings;
pub mod topics;

pub use envelope::{DecodedEvent, EnvelopeError, Outgoing};
pub use settings::KafkaSettings;
pub use topics::Topics;
