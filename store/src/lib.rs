//! The write side's PostgreSQL storage: the append-only event log with optimistic concurrency,
//! the transactional outbox the relay drains, email and SKU reservations, password credentials
//! and idempotency keys, sessions and their refresh tokens, the erasure of a person, the tokens the notifier mails, snapshots of long streams, and the
//! migrations that create them.

pub mod admins;
pub mod aggregate;
pub mod credentials;
pub mod erasure;
pub mod error;
pub mod events;
pub mod idempotency;
pub mod mailed_tokens;
pub mod migrations;
pub mod outbox;
pub mod publication;
pub mod reservations;
pub mod sessions;
pub mod throttle;

pub use aggregate::{
    Loaded, PersonalFields, SNAPSHOT_EVERY, load, load_from_events, save_snapshot,
};
pub use error::StoreError;
pub use events::{EventMetadata, NewEvent, RecordedEvent, append, load_stream};

pub use outbox::OUTBOX_CHANNEL;
