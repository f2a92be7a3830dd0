//! What every CloudCommerce binary shares: typed settings from the environment, logging, the
//! PostgreSQL pool, RFC 9457 problem responses, Prometheus metrics and graceful shutdown.

pub mod db;
pub mod env;
pub mod health;
pub mod http_metrics;
pub mod openapi;
pub mod problem;
pub mod prometheus;
pub mod serve;
pub mod shutdown;
pub mod telemetry;
pub mod token;

pub use problem::Problem;
