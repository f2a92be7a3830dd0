//! Signed access tokens (JWT, HS256): the user id and role, valid for a short time. command-api
//! issues them ([`TokenIssuer`]); command-api and query-api verify them ([`TokenVerifier`]).

use std::time::Duration;

use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub const ISSUER: &str = "cloudcommerce";
pub const AUDIENCE: &str = "cloudcommerce-api";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// The user id.
    pub sub: Uuid,
    /// The role when the token was issued (`customer`, `seller` or `admin`); commands re-check
    /// the current role from the user's stream.
    pub role: String,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: Uuid,
}

/// Signs access tokens: held by command-api alone.
pub struct TokenIssuer {
    encoding: EncodingKey,
    ttl: Duration,
}

impl std::fmt::Debug for TokenIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenIssuer")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl TokenIssuer {
    pub fn new(secret: &SecretString, ttl: Duration) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret.expose_secret().as_bytes()),
            ttl,
        }
    }

    /// How long an issued token is valid.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    pub fn issue(&self, user_id: Uuid, role: &str) -> anyhow::Result<String> {
        let now = Utc::now().timestamp();
        let claims = Claims {
            sub: user_id,
            role: role.to_owned(),
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            iat: now,
            exp: now + i64::try_from(self.ttl.as_secs()).unwrap_or(900),
            jti: Uuid::new_v4(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| anyhow::anyhow!("signing a token: {e}"))
    }
}

/// Checks access tokens: signature, issuer, audience and expiry (the lifetime is in the token).
pub struct TokenVerifier {
    decoding: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenVerifier").finish_non_exhaustive()
    }
}

impl TokenVerifier {
    pub fn new(secret: &SecretString) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.leeway = 5;
        Self {
            decoding: DecodingKey::from_secret(secret.expose_secret().as_bytes()),
            validation,
        }
    }

    /// The claims of a valid, unexpired token; `None` for anything else.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .ok()
            .map(|data| data.claims)
    }
}

/// A bearer token that is present but not valid (malformed, wrongly signed or expired).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidToken;

/// The verified claims of `req`'s `Authorization: Bearer` token: `Ok(None)` when it sent none,
/// `Err` when it sent one that does not verify, so a bad token is refused, never treated as
/// anonymous. Needs `web::Data<TokenVerifier>` in the app data.
pub fn bearer_claims(req: &actix_web::HttpRequest) -> Result<Option<Claims>, InvalidToken> {
    let Some(value) = req.headers().get(actix_web::http::header::AUTHORIZATION) else {
        return Ok(None);
    };
    let keys = req
        .app_data::<actix_web::web::Data<TokenVerifier>>()
        .ok_or(InvalidToken)?;
    let token = value
        .to_str()
        .ok()
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .ok_or(InvalidToken)?;
    keys.verify(token.trim()).map(Some).ok_or(InvalidToken)
}
