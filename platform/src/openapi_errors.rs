//! The answers every operation can give whatever its route says, added to a service's OpenAPI
//! document so that the document tells the truth: the scaffold's own refusals (400 for a NUL byte
//! or bad UTF-8 in the path, query or headers; 413 and 415 for bodies), a bad bearer token (401),
//! an unknown id (404), a dependency that is down (503 with `Retry-After`), and for commands the
//! command core's refusals (403, 409, 412, 422). Every error is an RFC 9457 problem, so each one
//! is declared as `application/problem+json`. The shared headers (`If-Match`, `Idempotency-Key`,
//! `Consistency-Token`) get the patterns the services accept, and the scaffold's own routes
//! (`/health/*`, `/openapi.json`, `/docs`) are described where a service does not describe them.

use serde_json::{Map, Value, json};

const PROBLEM: &str = "application/problem+json";
/// The operation keys of an OpenAPI path item.
pub(crate) const OPERATION_METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// `document` with every error response declared as a problem and the common ones added where
/// an operation does not declare them itself.
pub fn complete(mut document: Value) -> Value {
    let Some(paths) = document.get_mut("paths").and_then(Value::as_object_mut) else {
        return document;
    };
    add_scaffold_routes(paths);
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for method in OPERATION_METHODS {
            if let Some(operation) = item.get_mut(method).and_then(Value::as_object_mut) {
                complete_operation(path, operation);
            }
        }
    }
    document
}

/// The routes the server scaffold serves on every public listener, for the services whose
/// annotations do not describe them already: liveness, readiness (the verdict alone), this
/// document and the page that renders it.
fn add_scaffold_routes(paths: &mut Map<String, Value>) {
    let status = json!({ "application/json": { "schema": {
        "type": "object", "required": ["status"],
        "properties": { "status": { "type": "string", "example": "ready" } },
    } } });
    let routes = [
        (
            "/health/live",
            json!({ "200": { "description": "The process is up", "content": status.clone() } }),
        ),
        (
            "/health/ready",
            json!({
                "200": { "description": "Ready for traffic", "content": status.clone() },
                "503": { "description": "Not ready; retry after `Retry-After` seconds" },
            }),
        ),
        (
            "/openapi.json",
            json!({ "200": { "description": "This document",
            "content": { "application/json": { "schema": { "type": "object" } } } } }),
        ),
        (
            "/docs",
            json!({ "200": { "description": "This document as a page (Swagger UI, served from the binary)",
            "content": { "text/html": { "schema": { "type": "string" } } } } }),
        ),
    ];
    for (path, responses) in routes {
        paths.entry(path).or_insert_with(|| {
            json!({ "get": { "tags": ["operations"], "operationId": format!("get_{}", path.trim_matches('/').replace(['/', '.'], "_")), "responses": responses } })
        });
    }
}

/// Whether `operation` declares a header parameter `name`.
fn has_header(operation: &Map<String, Value>, name: &str) -> bool {
    operation
        .get("parameters")
        .and_then(Value::as_array)
        .is_some_and(|parameters| {
            parameters.iter().any(|p| {
                p["in"] == "header"
                    && p["name"]
                        .as_str()
                        .is_some_and(|n| n.eq_ignore_ascii_case(name))
            })
        })
}

/// What the shared request headers accept, so that a client (or a fuzzer) generating values
/// from the document sends only values the service takes.
fn header_schema(name: &str) -> Option<Value> {
    let pattern = match name.to_ascii_lowercase().as_str() {
        // Each may also be empty, which the services read as no header at all.
        "if-match" => r#"^((W/)?"[0-9]{1,18}")?$"#,
        "idempotency-key" => "^[!-~]{0,255}$",
        "consistency-token" => {
            "^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}:[1-9][0-9]{0,17})?$"
        }
        _ => return None,
    };
    Some(json!({ "type": "string", "pattern": pattern }))
}

fn constrain_headers(operation: &mut Map<String, Value>) {
    let Some(parameters) = operation
        .get_mut("parameters")
        .and_then(Value::as_array_mut)
    else {
        return;
    };
    for parameter in parameters {
        if parameter["in"] != "header" {
            continue;
        }
        if let Some(schema) = parameter["name"].as_str().and_then(header_schema) {
            parameter["schema"] = schema;
        }
    }
}

fn complete_operation(path: &str, operation: &mut Map<String, Value>) {
    constrain_headers(operation);
    let has_body = operation.contains_key("requestBody");
    // Commands (the operations that take an Idempotency-Key) all run through the command core,
    // which refuses by business rule, by version and by a key reused for another request.
    let command = has_header(operation, "Idempotency-Key");
    let conditional = has_header(operation, "If-Match");
    let waits_for_a_write = has_header(operation, "Consistency-Token");
    let responses = operation
        .entry("responses")
        .or_insert_with(|| json!({}))
        .as_object_mut();
    let Some(responses) = responses else {
        return;
    };
    let api = path.starts_with("/v1/");
    let common = [
        (
            true,
            "400",
            "The path, query, headers or body are not valid",
        ),
        (api, "401", "A bearer token was sent that is not valid"),
        (path.contains('{'), "404", "No such resource"),
        (has_body, "413", "The request body is too large"),
        (has_body, "415", "The request body is not JSON"),
        (command, "403", "The caller may not do this"),
        (
            command,
            "409",
            "Refused by a business rule, or a concurrent change",
        ),
        (
            command,
            "412",
            "`If-Match` names a version that is not the current one",
        ),
        (
            command,
            "422",
            "The command is not valid now, or the Idempotency-Key was used for another request",
        ),
        (
            conditional,
            "412",
            "`If-Match` names a version that is not the current one",
        ),
        (
            waits_for_a_write,
            "412",
            "`Consistency-Token` names a version that was never written",
        ),
        (
            api,
            "503",
            "A dependency is unavailable; retry after `Retry-After` seconds",
        ),
    ];
    for (applies, status, description) in common {
        if applies && !responses.contains_key(status) {
            responses.insert(status.to_owned(), json!({ "description": description }));
        }
    }
    for (status, response) in responses.iter_mut() {
        if status.as_str() >= "400" {
            as_problem(status, response);
        }
    }
}

/// Declares `response` as a problem document, with `Retry-After` where the status has one.
fn as_problem(status: &str, response: &mut Value) {
    let Some(response) = response.as_object_mut() else {
        return;
    };
    let schema = response
        .get("content")
        .and_then(|content| content.get("application/json"))
        .and_then(|media| media.get("schema"))
        .cloned()
        .unwrap_or_else(|| json!({ "$ref": "#/components/schemas/ProblemDoc" }));
    response.insert(
        "content".to_owned(),
        json!({ PROBLEM: { "schema": schema } }),
    );
    if status == "429" || status == "503" {
        let headers = response
            .entry("headers")
            .or_insert_with(|| json!({}))
            .as_object_mut();
        if let Some(headers) = headers {
            headers.entry("Retry-After").or_insert_with(|| {
                json!({
                    "description": "Seconds to wait before retrying",
                    "schema": { "type": "integer", "minimum": 1 }
                })
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_become_problems_and_the_common_ones_are_added() {
        let document = json!({ "paths": { "/v1/things/{id}": { "put": {
            "requestBody": { "content": { "application/json": {} } },
            "responses": {
                "200": { "description": "ok", "content": { "application/json": {} } },
                "409": { "description": "taken", "content": { "application/json": {
                    "schema": { "$ref": "#/components/schemas/ProblemDoc" } } } }
            }
        } }, "/health/live": { "get": { "responses": { "200": { "description": "up" } } } } } });
        let done = complete(document);
        let put = &done["paths"]["/v1/things/{id}"]["put"]["responses"];
        assert!(
            put["200"]["content"]["application/json"].is_object(),
            "{put}"
        );
        assert!(
            put["409"]["content"][PROBLEM]["schema"].is_object(),
            "{put}"
        );
        assert!(put["409"]["content"]["application/json"].is_null());
        for status in ["400", "401", "404", "413", "415", "503"] {
            assert!(
                put[status]["content"][PROBLEM].is_object(),
                "{status}: {put}"
            );
        }
        assert!(put["503"]["headers"]["Retry-After"].is_object());
        let live = &done["paths"]["/health/live"]["get"]["responses"];
        assert!(live["401"].is_null() && live["503"].is_null() && live["400"].is_object());
    }
}
