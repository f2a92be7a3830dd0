//! OTLP/HTTP export of spans (cargo feature `otlp`), switched on at run time by
//! `CC_OTLP__ENDPOINT`.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `CC_OTLP__ENDPOINT` | unset (no export) | collector base URL, e.g. `http://otel-collector:4318`; spans go to `<endpoint>/v1/traces` |
//! | `CC_OTLP__SERVICE_NAME` | the executable's name | `service.name` of the exported spans |
//!
//! A feature rather than always built in: the OpenTelemetry crates and their HTTP client add
//! compile time to every build and test run that does not export anything.

use std::sync::atomic::{AtomicBool, Ordering};

use opentelemetry::{
    Context,
    trace::{
        SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState, TracerProvider as _,
    },
};
use opentelemetry_otlp::{SpanExporter, WithExportConfig};
use opentelemetry_sdk::{Resource, trace::SdkTracerProvider};
use tracing::{Span, Subscriber};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::{layer::SubscriberExt, registry::LookupSpan, util::SubscriberInitExt};

use crate::trace_context::TraceParent;

/// Set once spans are exported, so requests only pay for OpenTelemetry contexts then.
static EXPORTING: AtomicBool = AtomicBool::new(false);

/// Keeps span export running; dropping it flushes the spans not yet sent.
#[derive(Debug, Default)]
pub(crate) struct Exporter {
    provider: Option<SdkTracerProvider>,
}

/// Installs `subscriber` plus, when `CC_OTLP__ENDPOINT` is set, the layer that exports spans.
pub(crate) fn install<S>(subscriber: S) -> Exporter
where
    S: Subscriber + for<'a> LookupSpan<'a> + Send + Sync + 'static,
{
    let endpoint = crate::env::string_or("CC_OTLP__ENDPOINT", "");
    let built = (!endpoint.is_empty()).then(|| provider(&endpoint));
    let (provider, failure) = match built {
        Some(Ok(provider)) => (Some(provider), None),
        Some(Err(error)) => (None, Some(error)),
        None => (None, None),
    };
    let layer = provider
        .as_ref()
        .map(|p| tracing_opentelemetry::layer().with_tracer(p.tracer("cloudcommerce")));
    if subscriber.with(layer).try_init().is_err() {
        return Exporter::default();
    }
    if let Some(error) = failure {
        tracing::error!(%endpoint, error = format!("{error:#}"), "OTLP export is off");
    } else if provider.is_some() {
        EXPORTING.store(true, Ordering::Relaxed);
        tracing::info!(%endpoint, "exporting spans over OTLP/HTTP");
    }
    Exporter { provider }
}

fn provider(endpoint: &str) -> anyhow::Result<SdkTracerProvider> {
    let traces = format!("{}/v1/traces", endpoint.trim_end_matches('/'));
    let service = crate::env::string_or("CC_OTLP__SERVICE_NAME", &executable_name());
    // Built on a plain thread: the blocking HTTP client the batch exporter uses (it sends from
    // its own thread) must not be created inside the async runtime `main` already runs in.
    let exporter = std::thread::spawn(move || {
        SpanExporter::builder()
            .with_http()
            .with_endpoint(traces)
            .build()
    })
    .join()
    .map_err(|_| anyhow::anyhow!("building the OTLP exporter panicked"))??;
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(Resource::builder().with_service_name(service).build())
        .build())
}

fn executable_name() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|path| path.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "cloudcommerce".to_owned())
}

pub(crate) fn join_trace(span: &Span, incoming: Option<TraceParent>) -> TraceParent {
    if !EXPORTING.load(Ordering::Relaxed) {
        return incoming.unwrap_or_else(TraceParent::start);
    }
    if let Some(parent) = incoming.as_ref().and_then(remote_context) {
        // Fails only for a span the filter disabled, which is then exported under no trace.
        let _ = span.set_parent(parent);
    }
    let exported = span.context().span().span_context().clone();
    match incoming {
        Some(caller) => caller,
        None if exported.is_valid() => TraceParent::from_ids(
            &exported.trace_id().to_string(),
            &exported.span_id().to_string(),
            exported.is_sampled(),
        ),
        None => TraceParent::start(),
    }
}

fn remote_context(caller: &TraceParent) -> Option<Context> {
    let flags = if caller.sampled() {
        TraceFlags::SAMPLED
    } else {
        TraceFlags::default()
    };
    let span = SpanContext::new(
        TraceId::from_hex(caller.trace_id()).ok()?,
        SpanId::from_hex(caller.parent_id()).ok()?,
        flags,
        true,
        TraceState::default(),
    );
    Some(Context::new().with_remote_span_context(span))
}

impl Drop for Exporter {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take() {
            // Sends what the batch still holds; a collector that is down costs its timeout.
            let _ = provider.shutdown();
        }
    }
}
