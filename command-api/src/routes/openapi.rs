//! The OpenAPI 3.1 document of command-api, generated from the route annotations.

use actix_web::HttpResponse;
use serde::Serialize;
use utoipa::{
    Modify, OpenApi, ToSchema,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};
use uuid::Uuid;

use crate::routes::{products, sessions, users};

/// Body of every successful command: the resource and its new version (also in `ETag`).
#[derive(Debug, Serialize, ToSchema)]
pub struct Accepted {
    pub id: Uuid,
    pub version: i64,
}

/// RFC 9457 problem document (`application/problem+json`).
#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemDoc {
    #[serde(rename = "type")]
    #[schema(example = "urn:cloudcommerce:problem:validation_failed")]
    pub type_uri: String,
    pub title: String,
    pub status: u16,
    pub detail: Option<String>,
    /// Stable machine-readable code.
    pub code: String,
    pub errors: Option<Vec<FieldErrorDoc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FieldErrorDoc {
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
    info(title = "CloudCommerce command API", description = "Write side: accounts, sessions and product commands. Every write answers with ETag (the new version) and Consistency-Token."),
    paths(
        users::register, users::update, users::assign_role, users::deactivate,
        sessions::sign_in,
        products::create, products::update_details, products::change_price, products::adjust_stock,
        products::publish, products::unpublish, products::archive,
    ),
    components(schemas(Accepted, ProblemDoc, FieldErrorDoc)),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;

pub async fn document() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}
