//! The OpenAPI 3.1 document of query-api, generated from the route annotations.

use domain::values::CategorySlug;
use platform::openapi::{BearerAuth, FieldErrorDoc, ProblemDoc};
use platform::text_patterns;
use serde_json::{Value, json};
use utoipa::OpenApi;

use crate::{
    listing::{
        cursor::MAX_ENCODED_LEN,
        filters::Sort,
        query::{MAX_LIMIT, MAX_PRICE, MAX_QUERY_LEN},
    },
    routes::{audit, categories, health, products, users},
};

#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "CloudCommerce query API",
        description = "Read side: catalog listings and search, accounts, audit trails. Every 200 carries a strong ETag (If-None-Match gives 304); a single resource's is `\"<version>\"`, the `If-Match` command-api takes; anonymous catalog reads are `public, max-age=5, stale-while-revalidate=30`, personal ones `private, no-store`. Any /v1 request may carry `Consistency-Token: <stream id>:<version>` from a command response: it waits (bounded) until that version is applied, else 503 with Retry-After."
    ),
    paths(
        products::list, products::detail, categories::list, users::me, users::by_id,
        audit::product_events, audit::user_events, audit::product_state,
        health::ready,
    ),
    components(schemas(ProblemDoc, FieldErrorDoc)),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;

/// The document as JSON, served at `/openapi.json` by the server scaffold: the derived one with
/// the listing's parameters stated as `ListingQuery::parse` checks them, and every error answer
/// declared.
pub fn document() -> Value {
    let mut document = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    constrain_listing_parameters(&mut document);
    platform::openapi_errors::complete(document)
}

/// The schema of each `GET /v1/products` parameter: a value it describes is one the listing
/// takes (the parser trims every value, and refuses an empty one).
fn constrain_listing_parameters(document: &mut Value) {
    let sorts: Vec<&str> = Sort::ALL.iter().map(|sort| sort.as_str()).collect();
    let price = json!({ "type": "integer", "format": "int64", "minimum": 0, "maximum": MAX_PRICE });
    let schemas = [
        (
            "category",
            json!({ "type": "string", "pattern": text_patterns::slug(CategorySlug::MAX_LEN) }),
        ),
        ("min_price", price.clone()),
        ("max_price", price),
        (
            "q",
            json!({ "type": "string", "pattern": text_patterns::trimmed(1, MAX_QUERY_LEN, text_patterns::NUL) }),
        ),
        ("sort", json!({ "type": "string", "enum": sorts })),
        (
            "limit",
            json!({ "type": "integer", "format": "int64", "minimum": 1, "maximum": MAX_LIMIT }),
        ),
        // Base64url without padding, as `Cursor::encode` writes it.
        (
            "cursor",
            json!({ "type": "string", "maxLength": MAX_ENCODED_LEN, "pattern": "^[A-Za-z0-9_-]+$" }),
        ),
    ];
    let Some(parameters) = document
        .pointer_mut("/paths/~1v1~1products/get/parameters")
        .and_then(Value::as_array_mut)
    else {
        return;
    };
    for parameter in parameters {
        if let Some((_, schema)) = schemas.iter().find(|(name, _)| parameter["name"] == *name) {
            parameter["schema"] = schema.clone();
        }
    }
}
