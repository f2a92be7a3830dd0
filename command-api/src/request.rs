//! What a command request carries besides its body: correlation and trace context, the
//! `Idempotency-Key`, `If-Match`, and the JSON body kept raw for the idempotency hash.
//!
//! The idempotency hash is an HMAC under a server key, not a plain digest: bodies hold plaintext
//! passwords (sign-up, password change), and a plain SHA-256 kept for 24 hours would let anyone
//! with a copy of the table test guesses at hash speed instead of argon2 speed.

use std::{future::Future, pin::Pin, sync::Arc};

use actix_web::{
    FromRequest, HttpRequest,
    dev::Payload,
    http::{StatusCode, header},
    web,
};
use hmac::{Hmac, Mac};
use platform::signing_keys::SigningKeys;
use platform::{
    Problem,
    request_span::RequestContext,
    trace_context::{TRACEPARENT, TraceParent},
};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use sha2::Sha256;
use uuid::Uuid;

use crate::error::ApiError;

pub use platform::request_span::CORRELATION_ID;
pub const CAUSATION_ID: &str = "x-causation-id";
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
pub const CONSISTENCY_TOKEN: &str = "consistency-token";
const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;

/// The key of the idempotency HMAC, the same on every replica. Registered as app data.
#[derive(Clone)]
pub struct FingerprintKey(Arc<[u8]>);

impl FingerprintKey {
    /// `CC_AUTH__FINGERPRINT_KEY` when set, else a key derived from the signing key (labelled,
    /// so it is never the signing key itself).
    pub fn new(explicit: Option<&SecretString>, keys: &SigningKeys) -> Self {
        match explicit {
            Some(key) => Self(key.expose_secret().as_bytes().into()),
            None => {
                let mut mac = Hmac::<Sha256>::new_from_slice(&keys.secret_seed())
                    .expect("HMAC takes a key of any length");
                mac.update(b"cloudcommerce idempotency fingerprint v1");
                Self(mac.finalize().into_bytes().to_vec().into())
            }
        }
    }
}

impl std::fmt::Debug for FingerprintKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FingerprintKey(..)")
    }
}

/// Request headers that shape how a command is recorded.
#[derive(Debug, Clone)]
pub struct CommandHeaders {
    /// `X-Correlation-Id`, else the one the request span generated: logs and events agree.
    pub correlation_id: Uuid,
    pub causation_id: Option<Uuid>,
    /// The caller's valid `traceparent` as sent, else the one of the trace the request started.
    pub traceparent: Option<String>,
    pub idempotency_key: Option<String>,
    /// The version named by `If-Match`, if sent.
    pub if_match: Option<i64>,
    /// `METHOD path` of the request, part of the idempotency hash.
    pub target: String,
    fingerprint_key: FingerprintKey,
}

impl CommandHeaders {
    pub fn from_request(req: &HttpRequest) -> Result<Self, Problem> {
        // A header we act on is used as sent or refused; never silently treated as absent
        // because it holds bytes we cannot read (an ignored Idempotency-Key would run the
        // command twice).
        let text = |name: &str| -> Result<Option<&str>, Problem> {
            match req.headers().get(name) {
                None => Ok(None),
                Some(value) => value
                    .to_str()
                    .map(|v| Some(v.trim()).filter(|v| !v.is_empty()))
                    .map_err(|_| {
                        Problem::bad_request(
                            "invalid_header",
                            format!("{name} must be visible ASCII"),
                        )
                    }),
            }
        };
        let uuid_header = |name: &'static str| -> Result<Option<Uuid>, Problem> {
            text(name)?
                .map(|v| {
                    Uuid::parse_str(v).map_err(|_| {
                        Problem::bad_request("invalid_header", format!("{name} must be a UUID"))
                    })
                })
                .transpose()
        };
        let idempotency_key = text(IDEMPOTENCY_KEY)?
            .map(|key| {
                if key.len() > MAX_IDEMPOTENCY_KEY_LEN || !key.is_ascii() {
                    Err(Problem::bad_request(
                        "invalid_idempotency_key",
                        "Idempotency-Key must be 1-255 ASCII characters",
                    ))
                } else {
                    Ok(key.to_owned())
                }
            })
            .transpose()?;
        let if_match = text(header::IF_MATCH.as_str())?
            .map(|raw| {
                raw.trim_start_matches("W/")
                    .trim_matches('"')
                    .parse::<i64>()
                    .ok()
                    .filter(|v| *v >= 0)
                    .ok_or_else(|| {
                        Problem::bad_request(
                            "invalid_if_match",
                            "If-Match must be an ETag returned by this API, e.g. \"3\"",
                        )
                    })
            })
            .transpose()?;
        let fingerprint_key = req
            .app_data::<web::Data<FingerprintKey>>()
            .map(|key| FingerprintKey::clone(key))
            .ok_or_else(|| {
                Problem::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "The service is misconfigured",
                )
            })?;
        let context = RequestContext::of(req);
        let traceparent = match &context {
            Some(context) => Some(context.trace.to_string()),
            // An unreadable traceparent is ignored, as W3C trace context asks.
            None => text(TRACEPARENT)
                .ok()
                .flatten()
                .and_then(TraceParent::parse)
                .map(|t| t.to_string()),
        };
        let correlation_id = match uuid_header(CORRELATION_ID)? {
            Some(id) => id,
            None => context.map_or_else(Uuid::now_v7, |c| c.correlation_id),
        };
        Ok(Self {
            correlation_id,
            causation_id: uuid_header(CAUSATION_ID)?,
            traceparent,
            idempotency_key,
            if_match,
            target: format!("{} {}", req.method(), req.path()),
            fingerprint_key,
        })
    }

    /// Keyed hash of what the request asks for: the same key with a different hash is refused.
    pub fn request_hash(&self, body: &[u8]) -> Vec<u8> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.fingerprint_key.0)
            .expect("HMAC takes a key of any length");
        mac.update(self.target.as_bytes());
        mac.update(&[0]);
        mac.update(body);
        mac.finalize().into_bytes().to_vec()
    }
}

/// A JSON body parsed into `T`, with the raw bytes kept for the idempotency hash. Errors are
/// problems: 400 malformed or unknown fields, 413 too large, 415 not JSON.
#[derive(Debug)]
pub struct JsonBody<T> {
    pub value: T,
    pub raw: web::Bytes,
}

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type_ok = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_none_or(|v| {
                let media = v.split(';').next().unwrap_or_default().trim();
                media.eq_ignore_ascii_case("application/json") || media.ends_with("+json")
            });
        let bytes = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            if !content_type_ok {
                return Err(Problem::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported_media_type",
                    "The request body must be JSON",
                )
                .into());
            }
            let raw = bytes.await.map_err(|e| {
                let too_large = e
                    .as_response_error()
                    .status_code()
                    .eq(&StatusCode::PAYLOAD_TOO_LARGE);
                if too_large {
                    Problem::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "body_too_large",
                        "The request body is too large",
                    )
                } else {
                    Problem::bad_request("unreadable_body", "the request body could not be read")
                }
            })?;
            // No body reads as `{}`: a route whose fields are all optional (deactivation by an
            // admin) takes none, and any other says which field is missing.
            let json: &[u8] = if raw.is_empty() { b"{}" } else { &raw };
            let value = serde_json::from_slice(json).map_err(|e| {
                Problem::bad_request("malformed_body", format!("the JSON body is not valid: {e}"))
            })?;
            // Checked after parsing, so a body that is not JSON at all is reported as such.
            if platform::input_guard::json_has_nul_escape(&raw) {
                return Err(Problem::bad_request(
                    "malformed_body",
                    "strings in the JSON body must not contain NUL characters",
                )
                .into());
            }
            Ok(JsonBody { value, raw })
        })
    }
}
