//! The OpenAPI 3.1 document of query-api, generated from the route annotations.

use platform::openapi::{BearerAuth, FieldErrorDoc, ProblemDoc};
use utoipa::OpenApi;

use crate::routes::{audit, categories, health, products, users};

#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "CloudCommerce query API",
        description = "Read side: catalog listings and search, accounts, audit trails. Every 200 carries a strong ETag (If-None-Match gives 304); anonymous catalog reads are `public, max-age=5, stale-while-revalidate=30`, personal ones `private, no-store`. Any /v1 request may carry `Consistency-Token: <stream id>:<version>` from a command response: it waits (bounded) until that version is applied, else 503 with Retry-After."
    ),
    paths(
        products::list, products::detail, categories::list, users::me,
        audit::product_events, audit::user_events, audit::product_state,
        health::live, health::ready, openapi_json,
    ),
    components(schemas(ProblemDoc, FieldErrorDoc)),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;

/// The document as JSON, served at `/openapi.json` by the server scaffold.
pub fn document() -> serde_json::Value {
    platform::openapi_errors::complete(serde_json::to_value(ApiDoc::openapi()).unwrap_or_default())
}

/// `GET /openapi.json`, as the scaffold serves it; here so the document describes itself.
#[utoipa::path(get, path = "/openapi.json", tag = "operations",
    responses((status = 200, description = "This document")))]
pub async fn openapi_json() -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok().json(document())
}
