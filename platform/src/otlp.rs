//! OTLP/HTTP export of spans (cargo feature `otlp`, on in the released image), switched on at
//! run time by an endpoint, OpenTelemetry's standard variables or this project's own:
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `CC_OTLP__ENDPOINT` | unset | collector base URL, e.g. `http://otel-collector:4318`; spans go to `<endpoint>/v1/traces`; wins over the standard ones |
//! | `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` / `OTEL_EXPORTER_OTLP_ENDPOINT` | unset | OpenTelemetry's: the traces URL as is, or a base URL plus `/v1/traces` |
//! | `OTEL_SDK_DISABLED` | `false` | `true`: no export, whatever the endpoint |
//! | `CC_OTLP__SERVICE_NAME` / `OTEL_SERVICE_NAME` | the executable's name | `service.name` of the exported spans |
//! | `OTEL_RESOURCE_ATTRIBUTES` | unset | more resource attributes (`k8s.pod.name=...,deployment.environment=...`) |
//!
//! Only OTLP over HTTP with protobuf is built in (`OTEL_EXPORTER_OTLP_PROTOCOL` other than
//! `http/protobuf` is refused at start-up with an error in the log); collectors listen for it on
//! 4318.
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
    let endpoint = traces_endpoint(&|name| std::env::var(name).ok());
    let built = endpoint.as_deref().map(provider);
    let endpoint = endpoint.unwrap_or_default();
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

/// Where spans go, from the variables `var` reads (the environment): `None` for no export.
fn traces_endpoint(var: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    let set = |name: &str| var(name).filter(|value| !value.trim().is_empty());
    let base = |url: String| format!("{}/v1/traces", url.trim_end_matches('/'));
    if let Some(url) = set("CC_OTLP__ENDPOINT") {
        return Some(base(url));
    }
    if set("OTEL_SDK_DISABLED").is_some_and(|v| v.trim().eq_ignore_ascii_case("true")) {
        return None;
    }
    set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        .or_else(|| set("OTEL_EXPORTER_OTLP_ENDPOINT").map(base))
}

fn provider(traces: &str) -> anyhow::Result<SdkTracerProvider> {
    let protocol = crate::env::string_or("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf");
    anyhow::ensure!(
        protocol == "http/protobuf",
        "OTEL_EXPORTER_OTLP_PROTOCOL={protocol}: this build exports OTLP over HTTP with protobuf only"
    );
    let traces = traces.to_owned();
    let service = std::env::var("CC_OTLP__SERVICE_NAME")
        .or_else(|_| std::env::var("OTEL_SERVICE_NAME"))
        .ok()
        .filter(|name| !name.is_empty())
        .unwrap_or_else(executable_name);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(vars: &[(&str, &str)]) -> Option<String> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        traces_endpoint(&|name| {
            vars.iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.clone())
        })
    }

    #[test]
    fn the_standard_variables_are_honoured_and_ours_win() {
        assert_eq!(endpoint(&[]), None);
        assert_eq!(
            endpoint(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/")]).as_deref(),
            Some("http://collector:4318/v1/traces")
        );
        assert_eq!(
            endpoint(&[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"),
                (
                    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                    "http://traces:4318/custom"
                ),
            ])
            .as_deref(),
            Some("http://traces:4318/custom")
        );
        assert_eq!(
            endpoint(&[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"),
                ("CC_OTLP__ENDPOINT", "http://ours:4318"),
            ])
            .as_deref(),
            Some("http://ours:4318/v1/traces")
        );
        assert_eq!(
            endpoint(&[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"),
                ("OTEL_SDK_DISABLED", "true"),
            ]),
            None
        );
    }
}
