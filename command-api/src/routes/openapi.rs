//! The OpenAPI 3.1 document of command-api, generated from the route annotations.

use actix_web::HttpResponse;
use platform::openapi::{BearerAuth, FieldErrorDoc, ProblemDoc};
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;

use crate::routes::{products, sessions, users};

/// Body of every successful command: the resource and its new version (also in `ETag`).
#[derive(Debug, Serialize, ToSchema)]
pub struct Accepted {
    pub id: Uuid,
    pub version: i64,
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
