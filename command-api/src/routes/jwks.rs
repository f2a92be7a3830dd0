//! `GET /.well-known/jwks.json`: the public keys access tokens are signed with, for anyone who
//! verifies them (query-api's `CC_AUTH__JWKS` is this document; so may a gateway's be).

use actix_web::{HttpResponse, web};
use platform::signing_keys::Jwks;

/// The public keys that verify access tokens, the signing one first.
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "sessions",
    responses((status = 200, description = "A JWK set of Ed25519 (OKP) public keys, each with its RFC 7638 thumbprint as kid")))]
pub async fn jwks(keys: web::Data<Jwks>) -> HttpResponse {
    // Public, and rotated over minutes: caches may keep it a little while.
    HttpResponse::Ok()
        .insert_header(("cache-control", "public, max-age=300"))
        .json(&**keys)
}
