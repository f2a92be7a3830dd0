//! The request span: what a JSON log line written by a handler says about its request, and the
//! `X-Request-Id` every answer carries.

// A failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::{
    io::Write,
    sync::{Arc, Mutex},
};

use actix_web::{App, HttpRequest, HttpResponse, middleware::from_fn, test, web};
use platform::{request_span::RequestContext, trace_context::TraceParent};
use serde_json::Value;
use tracing_subscriber::{fmt::MakeWriter, prelude::*};

const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const CORRELATION: &str = "0197a6c2-5a4e-7cc3-9b1a-3f1d2a6b8c9d";

/// JSON lines written by the subscriber, kept in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Self;
    fn make_writer(&'a self) -> Self {
        self.clone()
    }
}

impl Captured {
    /// The line a handler logged with `message`.
    fn line(&self, message: &str) -> Value {
        let bytes = self.0.lock().unwrap().clone();
        String::from_utf8(bytes)
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str::<Value>(line).unwrap())
            .find(|line| line["message"] == message)
            .unwrap_or_else(|| panic!("no line says {message:?}"))
    }
}

/// The same JSON format `platform::telemetry::init` installs, written to memory, for this
/// thread only (the test runtime polls every future on it).
fn capture_json_logs() -> (Captured, tracing::subscriber::DefaultGuard) {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::registry().with(
        tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_writer(captured.clone()),
    );
    (captured, tracing::subscriber::set_default(subscriber))
}

/// Logs one line inside a nested span, and answers with the context the middleware stored.
async fn handler(req: HttpRequest) -> HttpResponse {
    let context = RequestContext::of(&req).unwrap();
    tracing::info_span!("load_thing", thing = 7).in_scope(|| tracing::warn!("thing loaded"));
    HttpResponse::Ok().body(format!("{} {}", context.correlation_id, context.trace))
}

async fn failing() -> Result<HttpResponse, actix_web::Error> {
    Err(actix_web::error::ErrorBadRequest("no"))
}

#[tokio::test]
async fn a_handlers_log_line_names_the_request_correlation_and_trace_ids_it_was_sent() {
    let (logs, _guard) = capture_json_logs();
    let app = test::init_service(
        App::new()
            .wrap(from_fn(platform::request_span::instrument))
            .route("/things/{id}", web::get().to(handler)),
    )
    .await;
    let request = test::TestRequest::get()
        .uri("/things/7")
        .insert_header(("x-request-id", "edge-7f3a"))
        .insert_header(("x-correlation-id", CORRELATION))
        .insert_header(("traceparent", TRACEPARENT))
        .to_request();
    let response = test::call_service(&app, request).await;
    assert_eq!(response.headers().get("x-request-id").unwrap(), "edge-7f3a");
    let body = test::read_body(response).await;
    assert_eq!(body, format!("{CORRELATION} {TRACEPARENT}").as_bytes());

    let line = logs.line("thing loaded");
    let request_span = &line["spans"][0];
    assert_eq!(request_span["name"], "http_request", "{line}");
    assert_eq!(request_span["request_id"], "edge-7f3a");
    assert_eq!(request_span["correlation_id"], CORRELATION);
    assert_eq!(request_span["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(request_span["route"], "/things/{id}");
    assert_eq!(line["span"]["name"], "load_thing", "{line}");
}

#[tokio::test]
async fn without_valid_headers_the_ids_are_generated_and_agree_with_the_context() {
    let (logs, _guard) = capture_json_logs();
    let app = test::init_service(
        App::new()
            .wrap(from_fn(platform::request_span::instrument))
            .route("/things/{id}", web::get().to(handler))
            .route("/failing", web::get().to(failing)),
    )
    .await;
    let request = test::TestRequest::get()
        .uri("/things/7")
        .insert_header(("x-request-id", "two words"))
        .insert_header(("x-correlation-id", "not-a-uuid"))
        .insert_header(("traceparent", "00-0000-bad"))
        .to_request();
    let response = test::call_service(&app, request).await;
    let request_id = response
        .headers()
        .get("x-request-id")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(uuid::Uuid::parse_str(&request_id).is_ok(), "{request_id}");
    let body = String::from_utf8(test::read_body(response).await.to_vec()).unwrap();
    let (correlation, traceparent) = body.split_once(' ').unwrap();
    let started = TraceParent::parse(traceparent).expect("a started trace");
    assert!(!started.sampled());

    let request_span = &logs.line("thing loaded")["spans"][0];
    assert_eq!(request_span["request_id"], request_id.as_str());
    assert_eq!(request_span["correlation_id"], correlation);
    assert_eq!(request_span["trace_id"], started.trace_id());

    let failed = test::call_service(&app, test::TestRequest::get().uri("/failing").to_request());
    let failed = failed.await;
    assert_eq!(failed.status(), 400);
    assert!(failed.headers().contains_key("x-request-id"));
}
