//! Who is calling: the bearer token's claims, its session, then the user's current state from
//! their stream.

use std::future::{Ready, ready};

use actix_web::{FromRequest, HttpRequest, dev::Payload};
use domain::{Actor, user::User};
use platform::token::Claims;
use store::{PersonalFields, StoreError};
use tokio_postgres::GenericClient;

use crate::error::ApiError;

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

/// A caller with a valid bearer token. Routes that need one take this extractor, so a request
/// without a token gets 401 before anything else runs (no transaction is opened for it).
#[derive(Debug, Clone)]
pub struct SignedIn {
    caller: Caller,
}

impl FromRequest for SignedIn {
    type Error = ApiError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(caller(req).and_then(|caller| {
            if caller.claims.is_some() {
                Ok(SignedIn { caller })
            } else {
                Err(ApiError::Unauthenticated)
            }
        }))
    }
}

impl SignedIn {
    pub fn caller(&self) -> &Caller {
        &self.caller
    }

    /// The token's claims (always present for a signed-in caller).
    pub fn claims(&self) -> Result<&Claims, ApiError> {
        self.caller.claims().ok_or(ApiError::Unauthenticated)
    }
}

impl Caller {
    pub fn claims(&self) -> Option<&Claims> {
        self.claims.as_ref()
    }

    /// The scope idempotency keys are remembered in: one caller cannot replay another's.
    pub fn scope(&self) -> String {
        match &self.claims {
            Some(claims) => claims.sub.to_string(),
            None => "anonymous".to_owned(),
        }
    }

    /// The actor as of now: role and status come from the user's stream, not the token, so a
    /// deactivation or role change takes effect at once. A token whose session has ended, or for
    /// an account that does not exist (or an id that is not a user's) is refused. Folded from
    /// the events alone: a snapshot row is not trusted with who may do what.
    pub async fn resolve(&self, client: &impl GenericClient) -> Result<Actor, ApiError> {
        let Some(claims) = &self.claims else {
            return Ok(Actor::Anonymous);
        };
        if !store::sessions::is_live(client, claims.sid).await? {
            return Err(ApiError::Unauthenticated);
        }
        let user = match store::load_from_events::<User>(client, claims.sub, PersonalFields::Ignore)
            .await
        {
            Ok(user) => user,
            Err(StoreError::WrongStreamType { .. }) => return Err(ApiError::Unauthenticated),
            Err(error) => return Err(error.into()),
        };
        user.state.as_actor().ok_or(ApiError::Unauthenticated)
    }
}
