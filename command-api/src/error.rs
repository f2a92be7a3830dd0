//! `ApiError`: every way a command-api request can fail, each mapped to one RFC 9457 problem.

use actix_web::{HttpResponse, ResponseError, http::StatusCode};
use domain::{ErrorKind, values::ValueError};
use platform::Problem;
use store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Fields of the request body that failed to parse into domain values.
    #[error("validation failed")]
    Validation(Vec<ValueError>),
    #[error(transparent)]
    User(#[from] domain::user::UserError),
    #[error(transparent)]
    Product(#[from] domain::product::ProductError),
    #[error(transparent)]
    Store(StoreError),
    /// `If-Match` named a version other than the current one.
    #[error("the resource is at version {current}")]
    PreconditionFailed { current: i64 },
    /// The stream kept changing under us after several retries.
    #[error("too many concurrent changes")]
    Conflict,
    #[error("authentication required")]
    Unauthenticated,
    /// A ready-made problem (bad header, bad idempotency key, wrong credentials...).
    #[error("{0}")]
    Problem(Problem),
    #[error("database unavailable: {0}")]
    Unavailable(#[from] deadpool_postgres::PoolError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        ApiError::Store(error)
    }
}

impl From<Problem> for ApiError {
    fn from(problem: Problem) -> Self {
        ApiError::Problem(problem)
    }
}

fn domain_problem(kind: ErrorKind, code: &'static str, message: String) -> Problem {
    let (status, title) = match kind {
        ErrorKind::NotFound => (StatusCode::NOT_FOUND, "No such resource"),
        ErrorKind::Forbidden => (StatusCode::FORBIDDEN, "Not allowed"),
        ErrorKind::Conflict => (
            StatusCode::CONFLICT,
            "The resource's current state refuses this change",
        ),
        ErrorKind::Invalid => (StatusCode::UNPROCESSABLE_ENTITY, "The command is not valid"),
    };
    Problem::new(status, code, title).with_detail(message)
}

impl ApiError {
    pub fn to_problem(&self) -> Problem {
        match self {
            ApiError::Validation(errors) => {
                let mut problem =
                    Problem::bad_request("validation_failed", "one or more fields are not valid");
                for error in errors {
                    problem = problem.with_field(error.field(), error.to_string());
                }
                problem
            }
            ApiError::User(e) => domain_problem(e.kind(), e.code(), e.to_string()),
            ApiError::Product(e) => domain_problem(e.kind(), e.code(), e.to_string()),
            ApiError::Store(StoreError::EmailTaken) => Problem::new(
                StatusCode::CONFLICT,
                "email_taken",
                "The email address is already registered",
            ),
            ApiError::Store(StoreError::SkuTaken) => Problem::new(
                StatusCode::CONFLICT,
                "sku_taken",
                "The SKU is already in use",
            ),
            ApiError::Store(StoreError::VersionConflict) | ApiError::Conflict => Problem::new(
                StatusCode::CONFLICT,
                "version_conflict",
                "The resource changed concurrently; reload it and try again",
            ),
            ApiError::PreconditionFailed { current } => Problem::new(
                StatusCode::PRECONDITION_FAILED,
                "precondition_failed",
                "If-Match does not name the current version",
            )
            .with_detail(format!("the current version is {current}")),
            ApiError::Unauthenticated => Problem::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "A valid bearer token is required",
            ),
            ApiError::Problem(problem) => problem.clone(),
            ApiError::Unavailable(_) => Problem::unavailable("the database is busy or unreachable"),
            ApiError::Store(_) | ApiError::Internal(_) => Problem::internal(),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.to_problem().status_code()
    }

    fn error_response(&self) -> HttpResponse {
        let problem = self.to_problem();
        if problem.status >= 500 {
            tracing::error!(error = format!("{self:#}"), "request failed");
        }
        let mut response = problem.to_response();
        if matches!(self, ApiError::Unauthenticated) {
            response.headers_mut().insert(
                actix_web::http::header::WWW_AUTHENTICATE,
                actix_web::http::header::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}
