//! The answer to a request no route took: 405 with `Allow` when its path is one the service's
//! OpenAPI document lists under other methods, else 404. The document is the list of what the
//! service serves, so the two cannot disagree.

use actix_web::{
    HttpRequest, HttpResponse,
    http::{StatusCode, header},
    web,
};
use serde_json::Value;

use crate::problem::Problem;

/// The documented paths, as segments, with their methods.
#[derive(Debug, Default)]
pub struct RouteTable {
    routes: Vec<(Vec<Segment>, Vec<String>)>,
}

#[derive(Debug, PartialEq, Eq)]
enum Segment {
    Literal(String),
    /// `{name}`: any one non-empty segment.
    Parameter,
}

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

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
                let methods = METHODS
                    .iter()
                    .filter(|m| item.get(**m).is_some())
                    .map(|m| m.to_ascii_uppercase())
                    .collect();
                (segments, methods)
            })
            .collect();
        Self { routes }
    }

    /// The methods documented for `path`, if any route matches it.
    pub fn allowed(&self, path: &str) -> Option<&[String]> {
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
            .map(|(_, methods)| methods.as_slice())
    }
}

fn segments(path: &str) -> impl Iterator<Item = &str> {
    path.trim_matches('/').split('/')
}

/// The default service of the scaffold.
pub async fn answer(req: HttpRequest, table: Option<web::Data<RouteTable>>) -> HttpResponse {
    let allowed = table.as_deref().and_then(|t| t.allowed(req.path()));
    match allowed {
        Some(methods) if !methods.is_empty() => {
            let mut response = Problem::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "This resource does not answer that method",
            )
            .with_detail(format!("allowed: {}", methods.join(", ")))
            .to_response();
            if let Ok(value) = header::HeaderValue::from_str(&methods.join(", ")) {
                response.headers_mut().insert(header::ALLOW, value);
            }
            response
        }
        _ => crate::problem::not_found().await,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_documented_path_lists_its_methods_and_others_match_nothing() {
        let table = RouteTable::from_document(&json!({ "paths": {
            "/v1/products/{id}": { "get": {}, "patch": {}, "parameters": [] },
            "/v1/products": { "post": {} },
        } }));
        assert_eq!(
            table.allowed("/v1/products/0190-abc"),
            Some(&["GET".to_owned(), "PATCH".to_owned()][..])
        );
        assert_eq!(
            table.allowed("/v1/products"),
            Some(&["POST".to_owned()][..])
        );
        assert_eq!(table.allowed("/v1/products/a/b"), None);
        assert_eq!(table.allowed("/v1/nothing"), None);
    }
}
