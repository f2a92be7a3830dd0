//! `ApiError`: every way a query-api request fails, and the problem+json each one becomes.
//!
//! Database trouble that a retry can fix (statement timeout, no pooled connection, a read schema
//! dropped under a cached name) is a 503 with `Retry-After`, not a 500: the query was fine.

use actix_web::{HttpResponse, ResponseError, http::StatusCode};
use platform::Problem;
use tokio_postgres::error::SqlState;

use crate::metrics as m;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A complete problem built by the code that found it (bad parameters, bad cursor, ...).
    #[error("{0}")]
    Problem(Problem),
    #[error("no such resource")]
    NotFound,
    #[error("authentication required")]
    Unauthenticated,
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    #[error("temporarily unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<Problem> for ApiError {
    fn from(problem: Problem) -> Self {
        Self::Problem(problem)
    }
}

impl From<tokio_postgres::Error> for ApiError {
    fn from(error: tokio_postgres::Error) -> Self {
        let code = error.code();
        if code == Some(&SqlState::QUERY_CANCELED) {
            metrics::counter!(m::DB_UNAVAILABLE, "kind" => "timeout").increment(1);
            return Self::Unavailable("the query took too long".to_owned());
        }
        if code == Some(&SqlState::UNDEFINED_TABLE) || code == Some(&SqlState::INVALID_SCHEMA_NAME)
        {
            // The cached schema name was dropped (a rebuild's grace period ended); the cache
            // is refreshed by `ReadConn`, and a retry reads the new schema.
            metrics::counter!(m::DB_UNAVAILABLE, "kind" => "schema").increment(1);
            return Self::Unavailable("the read model is being switched".to_owned());
        }
        // Class 53 (insufficient resources: too many connections) and 57 (operator intervention:
        // shutdown, cannot connect now), or a connection that died: the database is going
        // away or restarting, and a retry against another replica or a moment later succeeds.
        let transient =
            code.is_some_and(|c| c.code().starts_with("53") || c.code().starts_with("57"));
        if transient || error.is_closed() {
            metrics::counter!(m::DB_UNAVAILABLE, "kind" => "connection").increment(1);
            tracing::warn!(error = %error, "database unavailable");
            return Self::Unavailable("the database is unavailable".to_owned());
        }
        Self::Internal(anyhow::Error::new(error).context("querying the read model"))
    }
}

/// SQLSTATE classes of a connection the server refuses: invalid authorization, unknown catalog.
fn refuses_login(code: &str) -> bool {
    code.starts_with("28") || code.starts_with("3D")
}

impl From<deadpool_postgres::PoolError> for ApiError {
    fn from(error: deadpool_postgres::PoolError) -> Self {
        match error {
            // A server that answered with an error code is judged like any query error...
            deadpool_postgres::PoolError::Backend(e)
                if e.code().is_some_and(|c| !refuses_login(c.code())) =>
            {
                e.into()
            }
            // ...except a refused login or a missing database (class 28, 3D): our settings or the
            // database's roles are wrong, which no client can fix, so it is an outage (503), and
            // loud.
            deadpool_postgres::PoolError::Backend(e) if e.code().is_some() => {
                metrics::counter!(m::DB_UNAVAILABLE, "kind" => "login").increment(1);
                tracing::error!(error = %e, "the database refuses our login");
                Self::Unavailable("the database is unavailable".to_owned())
            }
            other => {
                metrics::counter!(m::DB_UNAVAILABLE, "kind" => "pool").increment(1);
                tracing::warn!(error = %other, "no database connection");
                Self::Unavailable("the database is unavailable or busy".to_owned())
            }
        }
    }
}

impl ApiError {
    pub fn problem(&self) -> Problem {
        match self {
            Self::Problem(problem) => problem.clone(),
            Self::NotFound => Problem::new(StatusCode::NOT_FOUND, "not_found", "No such resource"),
            Self::Unauthenticated => Problem::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "A valid bearer token is required",
            )
            .with_detail("send Authorization: Bearer <token from the command API>"),
            Self::Forbidden(why) => {
                Problem::new(StatusCode::FORBIDDEN, "forbidden", "Not allowed").with_detail(*why)
            }
            Self::Unavailable(why) => Problem::unavailable(why.clone()),
            Self::Internal(_) => Problem::internal(),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.problem().status_code()
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::Internal(error) = self {
            tracing::error!(error = format!("{error:#}"), "request failed");
        }
        let mut response = self.problem().to_response();
        if matches!(self, Self::Unauthenticated) {
            response.headers_mut().insert(
                actix_web::http::header::WWW_AUTHENTICATE,
                actix_web::http::header::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}
