//! Crypto-shredding: the personal fields of events are sealed with a data key of their user, and
//! destroying that key erases them from every copy at once (the event store, the topics and every
//! downstream copy of a message). Database backups hold the wrapped keys as they were: an
//! erasure reaches them when they expire.
//!
//! - [`MasterKey`]: one per deployment, from a Secret (or a cloud KMS, see `k8s/README.md`); it
//!   only wraps data keys and never touches a payload.
//! - [`DataKey`]: one per user, drawn at registration, stored wrapped in `es.personal_keys`.
//! - [`seal`] / [`open`]: move an event's personal fields into, and back out of, its
//!   `personal` field.
//! - [`Keyring`]: the master key with the table, for the services that hold the Secret.

mod data_key;
mod keyring;
mod master_key;
mod payload;

pub use data_key::DataKey;
pub use keyring::{KeyError, Keyring, destroy};
pub use master_key::{MASTER_KEY_ENV, MasterKey, MasterKeyError};
pub use payload::{OpenError, open, seal};
