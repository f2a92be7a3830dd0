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
    /// `Prefer: return=representation`: answer with the resource's new state.
    pub prefer_representation: bool,
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
        // An empty value counts as no header (an empty list, as RFC 9110 reads `#` rules); the
        // documents' patterns say so too.
        let idempotency_key = text(IDEMPOTENCY_KEY)?
            .map(|key| {
                if is_idempotency_key(key) {
                    Ok(key.to_owned())
                } else {
                    Err(Problem::bad_request(
                        "invalid_idempotency_key",
                        "Idempotency-Key must be 1-255 visible ASCII characters",
                    ))
                }
            })
            .transpose()?;
        let if_match = text(header::IF_MATCH.as_str())?
            .map(|raw| {
                parse_version_tag(raw).ok_or_else(|| {
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
            prefer_representation: req
                .headers()
                .get("prefer")
                .and_then(|v| v.to_str().ok())
                .is_some_and(crate::command::representation::asks_for_representation),
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

/// An integer field of a JSON body as JSON Schema's `integer` reads it: `2599` and `2599.0` are
/// the same number (a value with a zero fraction is an integer), anything else is refused.
/// Fields use it with `#[serde(deserialize_with = "json_integer")]`.
pub fn json_integer<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    use serde::{Deserialize, de::Error};
    // Only up to 2^53 in magnitude: past it an f64 also stands for integer literals too large
    // for an i64 that were rounded on the way in (-9223372036854775809 reads as -2^63).
    const EXACT: f64 = 9_007_199_254_740_992.0;
    match serde_json::Number::deserialize(deserializer)? {
        n if n.is_i64() => n.as_i64().ok_or_else(|| D::Error::custom("not an integer")),
        n if n.is_u64() => Err(D::Error::custom(format!("{n} is out of range"))),
        n => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() <= EXACT => Ok(f as i64),
            _ => Err(D::Error::custom(format!("{n} is not an integer in range"))),
        },
    }
}

/// What the OpenAPI document's `Idempotency-Key` pattern `^[!-~]{1,255}$` says: 1-255 visible
/// ASCII characters, no spaces.
fn is_idempotency_key(key: &str) -> bool {
    (1..=MAX_IDEMPOTENCY_KEY_LEN).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic())
}

/// The version in an entity tag this API hands out, `"3"` or `W/"3"`: 1-18 digits in quotes, as
/// the document's `If-Match` pattern says. Anything else is not a tag of ours.
fn parse_version_tag(raw: &str) -> Option<i64> {
    let quoted = raw.strip_prefix("W/").unwrap_or(raw);
    let digits = quoted.strip_prefix('"')?.strip_suffix('"')?;
    if digits.is_empty() || digits.len() > 18 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_tags_are_quoted_digits_only() {
        assert_eq!(parse_version_tag("\"3\""), Some(3));
        assert_eq!(parse_version_tag("W/\"0\""), Some(0));
        assert_eq!(parse_version_tag("\"000000000000000007\""), Some(7));
        for bad in [
            "3",
            "\"\"",
            "\"-1\"",
            "\"+1\"",
            "\"1 \"",
            "\"3",
            "w/\"3\"",
            "\"1234567890123456789\"",
            "",
        ] {
            assert_eq!(parse_version_tag(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn integers_may_be_written_with_a_zero_fraction() {
        #[derive(serde::Deserialize)]
        struct Body {
            #[serde(deserialize_with = "json_integer")]
            n: i64,
        }
        let parse = |json: &str| serde_json::from_str::<Body>(json).map(|b| b.n);
        assert_eq!(parse(r#"{"n": 2599}"#).ok(), Some(2599));
        assert_eq!(parse(r#"{"n": 2599.0}"#).ok(), Some(2599));
        assert_eq!(parse(r#"{"n": -2.0}"#).ok(), Some(-2));
        assert_eq!(parse(r#"{"n": -9223372036854775808}"#).ok(), Some(i64::MIN));
        for bad in [
            r#"{"n": 2.5}"#,
            r#"{"n": 1e300}"#,
            r#"{"n": 9223372036854775808}"#,
            r#"{"n": "1"}"#,
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn idempotency_keys_are_visible_ascii_without_spaces() {
        assert!(is_idempotency_key("order-42:retry"));
        assert!(is_idempotency_key(&"k".repeat(255)));
        for bad in ["", "a b", "caf\u{e9}", "tab\there", &"k".repeat(256)] {
            assert!(!is_idempotency_key(bad), "{bad:?}");
        }
    }
}
