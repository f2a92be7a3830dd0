//! Signed access tokens (JWT, EdDSA with a `kid`): the user id and role, valid for a short time.
//! command-api issues them with its private key ([`TokenIssuer`]); command-api and query-api
//! verify them with public keys only ([`TokenVerifier`]), so the read side cannot mint a token.
//! Only `EdDSA` is accepted, whatever a token's header claims, and only under a listed `kid`.

use std::{collections::HashMap, time::Duration};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::signing_keys::{Jwks, SigningKeys};

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
    /// The session this token belongs to: both APIs refuse the token once it has ended
    /// (sign-out, refresh-token reuse, a password, role or status change).
    pub sid: Uuid,
}

/// Signs access tokens: held by command-api alone.
pub struct TokenIssuer {
    encoding: EncodingKey,
    kid: String,
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
    /// Signs with the first of `keys`.
    pub fn new(keys: &SigningKeys, ttl: Duration) -> anyhow::Result<Self> {
        let (kid, der) = keys.signer()?;
        Ok(Self {
            encoding: EncodingKey::from_ed_der(&der),
            kid,
            ttl,
        })
    }

    /// How long an issued token is valid.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    pub fn issue(&self, user_id: Uuid, role: &str, session_id: Uuid) -> anyhow::Result<String> {
        let now = Utc::now().timestamp();
        let claims = Claims {
            sub: user_id,
            role: role.to_owned(),
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            iat: now,
            exp: now + i64::try_from(self.ttl.as_secs()).unwrap_or(900),
            jti: Uuid::new_v4(),
            sid: session_id,
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, &claims, &self.encoding)
            .map_err(|e| anyhow::anyhow!("signing a token: {e}"))
    }
}

/// Checks access tokens: signature under a known `kid`, issuer, audience and expiry (the
/// lifetime is in the token).
pub struct TokenVerifier {
    keys: HashMap<String, DecodingKey>,
    validation: Validation,
}

impl std::fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenVerifier").finish_non_exhaustive()
    }
}

impl TokenVerifier {
    /// Accepts tokens signed by any key of `jwks`.
    pub fn new(jwks: &Jwks) -> anyhow::Result<Self> {
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.leeway = 5;
        let mut keys = HashMap::new();
        for jwk in &jwks.keys {
            let x = URL_SAFE_NO_PAD
                .decode(&jwk.x)
                .map_err(|e| anyhow::anyhow!("key {}: {e}", jwk.kid))?;
            keys.insert(jwk.kid.clone(), DecodingKey::from_ed_der(&x));
        }
        Ok(Self { keys, validation })
    }

    /// The claims of a valid, unexpired token; `None` for anything else.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        let kid = jsonwebtoken::decode_header(token).ok()?.kid?;
        let key = self.keys.get(&kid)?;
        jsonwebtoken::decode::<Claims>(token, key, &self.validation)
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

#[cfg(test)]
mod tests {
    use secrecy::SecretString;

    use super::*;

    fn keys(pems: &[String]) -> SigningKeys {
        SigningKeys::from_pem_bundle(&SecretString::from(pems.join("\n"))).unwrap()
    }

    #[test]
    fn a_token_verifies_under_its_kid_and_not_under_another_key_set() {
        let old = SigningKeys::generate_pem().unwrap();
        let new = SigningKeys::generate_pem().unwrap();
        let issuer =
            TokenIssuer::new(&keys(std::slice::from_ref(&old)), Duration::from_secs(60)).unwrap();
        let token = issuer
            .issue(Uuid::now_v7(), "admin", Uuid::now_v7())
            .unwrap();
        // Mid-rotation: the new key signs, the old one still verifies.
        let both = TokenVerifier::new(&keys(&[new.clone(), old]).jwks()).unwrap();
        assert_eq!(both.verify(&token).unwrap().role, "admin");
        let only_new = TokenVerifier::new(&keys(&[new]).jwks()).unwrap();
        assert!(only_new.verify(&token).is_none());
    }

    #[test]
    fn hs256_and_unsigned_tokens_are_refused_even_with_a_known_kid() {
        let keys = keys(&[SigningKeys::generate_pem().unwrap()]);
        let jwks = keys.jwks();
        let verifier = TokenVerifier::new(&jwks).unwrap();
        let now = Utc::now().timestamp();
        let claims = Claims {
            sub: Uuid::now_v7(),
            role: "admin".to_owned(),
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            iat: now,
            exp: now + 60,
            jti: Uuid::new_v4(),
            sid: Uuid::now_v7(),
        };
        // Signed with the public key as an HMAC secret: the classic algorithm confusion.
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(jwks.keys[0].kid.clone());
        let forged = jsonwebtoken::encode(
            &header,
            &claims,
            &EncodingKey::from_secret(jwks.keys[0].x.as_bytes()),
        )
        .unwrap();
        assert!(verifier.verify(&forged).is_none());
        let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());
        let kid = &jwks.keys[0].kid;
        let head = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"none","kid":"{kid}"}}"#));
        assert!(verifier.verify(&format!("{head}.{body}.")).is_none());
    }
}
