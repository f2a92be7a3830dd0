//! RFC 9457 `application/problem+json` bodies: the one error shape every HTTP service returns.

use actix_web::{
    HttpRequest, HttpResponse, ResponseError,
    error::{JsonPayloadError, PathError, QueryPayloadError},
    http::{StatusCode, header},
};
use serde::Serialize;

/// Media type of every error body.
pub const CONTENT_TYPE: &str = "application/problem+json";

/// One problem. `code` is stable and machine-readable; `type` is derived from it.
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Stable error code, e.g. `validation_failed`, `version_conflict`.
    pub code: &'static str,
    /// Field-level messages for validation problems.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Seconds after which a retry may succeed (also sent as `Retry-After`).
    #[serde(skip)]
    pub retry_after: Option<u64>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl Problem {
    pub fn new(status: StatusCode, code: &'static str, title: impl Into<String>) -> Self {
        Self {
            type_uri: format!("urn:cloudcommerce:problem:{code}"),
            title: title.into(),
            status: status.as_u16(),
            detail: None,
            code,
            errors: Vec::new(),
            retry_after: None,
        }
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    pub fn with_field(mut self, field: impl Into<String>, message: impl Into<String>) -> Self {
        self.errors.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
        self
    }

    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// 400 for a request whose content is wrong.
    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, "The request is not valid").with_detail(detail)
    }

    /// 500 that says nothing about internals; the cause goes to the log only.
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "Something went wrong on our side",
        )
    }

    /// 503 for a dependency that is down or too busy; the client may retry.
    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "service_unavailable",
            "The service is temporarily unavailable",
        )
        .with_detail(detail)
        .with_retry_after(1)
    }

    pub fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    pub fn to_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CONTENT_TYPE, CONTENT_TYPE));
        if let Some(seconds) = self.retry_after {
            response.insert_header((header::RETRY_AFTER, seconds.to_string()));
        }
        response.json(self)
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.title, self.code)
    }
}

impl ResponseError for Problem {
    fn status_code(&self) -> StatusCode {
        Problem::status_code(self)
    }

    fn error_response(&self) -> HttpResponse {
        self.to_response()
    }
}

/// Turns actix's JSON body errors (malformed, unknown field, too large, wrong content type)
/// into problems instead of its plain-text defaults.
pub fn json_error_handler(err: JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let problem = match &err {
        JsonPayloadError::OverflowKnownLength { limit, .. }
        | JsonPayloadError::Overflow { limit } => Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            "The request body is too large",
        )
        .with_detail(format!("bodies are limited to {limit} bytes")),
        JsonPayloadError::ContentType => Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "The request body must be JSON",
        )
        .with_detail("send Content-Type: application/json"),
        JsonPayloadError::Deserialize(e) => {
            Problem::bad_request("malformed_body", format!("the JSON body is not valid: {e}"))
        }
        other => Problem::bad_request("malformed_body", other.to_string()),
    };
    actix_web::error::InternalError::from_response(err, problem.to_response()).into()
}

/// Query-string errors name the parameter that is wrong.
pub fn query_error_handler(err: QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let problem = Problem::bad_request("invalid_query", format!("invalid query string: {err}"));
    actix_web::error::InternalError::from_response(err, problem.to_response()).into()
}

/// Path errors (e.g. an id that is not a UUID) are 404s: no resource has that name.
pub fn path_error_handler(err: PathError, _req: &HttpRequest) -> actix_web::Error {
    let problem = Problem::new(StatusCode::NOT_FOUND, "not_found", "No such resource")
        .with_detail(format!("invalid path: {err}"));
    actix_web::error::InternalError::from_response(err, problem.to_response()).into()
}

/// Default service for unknown routes: a problem, not an empty 404.
pub async fn not_found() -> HttpResponse {
    Problem::new(StatusCode::NOT_FOUND, "not_found", "No such resource").to_response()
}

/// Registers the problem-producing error handlers for path and query extractors; every service
/// calls it with `App::configure` so no extractor error escapes as plain text.
pub fn extractor_configs(config: &mut actix_web::web::ServiceConfig) {
    config
        .app_data(actix_web::web::PathConfig::default().error_handler(path_error_handler))
        .app_data(actix_web::web::QueryConfig::default().error_handler(query_error_handler));
}
