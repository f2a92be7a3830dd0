//! The OpenAPI 3.1 document of query-api, generated from the route annotations.

use actix_web::HttpResponse;
use serde::Serialize;
use utoipa::{
    Modify, OpenApi, ToSchema,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};

use crate::routes::{audit, categories, health, products, users};

/// RFC 9457 problem document (`application/problem+json`).
#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemDoc {
    #[serde(rename = "type")]
    #[schema(example = "urn:cloudcommerce:problem:invalid_query")]
    pub type_uri: String,
    pub title: String,
    pub status: u16,
    pub detail: Option<String>,
    /// Stable machine-readable code, e.g. `invalid_query`, `invalid_cursor`, `not_yet_consistent`.
    pub code: String,
    /// The parameters that were wrong.
    pub errors: Option<Vec<FieldErrorDoc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FieldErrorDoc {
    #[schema(example = "limit")]
    pub field: String,
    pub message: String,
}

#[derive(Debug)]
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "CloudCommerce query API",
        description = "Read side: catalog listings and search, accounts, audit trails. Every 200 carries a strong ETag (If-None-Match gives 304); anonymous catalog reads are `public, max-age=5, stale-while-revalidate=30`, personal ones `private, no-cache`. Any /v1 request may carry `Consistency-Token: <stream id>:<version>` from a command response: it waits (bounded) until that version is applied, else 503 with Retry-After."
    ),
    paths(
        products::list, products::detail, categories::list, users::me,
        audit::product_events, audit::user_events, audit::product_state,
        health::live, health::ready, health::metrics, document,
    ),
    components(schemas(ProblemDoc, FieldErrorDoc)),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;

#[utoipa::path(get, path = "/openapi.json", tag = "operations",
    responses((status = 200, description = "This document")))]
pub async fn document() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}
