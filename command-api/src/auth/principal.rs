//! Who is calling: the bearer token's claims, then the user's current state from their stream.

use std::future::{Ready, ready};

use actix_web::{FromRequest, HttpRequest, dev::Payload};
use domain::{Actor, user::User};
use tokio_postgres::GenericClient;

use platform::token::Claims;

use crate::error::ApiError;

/// The verified claims of the request's bearer token, if it sent one. A token that is present
/// but invalid or expired fails the request with 401 rather than silently becoming anonymous.
#[derive(Debug, Clone)]
pub struct Caller {
    claims: Option<Claims>,
    system: bool,
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
    Ok(Caller {
        claims,
        system: false,
    })
}

impl Caller {
    pub fn anonymous() -> Self {
        Self {
            claims: None,
            system: false,
        }
    }

    /// The service itself (admin bootstrap, seeding): recorded as actor `system`.
    pub fn system() -> Self {
        Self {
            claims: None,
            system: true,
        }
    }

    pub fn claims(&self) -> Option<&Claims> {
        self.claims.as_ref()
    }

    /// The scope idempotency keys are remembered in: one caller cannot replay another's.
    pub fn scope(&self) -> String {
        match (&self.claims, self.system) {
            (Some(claims), _) => claims.sub.to_string(),
            (None, true) => "system".to_owned(),
            (None, false) => "anonymous".to_owned(),
        }
    }

    /// The actor as of now: role and status come from the user's stream, not the token, so a
    /// deactivation or role change takes effect at once. A token for an account that does not
    /// exist is refused.
    pub async fn resolve(&self, client: &impl GenericClient) -> Result<Actor, ApiError> {
        if self.system {
            return Ok(Actor::System);
        }
        let Some(claims) = &self.claims else {
            return Ok(Actor::Anonymous);
        };
        let user = store::load::<User>(client, claims.sub).await?;
        user.state.as_actor().ok_or(ApiError::Unauthenticated)
    }
}
