//! The notifier: reads the user topic like any downstream consumer and mails what users asked
//! for (an email verification token, a password reset token) and notices of password changes.
//! Tokens are drawn here, when the request is read, so no topic or log ever holds one; only
//! their SHA-256 is stored, for command-api to check.
//!
//! - [`consumer`]: one active replica (a PostgreSQL advisory lock, [`leadership`]) assigns
//!   itself every partition from the group's committed offsets and handles messages in order,
//!   retrying in place with [`backoff`].
//! - [`handler`]: one message start to end: [`request`] (what the event asks), [`records`]
//!   (dedupe, recipients, token hashes), [`tokens`], [`compose`] (templates), [`mailer`]
//!   (SMTP), [`dead_letter`] for what can never be handled.
//! - [`startup`] and [`admin`]: `notifier run`, health and metrics ([`metrics`], [`status`]).

pub mod admin;
pub mod backoff;
pub mod compose;
pub mod consumer;
pub mod dead_letter;
pub mod handler;
pub mod leadership;
pub mod mailer;
pub mod metrics;
pub mod records;
pub mod request;
pub mod settings;
pub mod startup;
pub mod status;
pub mod tokens;
