//! Logging setup: human-readable by default, JSON lines when `CC_LOG_FORMAT=json`; with the
//! `otlp` cargo feature and `CC_OTLP__ENDPOINT` set, spans are also exported over OTLP/HTTP
//! (see `otlp.rs`). `RUST_LOG` filters logs and exported spans alike.
//!
//! In JSON mode every line has `timestamp`, `level`, `message`, `target`, the event's own
//! fields at the top level, and the fields of the spans it was logged in under `span` (the
//! innermost) and `spans` (all, outermost first): `request_id`, `correlation_id` and
//! `trace_id` for anything logged while serving an HTTP request (`request_span.rs`).

use tracing::Span;
use tracing_subscriber::{EnvFilter, fmt, prelude::*};

use crate::trace_context::TraceParent;

/// Keeps span export running; dropping it flushes the spans not yet sent. Hold it in `main`
/// for the life of the process. Without the `otlp` feature (or endpoint) it holds nothing.
#[derive(Debug, Default)]
pub struct Telemetry {
    #[cfg(feature = "otlp")]
    _exporter: crate::otlp::Exporter,
}

/// Installs the global subscriber once; later calls (tests spawning several apps) are no-ops.
pub fn init(default_filter: &str) -> Telemetry {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let json = std::env::var("CC_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let json_lines = json.then(|| {
        fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
    });
    let text_lines = (!json).then(|| fmt::layer().with_target(false));
    let subscriber = tracing_subscriber::registry()
        .with(filter)
        .with(json_lines)
        .with(text_lines);
    #[cfg(feature = "otlp")]
    let telemetry = Telemetry {
        _exporter: crate::otlp::install(subscriber),
    };
    #[cfg(not(feature = "otlp"))]
    let telemetry = {
        let _ = subscriber.try_init();
        Telemetry::default()
    };
    telemetry
}

/// The trace a request belongs to: the caller's (`incoming`), else a new one. With OTLP export
/// on, `span` is made a child of the caller's span and a new trace takes the exported span's
/// ids, so the ids in logs, events and the tracing backend are the same.
pub fn join_trace(span: &Span, incoming: Option<TraceParent>) -> TraceParent {
    #[cfg(feature = "otlp")]
    let trace = crate::otlp::join_trace(span, incoming);
    #[cfg(not(feature = "otlp"))]
    let trace = {
        let _ = span;
        incoming.unwrap_or_else(TraceParent::start)
    };
    trace
}
