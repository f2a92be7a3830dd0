//! `ApiError`: every way a command-api request can fail, each mapped to one RFC 9457 problem.
//!
//! What a client caused is a 4xx with a stable `code`; what the database caused (down,
//! restarting, out of connections, a statement timeout) is a 503 with `Retry-After`; only a
//! bug is a 500, and its answer says nothing about internals.

use actix_web::{HttpResponse, ResponseError, http::StatusCode};
use domain::{ErrorKind, values::ValueError};
use platform::Problem;
use store::StoreError;

use crate::command::error::CommandError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Fields of the request body that failed to parse into domain values.
    #[error("validation failed")]
    Validation(Vec<ValueError>),
    /// The command core refused or failed.
    #[error(transparent)]
    Command(#[from] CommandError),
    /// `If-Match` named a version another writer has just replaced.
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
    /// No pooled connection within the acquire timeout, or none could be opened.
    #[error("database unavailable")]
    Unavailable(#[source] deadpool_postgres::PoolError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        ApiError::Command(CommandError::Store(error))
    }
}

/// 503 for password work the service is shedding (the global budget, or a full hash queue):
/// the caller did nothing wrong and may retry after `retry_after_secs`.
pub fn auth_busy(retry_after_secs: u64) -> Problem {
    Problem::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "auth_busy",
        "Too many password checks right now",
    )
    .with_detail("the service is shedding sign-ins and sign-ups; try again shortly")
    .with_retry_after(retry_after_secs)
}

impl From<crate::auth::password::HashError> for ApiError {
    fn from(error: crate::auth::password::HashError) -> Self {
        use crate::auth::password::HashError;
        match error {
            HashError::Busy => {
                metrics::counter!(crate::metrics::PASSWORD_HASHES_SHED).increment(1);
                auth_busy(1).into()
            }
            HashError::Failed(e) => ApiError::Internal(e),
        }
    }
}

impl From<Problem> for ApiError {
    fn from(problem: Problem) -> Self {
        ApiError::Problem(problem)
    }
}

impl From<deadpool_postgres::PoolError> for ApiError {
    fn from(error: deadpool_postgres::PoolError) -> Self {
        ApiError::Unavailable(error)
    }
}

fn refusal_problem(kind: ErrorKind, code: &'static str, message: &str) -> Problem {
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

/// A mailed token that does not (or no longer) prove anything. Expired, used and made-up tokens
/// get the same answer: the caller learns nothing about which it was.
pub fn token_invalid() -> Problem {
    Problem::new(
        StatusCode::GONE,
        "token_invalid",
        "The link is no longer valid",
    )
    .with_detail("it was used already, has expired, or was never issued; ask for a new mail")
}

fn precondition_failed(current: i64) -> Problem {
    Problem::new(
        StatusCode::PRECONDITION_FAILED,
        "precondition_failed",
        "If-Match does not name the current version",
    )
    .with_detail(format!("the current version is {current}"))
}

fn store_problem(error: &StoreError) -> Problem {
    match error {
        StoreError::EmailTaken => Problem::new(
            StatusCode::CONFLICT,
            "email_taken",
            "The email address is already registered",
        ),
        StoreError::SkuTaken => Problem::new(
            StatusCode::CONFLICT,
            "sku_taken",
            "The SKU is already in use",
        ),
        StoreError::VersionConflict => Problem::new(
            StatusCode::CONFLICT,
            "version_conflict",
            "The resource changed concurrently; reload it and try again",
        ),
        StoreError::LastAdmin => Problem::new(
            StatusCode::CONFLICT,
            "last_admin",
            "The last active admin cannot give up the role",
        )
        .with_detail("make another user an admin first"),
        // Another aggregate's id: for this resource type, nothing has that name.
        StoreError::WrongStreamType { .. } => {
            Problem::new(StatusCode::NOT_FOUND, "not_found", "No such resource")
        }
        error if error.is_unavailable() => {
            Problem::unavailable("the database is unavailable or restarting")
        }
        StoreError::Decode(_) | StoreError::Personal(_) | StoreError::Database { .. } => {
            Problem::internal()
        }
    }
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
            ApiError::Command(CommandError::Refused {
                kind,
                code,
                message,
            }) => refusal_problem(*kind, code, message),
            ApiError::Command(CommandError::WrongVersion { current })
            | ApiError::PreconditionFailed { current } => precondition_failed(*current),
            ApiError::Command(CommandError::Store(error)) => store_problem(error),
            ApiError::Command(CommandError::TokenInvalid) => token_invalid(),
            ApiError::Conflict => store_problem(&StoreError::VersionConflict),
            ApiError::Unauthenticated => Problem::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "A valid bearer token is required",
            ),
            ApiError::Problem(problem) => problem.clone(),
            ApiError::Unavailable(_) => Problem::unavailable("the database is busy or unreachable"),
            ApiError::Command(CommandError::MissingSecret(_)) | ApiError::Internal(_) => {
                Problem::internal()
            }
        }
    }
}

/// `error: cause: cause...`, each link printed once.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.to_problem().status_code()
    }

    fn error_response(&self) -> HttpResponse {
        let problem = self.to_problem();
        if problem.status >= 500 {
            let error = chain(self);
            if problem.status == 503 {
                // Shed or unavailable, not broken: the database, the broker or a full hash queue.
                tracing::warn!(error, "request shed with 503");
            } else {
                tracing::error!(error, "request failed");
            }
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
