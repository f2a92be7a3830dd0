//! OpenAPI pieces both HTTP services share: the problem document schema and the bearer scheme.

use serde::Serialize;
use utoipa::{
    Modify, ToSchema,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};

/// RFC 9457 problem document (`application/problem+json`).
#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemDoc {
    #[serde(rename = "type")]
    #[schema(example = "urn:cloudcommerce:problem:validation_failed")]
    pub type_uri: String,
    pub title: String,
    pub status: u16,
    pub detail: Option<String>,
    /// Stable machine-readable code, e.g. `validation_failed`, `invalid_cursor`.
    pub code: String,
    /// The fields or parameters that were wrong.
    pub errors: Option<Vec<FieldErrorDoc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FieldErrorDoc {
    #[schema(example = "limit")]
    pub field: String,
    pub message: String,
}

/// Registers the `bearer` security scheme (JWT from `POST /v1/sessions`).
#[derive(Debug)]
pub struct BearerAuth;

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
