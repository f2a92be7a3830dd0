//! The OpenAPI 3.1 document of command-api, generated from the route annotations.

use platform::openapi::{BearerAuth, FieldErrorDoc, ProblemDoc};
use utoipa::OpenApi;

use crate::{
    command::http::Accepted,
    routes::{jwks, products, sessions, users},
};

#[derive(Debug, OpenApi)]
#[openapi(
    info(title = "CloudCommerce command API", description = "Write side: accounts, sessions and product commands. Every write answers with ETag (the new version) and Consistency-Token."),
    paths(
        users::register, users::update, users::assign_role, users::deactivate,
        sessions::sign_in, sessions::refresh, sessions::sign_out, jwks::jwks,
        products::create, products::update_details, products::change_price, products::adjust_stock,
        products::publish, products::unpublish, products::archive,
    ),
    components(schemas(Accepted, ProblemDoc, FieldErrorDoc)),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;

/// The document as JSON, served at `/openapi.json` by the server scaffold.
pub fn document() -> serde_json::Value {
    platform::openapi_errors::complete(serde_json::to_value(ApiDoc::openapi()).unwrap_or_default())
}
