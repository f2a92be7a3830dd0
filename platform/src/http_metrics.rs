//! Middleware that records `http_request_duration_seconds{method, route, status}` for every request.

use std::time::Instant;

use actix_web::{
    Error,
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    middleware::Next,
};

/// Histogram of request durations by route pattern (not raw path, to keep cardinality bounded).
pub const HTTP_REQUEST_DURATION: &str = "http_request_duration_seconds";

pub async fn record(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let method = req.method().to_string();
    let route = req
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let result = next.call(req).await;
    let status = match &result {
        Ok(response) => response.status().as_u16(),
        Err(error) => error.as_response_error().status_code().as_u16(),
    };
    metrics::histogram!(
        HTTP_REQUEST_DURATION,
        "method" => method,
        "route" => route,
        "status" => status.to_string(),
    )
    .record(started.elapsed().as_secs_f64());
    result
}
