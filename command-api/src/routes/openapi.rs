//! The OpenAPI 3.1 document of command-api, generated from the route annotations.

use platform::openapi::{BearerAuth, FieldErrorDoc, ProblemDoc};
use read_model::representation::{Account, ProductDetail};
use serde_json::{Value, json};
use utoipa::OpenApi;

use crate::{
    command::http::Accepted,
    routes::{
        email_verification, jwks, password_resets, products, request_schemas, sessions, users,
    },
};

#[derive(Debug, OpenApi)]
#[openapi(
    info(title = "CloudCommerce command API", description = "Write side: accounts, sessions and product commands. Every write answers with ETag (the new version) and Consistency-Token."),
    paths(
        users::register, users::update, users::assign_role, users::deactivate,
        users::erase_personal_data,
        email_verification::verify, email_verification::request_mail,
        password_resets::request, password_resets::reset,
        sessions::sign_in, sessions::refresh, sessions::sign_out, jwks::jwks,
        products::create, products::update_details, products::change_price, products::adjust_stock,
        products::publish, products::unpublish, products::archive,
    ),
    components(schemas(Accepted, ProblemDoc, FieldErrorDoc, Account, ProductDetail)),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;

/// The document as JSON, served at `/openapi.json` by the server scaffold: the derived one with
/// the request bodies' hand-written schemas and every error answer declared.
pub fn document() -> Value {
    let mut document = derived_document();
    request_schemas::apply(&mut document);
    optional_bodies(&mut document);
    offer_representations(&mut document);
    platform::openapi_errors::complete(document)
}

/// Commands whose body only the account's owner sends (their current password): an admin
/// acting on someone else's account sends none, so the body is not required.
const OPTIONAL_BODIES: [(&str, &str); 2] = [
    ("/v1/users/{id}", "delete"),
    ("/v1/users/{id}/personal-data", "delete"),
];

fn optional_bodies(document: &mut Value) {
    for (path, method) in OPTIONAL_BODIES {
        if let Some(body) = document["paths"][path][method].get_mut("requestBody") {
            body["required"] = false.into();
        }
    }
}

/// Every command on a user or a product takes `Prefer: return=representation` and then answers
/// with the resource as query-api serves it (`command::representation`) instead of `Accepted`.
fn offer_representations(document: &mut Value) {
    let Some(paths) = document.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let resource = if path.starts_with("/v1/users") {
            "Account"
        } else if path.starts_with("/v1/products") {
            "ProductDetail"
        } else {
            continue;
        };
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for operation in item.values_mut() {
            let is_command = operation["parameters"]
                .as_array()
                .is_some_and(|parameters| {
                    parameters.iter().any(|p| p["name"] == "Idempotency-Key")
                });
            if !is_command {
                continue;
            }
            if let Some(parameters) = operation["parameters"].as_array_mut() {
                parameters.push(json!({
                    "name": "Prefer", "in": "header", "required": false,
                    "description": "`return=representation`: answer with the resource's new state, as query-api serves it; other preferences are ignored (RFC 7240)",
                    "schema": { "type": "string", "example": "return=representation" },
                }));
            }
            let Some(responses) = operation["responses"].as_object_mut() else {
                continue;
            };
            for (status, response) in responses.iter_mut() {
                if !status.starts_with('2') {
                    continue;
                }
                response["content"] = json!({ "application/json": { "schema": { "anyOf": [
                    { "$ref": "#/components/schemas/Accepted" },
                    { "$ref": format!("#/components/schemas/{resource}") },
                ] } } });
                let headers = &mut response["headers"];
                headers["ETag"] = json!({
                    "description": "`\"<version>\"`: the `If-Match` of the next conditional write",
                    "schema": { "type": "string" },
                });
                headers["Consistency-Token"] = json!({
                    "description": "`<stream id>:<version>`: send it to query-api to read this write",
                    "schema": { "type": "string" },
                });
                headers["Preference-Applied"] = json!({
                    "description": "`return=representation` when the body is the resource",
                    "schema": { "type": "string" },
                });
                if status == "201" {
                    headers["Location"] = json!({
                        "description": "The resource's URL on query-api",
                        "schema": { "type": "string" },
                    });
                }
            }
        }
    }
}

/// What the route annotations and derives alone produce.
pub fn derived_document() -> Value {
    serde_json::to_value(ApiDoc::openapi()).unwrap_or_default()
}
