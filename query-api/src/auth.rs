//! Who is asking: the bearer token's claims (verified with command-api's public keys), whether
//! its session is still live, and the caller's current role from the `users` read model.
//!
//! Why ask about the session on every personal read: a sign-out, a password change or a
//! deactivation ends the user's sessions in the write-side transaction, and their tokens must
//! stop working here at once, not when they expire. `es.session_is_live` tells this role that
//! and nothing else about the session.
//!
//! Why re-read the role: a token lives for minutes, and an admin demoted or deactivated in that
//! time must lose audit access as soon as the projection knows. When the user is not projected
//! yet (a brand-new account), the signed claims are the best knowledge we have.

use std::future::{Ready, ready};

use actix_web::{FromRequest, HttpRequest, dev::Payload};
use platform::token::Claims;
use tokio_postgres::types::Type;
use uuid::Uuid;

use crate::{error::ApiError, read_conn::ReadConn};

/// The verified claims of the request's bearer token, if it sent one. A token that is present
/// but invalid or expired fails the request with 401 rather than silently becoming anonymous.
#[derive(Debug, Clone)]
pub struct Caller {
    claims: Option<Claims>,
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(caller(req))
    }
}

fn caller(req: &HttpRequest) -> Result<Caller, ApiError> {
    let claims = platform::token::bearer_claims(req).map_err(|_| ApiError::Unauthenticated)?;
    Ok(Caller { claims })
}

/// A signed-in caller whose account is active, with their current role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Viewer {
    pub id: Uuid,
    pub admin: bool,
}

impl Caller {
    pub fn is_anonymous(&self) -> bool {
        self.claims.is_none()
    }

    /// The claims, or 401.
    pub fn require(&self) -> Result<&Claims, ApiError> {
        self.claims.as_ref().ok_or(ApiError::Unauthenticated)
    }

    /// The claims of a token whose session is live; 401 when anonymous or the session ended.
    pub async fn require_live(&self, conn: &ReadConn<'_>) -> Result<&Claims, ApiError> {
        let claims = self.require()?;
        // Typed: one round trip (an untyped query prepares first), on every personal read.
        let live = conn
            .query_typed(
                "SELECT es.session_is_live($1)",
                &[(&claims.sid, Type::UUID)],
            )
            .await?
            .first()
            .is_some_and(|row| row.get::<_, bool>(0));
        if live {
            Ok(claims)
        } else {
            Err(ApiError::Unauthenticated)
        }
    }

    /// The caller as the read model knows them now: `None` when anonymous or deactivated, 401
    /// when their session has ended.
    pub async fn viewer(&self, conn: &ReadConn<'_>) -> Result<Option<Viewer>, ApiError> {
        if self.claims.is_none() {
            return Ok(None);
        }
        let claims = self.require_live(conn).await?;
        let row = conn
            .query_opt(
                &conn.sql("SELECT role, active FROM {schema}.users WHERE id = $1"),
                &[&claims.sub],
            )
            .await?;
        let (role, active) = match row {
            Some(row) => (row.get::<_, String>(0), row.get::<_, bool>(1)),
            None => (claims.role.clone(), true),
        };
        Ok(active.then_some(Viewer {
            id: claims.sub,
            admin: role == "admin",
        }))
    }

    /// The viewer, or 401 when anonymous and 403 when deactivated.
    pub async fn require_viewer(&self, conn: &ReadConn<'_>) -> Result<Viewer, ApiError> {
        self.require()?;
        self.viewer(conn)
            .await?
            .ok_or(ApiError::Forbidden("this account is deactivated"))
    }
}
