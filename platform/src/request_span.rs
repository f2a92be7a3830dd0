//! One tracing span per HTTP request, named `http_request`, with the `request_id`,
//! `correlation_id` and `trace_id` of the request, so every log line written while serving it
//! carries them (in JSON mode under `span` / `spans`). Both APIs wrap their apps in
//! [`instrument`].
//!
//! - `request_id`: an incoming `X-Request-Id` of 1-128 visible ASCII characters (a proxy's or
//!   a client's), else a new UUID; echoed in the response's `X-Request-Id`.
//! - `correlation_id`: an incoming `X-Correlation-Id` UUID, else a new one; command-api records
//!   this same value in the events the request appends ([`RequestContext::of`]).
//! - `trace_id`: the trace id of a valid W3C `traceparent`, else the one of a trace started
//!   here ([`crate::telemetry::join_trace`], which also links the span to OTLP export).
//!
//! Why not tracing-actix-web's `RootSpanBuilder`: its request id ignores the incoming header,
//! and the rest (a span with a few fields around the service call) is these forty lines.

use std::time::Instant;

use actix_web::{
    Error, HttpMessage, HttpRequest,
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    error::InternalError,
    http::header::{HeaderName, HeaderValue},
    middleware::Next,
};
use tracing::Instrument;
use uuid::Uuid;

use crate::trace_context::{TRACEPARENT, TraceParent};

pub const REQUEST_ID: &str = "x-request-id";
pub const CORRELATION_ID: &str = "x-correlation-id";
const MAX_REQUEST_ID_LEN: usize = 128;

/// What the span says about a request; handlers read it with [`RequestContext::of`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestContext {
    pub request_id: String,
    pub correlation_id: Uuid,
    /// The caller's `traceparent` if it sent a valid one, else the trace this request started:
    /// what events and downstream calls carry on.
    pub trace: TraceParent,
}

impl RequestContext {
    /// The context [`instrument`] stored for this request (none outside the middleware).
    pub fn of(req: &HttpRequest) -> Option<Self> {
        req.extensions().get::<Self>().cloned()
    }
}

/// Middleware: runs the rest of the request inside its `http_request` span and answers with
/// its `X-Request-Id`, error responses included.
pub async fn instrument(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    let request_id = header(REQUEST_ID)
        .filter(|id| is_valid_request_id(id))
        .map_or_else(|| Uuid::now_v7().to_string(), str::to_owned);
    let correlation_id = header(CORRELATION_ID)
        .and_then(|v| Uuid::parse_str(v).ok())
        .unwrap_or_else(Uuid::now_v7);
    let incoming = header(TRACEPARENT).and_then(TraceParent::parse);
    let span = tracing::info_span!(
        "http_request",
        method = %req.method(),
        route = req.match_pattern().as_deref().unwrap_or("unmatched"),
        request_id = %request_id,
        correlation_id = %correlation_id,
        trace_id = tracing::field::Empty,
    );
    let trace = crate::telemetry::join_trace(&span, incoming);
    span.record("trace_id", trace.trace_id());
    let echoed = HeaderValue::from_str(&request_id).ok();
    req.extensions_mut().insert(RequestContext {
        request_id,
        correlation_id,
        trace,
    });
    let started = Instant::now();
    let served = async move {
        let result = next.call(req).await;
        let status = match &result {
            Ok(response) => response.status(),
            Err(error) => error.as_response_error().status_code(),
        };
        tracing::debug!(
            status = status.as_u16(),
            elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
            "request served"
        );
        let Some(value) = echoed else {
            return result;
        };
        let name = HeaderName::from_static(REQUEST_ID);
        match result {
            Ok(mut response) => {
                response.headers_mut().insert(name, value);
                Ok(response)
            }
            // An inner middleware's error (handlers' errors are responses by now): rendered
            // here, so its answer carries the header too. Holding a clone of the request to
            // build a `ServiceResponse` instead would break routing, which needs it unshared.
            Err(error) => {
                let mut answer = error.error_response();
                answer.headers_mut().insert(name, value);
                Err(InternalError::from_response(error, answer).into())
            }
        }
    };
    served.instrument(span).await
}

/// Visible ASCII only: the id is logged and echoed, so no spaces, control characters or
/// anything a log parser or a header could trip on.
fn is_valid_request_id(id: &str) -> bool {
    (1..=MAX_REQUEST_ID_LEN).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_graphic())
}
