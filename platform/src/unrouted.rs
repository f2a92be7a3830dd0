//! What the service's OpenAPI document decides before any route runs: a documented path under an
//! undeclared method gets 405 with `Allow`, and an operation the document secures gets 401 when
//! no bearer token came, before any of its parameters is judged (so an anonymous caller learns
//! nothing from validation errors). A request no route took gets the scaffold's 404. The
//! document is the list of what the service serves, so the two cannot disagree.

use actix_web::{
    Error, HttpResponse,
    body::{BoxBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    http::{StatusCode, header},
    middleware::Next,
    web,
};
use serde_json::Value;

use crate::{openapi_errors::OPERATION_METHODS, problem::Problem};

/// The documented paths, as segments, with their methods.
#[derive(Debug, Default)]
pub struct RouteTable {
    routes: Vec<(Vec<Segment>, Vec<Operation>)>,
}

#[derive(Debug)]
struct Operation {
    /// Upper case, as in `Allow`.
    method: String,
    /// Whether the document names a security requirement for it.
    secured: bool,
}

#[derive(Debug, PartialEq, Eq)]
enum Segment {
    Literal(String),
    /// `{name}`: any one non-empty segment.
    Parameter,
}

impl RouteTable {
    /// Every path of an OpenAPI `document` and the methods it declares for it.
    pub fn from_document(document: &Value) -> Self {
        let Some(paths) = document.get("paths").and_then(Value::as_object) else {
            return Self::default();
        };
        let routes = paths
            .iter()
            .map(|(path, item)| {
                let segments = segments(path)
                    .map(|s| {
                        if s.starts_with('{') && s.ends_with('}') {
                            Segment::Parameter
                        } else {
                            Segment::Literal(s.to_owned())
                        }
                    })
                    .collect();
                let operations = OPERATION_METHODS
                    .iter()
                    .filter_map(|m| {
                        let operation = item.get(*m)?;
                        // An empty requirement (`{}`) among them lets anonymous callers in.
                        let secured = operation
                            .get("security")
                            .and_then(Value::as_array)
                            .is_some_and(|requirements| {
                                !requirements.is_empty()
                                    && requirements
                                        .iter()
                                        .all(|r| r.as_object().is_some_and(|r| !r.is_empty()))
                            });
                        Some(Operation {
                            method: m.to_ascii_uppercase(),
                            secured,
                        })
                    })
                    .collect();
                (segments, operations)
            })
            .collect();
        Self { routes }
    }

    fn operations(&self, path: &str) -> Option<&[Operation]> {
        let parts: Vec<&str> = segments(path).collect();
        self.routes
            .iter()
            .find(|(route, _)| {
                route.len() == parts.len()
                    && route
                        .iter()
                        .zip(&parts)
                        .all(|(segment, part)| match segment {
                            Segment::Literal(literal) => literal == part,
                            Segment::Parameter => !part.is_empty(),
                        })
            })
            .map(|(_, operations)| operations.as_slice())
    }
}

fn segments(path: &str) -> impl Iterator<Item = &str> {
    path.trim_matches('/').split('/')
}

/// The scaffold's innermost middleware: 405 and 401 as the document says, else the route.
pub async fn check_documented(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let refusal = req.app_data::<web::Data<RouteTable>>().and_then(|table| {
        let operations = table.operations(req.path())?;
        let method = req.method().as_str();
        match operations.iter().find(|o| o.method == method) {
            None => Some(method_not_allowed(operations)),
            Some(o) if o.secured && !req.headers().contains_key(header::AUTHORIZATION) => {
                Some(unauthenticated())
            }
            Some(_) => None,
        }
    });
    match refusal {
        Some(response) => Ok(req.into_response(response)),
        None => Ok(next.call(req).await?.map_into_boxed_body()),
    }
}

fn method_not_allowed(operations: &[Operation]) -> HttpResponse {
    let allow = operations
        .iter()
        .map(|o| o.method.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let mut response = Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "This resource does not answer that method",
    )
    .with_detail(format!("allowed: {allow}"))
    .to_response();
    if let Ok(value) = header::HeaderValue::from_str(&allow) {
        response.headers_mut().insert(header::ALLOW, value);
    }
    response
}

fn unauthenticated() -> HttpResponse {
    let mut response = Problem::new(
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
        "A valid bearer token is required",
    )
    .with_detail("send Authorization: Bearer <access token from POST /v1/sessions>")
    .to_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        header::HeaderValue::from_static("Bearer"),
    );
    response
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    impl RouteTable {
        /// The methods documented for `path`, if any route matches it.
        fn allowed(&self, path: &str) -> Option<Vec<&str>> {
            self.operations(path)
                .map(|operations| operations.iter().map(|o| o.method.as_str()).collect())
        }
    }

    #[test]
    fn a_documented_path_lists_its_methods_and_others_match_nothing() {
        let table = RouteTable::from_document(&json!({ "paths": {
            "/v1/products/{id}": {
                "get": { "security": [{}, { "bearer": [] }] },
                "patch": { "security": [{ "bearer": [] }] },
            },
            "/v1/products": { "post": {} },
        } }));
        assert_eq!(
            table.allowed("/v1/products/0190-abc"),
            Some(vec!["GET", "PATCH"])
        );
        assert_eq!(table.allowed("/v1/products"), Some(vec!["POST"]));
        let operations = table.operations("/v1/products/x").unwrap();
        assert!(!operations[0].secured && operations[1].secured);
        assert_eq!(table.allowed("/v1/products/a/b"), None);
        assert_eq!(table.allowed("/v1/nothing"), None);
    }
}
