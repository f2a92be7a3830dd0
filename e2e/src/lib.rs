//! The three services together, against the real PostgreSQL and broker that `make test` starts:
//! one test database, one pair of topics, and the settings every end-to-end test shares.
//!
//! - [`Stack`]: command-api, the projector and query-api in this process.
//! - [`binary`]: where the services' own binaries are, for tests that run them as processes.

pub mod binary;
pub mod settings;
pub mod stack;

pub use stack::Stack;
