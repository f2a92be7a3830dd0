//! Liveness and readiness answers in one shape for every service.

use actix_web::HttpResponse;
use serde_json::json;

/// The process is up. Checks nothing else, so a slow dependency never gets the pod killed.
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// 200 when every named check passed, else 503; the body gives each check and its reason.
pub fn readiness(checks: &[(&str, &anyhow::Result<()>)]) -> HttpResponse {
    readiness_with(checks, serde_json::Map::new())
}

/// [`readiness`] with more in the body (`extra`'s keys): reported, deciding nothing.
pub fn readiness_with(
    checks: &[(&str, &anyhow::Result<()>)],
    extra: serde_json::Map<String, serde_json::Value>,
) -> HttpResponse {
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
    if ok {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}
