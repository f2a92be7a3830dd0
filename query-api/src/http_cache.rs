//! HTTP caching of every answer: a strong `ETag`, `If-None-Match` → 304, and `Cache-Control` /
//! `Vary` saying who may keep a copy.
//!
//! A single resource (a product, an account) is tagged with its stream version, `"<version>"`:
//! the same tag command-api's `If-Match` takes, so a read followed by a conditional write needs
//! no translation, and one version of a resource has one representation. A collection (a
//! listing page, an audit page) is tagged with a hash of its body instead: its identity is its
//! rows *and* their order, which no single version names. Hashing a few kilobytes costs
//! microseconds.

use actix_web::{
    HttpRequest, HttpResponse,
    http::header::{self, HeaderValue},
};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::{error::ApiError, metrics as m};

/// Anonymous catalog reads: shared caches and CDNs may keep them briefly, then revalidate with
/// the `ETag` in the background. Five seconds bounds how stale a listing can look.
pub const PUBLIC: &str = "public, max-age=5, stale-while-revalidate=30";
/// Personal answers (the caller's account, audits, unpublished products): kept by no cache at
/// all, the browser's included.
pub const PRIVATE: &str = "private, no-store";

/// Who may cache an answer, and what it depends on besides the URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CachePolicy {
    /// The same for everyone. A request carrying a `Consistency-Token` must not be answered
    /// from a copy made before the write it waits for, hence `Vary: Consistency-Token`.
    Public,
    /// The same for everyone *in this case*, but the route answers differently for other
    /// tokens (a product page shows drafts to their seller).
    PublicVaryingByToken,
    /// Depends on the token.
    Private,
}

impl CachePolicy {
    fn cache_control(self) -> &'static str {
        match self {
            Self::Public | Self::PublicVaryingByToken => PUBLIC,
            Self::Private => PRIVATE,
        }
    }

    fn vary(self) -> &'static str {
        match self {
            Self::Public => "Consistency-Token",
            Self::PublicVaryingByToken => "Authorization, Consistency-Token",
            Self::Private => "Authorization",
        }
    }
}

/// A collection as JSON tagged with a hash of its body, or 304 when `If-None-Match` names it.
pub fn respond(
    req: &HttpRequest,
    route: &'static str,
    policy: CachePolicy,
    body: &impl Serialize,
) -> Result<HttpResponse, ApiError> {
    let bytes = serde_json::to_vec(body).map_err(anyhow::Error::from)?;
    let etag = etag_of(&bytes);
    Ok(answer(req, route, policy, bytes, &etag))
}

/// One resource as JSON tagged `"<version>"`, or 304 when `If-None-Match` names that version.
pub fn respond_versioned(
    req: &HttpRequest,
    route: &'static str,
    policy: CachePolicy,
    body: &impl Serialize,
    version: i64,
) -> Result<HttpResponse, ApiError> {
    let bytes = serde_json::to_vec(body).map_err(anyhow::Error::from)?;
    Ok(answer(req, route, policy, bytes, &format!("\"{version}\"")))
}

fn answer(
    req: &HttpRequest,
    route: &'static str,
    policy: CachePolicy,
    bytes: Vec<u8>,
    etag: &str,
) -> HttpResponse {
    let mut response = if matches_any(req.headers().get(header::IF_NONE_MATCH), etag) {
        metrics::counter!(m::NOT_MODIFIED, "route" => route).increment(1);
        HttpResponse::NotModified().finish()
    } else {
        HttpResponse::Ok()
            .content_type("application/json")
            .body(bytes)
    };
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(etag) {
        headers.insert(header::ETAG, value);
    }
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(policy.cache_control()),
    );
    headers.insert(header::VARY, HeaderValue::from_static(policy.vary()));
    response
}

/// A strong entity tag: the first 128 bits of the body's SHA-256, quoted.
pub fn etag_of(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    format!("\"{}\"", hex::encode(&digest[..16]))
}

/// RFC 9110 §13.1.2: `*` or any listed tag, compared weakly (a `W/` prefix is ignored).
fn matches_any(if_none_match: Option<&HeaderValue>, etag: &str) -> bool {
    let Some(value) = if_none_match.and_then(|v| v.to_str().ok()) else {
        return false;
    };
    value.split(',').map(str::trim).any(|candidate| {
        candidate == "*" || candidate.strip_prefix("W/").unwrap_or(candidate) == etag
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_accepts_lists_weak_tags_and_star() {
        let tag = etag_of(b"{}");
        let header = |v: &str| HeaderValue::from_str(v).expect("valid header");
        assert!(matches_any(Some(&header(&tag)), &tag));
        assert!(matches_any(Some(&header(&format!("\"x\", W/{tag}"))), &tag));
        assert!(matches_any(Some(&header("*")), &tag));
        assert!(!matches_any(Some(&header("\"other\"")), &tag));
        assert!(!matches_any(None, &tag));
    }
}
