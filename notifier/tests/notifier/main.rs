//! Integration tests of the notifier against the real PostgreSQL, the real broker and an
//! in-process SMTP sink (testkit's, the same one `make up` runs).

// A failed unwrap is a failed test, which is what a test helper should do.
#![allow(clippy::unwrap_used)]

mod admin;
mod dead_letters;
mod helpers;
mod mails;
mod process;
mod replicas;
mod retries;
