//! What every CloudCommerce binary shares: typed settings from the environment, logging, the
//! PostgreSQL pool (over TLS as `sslmode` says), RFC 9457 problem responses, Prometheus metrics, request spans and W3C trace
//! context, the HTTP server scaffold both APIs run in (with their `/docs` page), the patterns
//! their OpenAPI documents give text fields, and graceful shutdown.

pub mod db;
pub mod db_tls;
pub mod docs_page;
pub mod env;
pub mod health;
pub mod http_metrics;
pub mod input_guard;
pub mod openapi;
pub mod openapi_errors;
#[cfg(feature = "otlp")]
mod otlp;
pub mod pool_metrics;
pub mod problem;
pub mod prometheus;
pub mod request_span;
pub mod server;
pub mod shutdown;
pub mod signing_keys;
pub mod telemetry;
pub mod text_patterns;
pub mod token;
pub mod trace_context;
pub mod unrouted;

pub use problem::Problem;
