//! Liveness and readiness answers in one shape for every service.

use actix_web::HttpResponse;
use serde_json::json;

/// The process is up. Checks nothing else, so a slow dependency never gets the pod killed.
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// A readiness verdict: the status code and, for operators, why.
#[derive(Debug, Clone)]
pub struct Readiness {
    ready: bool,
    body: serde_json::Value,
}

impl Readiness {
    /// `ready` decides the status code (200 or 503); `body` holds a `status` string and the
    /// details.
    pub fn new(ready: bool, body: serde_json::Value) -> Self {
        Self { ready, body }
    }

    /// The whole body, with each check and its reason: for the admin listener, which only
    /// monitoring reaches. Reasons name hosts, schemas and errors that are nobody else's
    /// business.
    pub fn for_operators(self) -> HttpResponse {
        respond(self.ready, self.body)
    }

    /// The status alone, for load balancers on the public port.
    pub fn for_public(self) -> HttpResponse {
        let status = self.body.get("status").cloned().unwrap_or_default();
        respond(self.ready, json!({ "status": status }))
    }
}

fn respond(ready: bool, body: serde_json::Value) -> HttpResponse {
    let mut response = if ready {
        HttpResponse::Ok()
    } else {
        let mut unavailable = HttpResponse::ServiceUnavailable();
        unavailable.insert_header(("retry-after", "5"));
        unavailable
    };
    response
        .insert_header(("cache-control", "no-store"))
        .json(body)
}

/// Ready when every named check passed; the body gives each check and its reason.
pub fn readiness(checks: &[(&str, &anyhow::Result<()>)]) -> Readiness {
    readiness_with(checks, serde_json::Map::new())
}

/// [`readiness`] with more in the body (`extra`'s keys): reported, deciding nothing.
pub fn readiness_with(
    checks: &[(&str, &anyhow::Result<()>)],
    extra: serde_json::Map<String, serde_json::Value>,
) -> Readiness {
    let ok = checks.iter().all(|(_, result)| result.is_ok());
    let details: serde_json::Map<String, serde_json::Value> = checks
        .iter()
        .map(|(name, result)| {
            let value = match result {
                Ok(()) => json!({ "ok": true }),
                Err(e) => json!({ "ok": false, "reason": format!("{e:#}") }),
            };
            ((*name).to_owned(), value)
        })
        .collect();
    let mut body = json!({ "status": if ok { "ready" } else { "not_ready" }, "checks": details });
    if let Some(object) = body.as_object_mut() {
        object.extend(extra);
    }
    Readiness::new(ok, body)
}
