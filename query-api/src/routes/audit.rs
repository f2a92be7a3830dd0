//! Audit trails from the read model's copy of every event: a stream's events page by page, and
//! a product "as of" a moment, rebuilt by folding its events with the domain's own `evolve`.
//!
//! Who may look: admins, a product's seller for that product, and a user for their own account.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, FixedOffset, Utc};
use domain::{Aggregate, DomainEvent, Product, ProductEvent, User, product_state_json};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    auth::{Caller, Viewer},
    error::ApiError,
    http_cache::{self, CachePolicy},
    params::{self, QueryParams},
    read_conn::ReadConn,
    state::AppState,
};

const DEFAULT_LIMIT: i64 = 50;
const MAX_LIMIT: i64 = 100;

/// One recorded event, as stored (the payload is the published contract, see `contracts/`).
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEvent {
    pub version: i64,
    pub event_id: Uuid,
    #[schema(example = "product.price_changed")]
    pub event_type: String,
    pub schema_version: i32,
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    /// User id, `system` or `anonymous`.
    pub actor: Option<String>,
    pub correlation_id: Option<Uuid>,
    pub causation_id: Option<Uuid>,
    pub recorded_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    pub stream_id: Uuid,
    pub stream_type: String,
    pub items: Vec<AuditEvent>,
    /// Pass as `after_version` for the next page; `null` on the last.
    pub next_after_version: Option<i64>,
}

/// An event the fold could not use (a type or schema version this build does not know).
#[derive(Debug, Serialize, ToSchema)]
pub struct SkippedEvent {
    pub version: i64,
    pub event_type: String,
    pub schema_version: i32,
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProductAsOf {
    pub product_id: Uuid,
    pub as_of: DateTime<FixedOffset>,
    /// Version of the last event folded in.
    pub version: i64,
    pub last_event_at: DateTime<Utc>,
    /// The product as its events describe it at `as_of`.
    #[schema(value_type = Object)]
    pub state: serde_json::Value,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skipped_events: Vec<SkippedEvent>,
}

#[utoipa::path(
    get, path = "/v1/audit/products/{id}/events", tag = "audit",
    params(
        ("id" = Uuid, Path, description = "Product id"),
        ("after_version" = Option<i64>, Query, minimum = 0, description = "Only events after this version (default 0)"),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 100, description = "Events per page, 1-100, default 50"),
    ),
    responses(
        (status = 200, description = "The product's events, oldest first", body = AuditPage),
        (status = 400, description = "Bad parameter", body = platform::openapi::ProblemDoc),
        (status = 401, description = "No valid bearer token, or its session has ended", body = platform::openapi::ProblemDoc),
        (status = 403, description = "Neither an admin nor the product's seller", body = platform::openapi::ProblemDoc),
        (status = 404, description = "No such product", body = platform::openapi::ProblemDoc),
    ),
    security(("bearer" = [])),
)]
pub async fn product_events(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let page = PageParams::parse(req.query_string())?;
    let conn = ReadConn::open(&state.pool, &state.schema).await?;
    let product_id = id.into_inner();
    may_audit_product(&conn, caller.require_viewer(&conn).await?, product_id).await?;
    let body = events_page(&conn, product_id, Product::STREAM_TYPE, page).await?;
    http_cache::respond(&req, "audit_product_events", CachePolicy::Private, &body)
}

#[utoipa::path(
    get, path = "/v1/audit/users/{id}/events", tag = "audit",
    params(
        ("id" = Uuid, Path, description = "User id"),
        ("after_version" = Option<i64>, Query, minimum = 0, description = "Only events after this version (default 0)"),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 100, description = "Events per page, 1-100, default 50"),
    ),
    responses(
        (status = 200, description = "The account's events, oldest first", body = AuditPage),
        (status = 400, description = "Bad parameter", body = platform::openapi::ProblemDoc),
        (status = 401, description = "No valid bearer token, or its session has ended", body = platform::openapi::ProblemDoc),
        (status = 403, description = "Neither an admin nor this user", body = platform::openapi::ProblemDoc),
        (status = 404, description = "No such account", body = platform::openapi::ProblemDoc),
    ),
    security(("bearer" = [])),
)]
pub async fn user_events(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let page = PageParams::parse(req.query_string())?;
    let conn = ReadConn::open(&state.pool, &state.schema).await?;
    let user_id = id.into_inner();
    let viewer = caller.require_viewer(&conn).await?;
    if !viewer.admin && viewer.id != user_id {
        return Err(ApiError::Forbidden(
            "only admins and the account's owner may audit an account",
        ));
    }
    let body = events_page(&conn, user_id, User::STREAM_TYPE, page).await?;
    http_cache::respond(&req, "audit_user_events", CachePolicy::Private, &body)
}

#[utoipa::path(
    get, path = "/v1/audit/products/{id}/state", tag = "audit",
    params(
        ("id" = Uuid, Path, description = "Product id"),
        ("as_of" = String, Query, format = DateTime, description = "RFC 3339 timestamp, e.g. 2025-03-03T12:00:00Z"),
    ),
    responses(
        (status = 200, description = "The product as it was at as_of", body = ProductAsOf),
        (status = 400, description = "as_of is missing or not RFC 3339", body = platform::openapi::ProblemDoc),
        (status = 401, description = "No valid bearer token, or its session has ended", body = platform::openapi::ProblemDoc),
        (status = 403, description = "Neither an admin nor the product's seller", body = platform::openapi::ProblemDoc),
        (status = 404, description = "No such product, or no event recorded by as_of", body = platform::openapi::ProblemDoc),
    ),
    security(("bearer" = [])),
)]
pub async fn product_state(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let mut params = QueryParams::parse(req.query_string())?;
    let as_of = params.required("as_of", parse_as_of);
    params.finish()?;
    // `finish` fails whenever a required parameter is missing or bad.
    let as_of = as_of.ok_or_else(|| anyhow::anyhow!("as_of passed validation yet is absent"))?;
    let conn = ReadConn::open(&state.pool, &state.schema).await?;
    let product_id = id.into_inner();
    may_audit_product(&conn, caller.require_viewer(&conn).await?, product_id).await?;
    let rows = conn
        .query(
            &conn.sql(
                "SELECT version, event_type, schema_version, payload, recorded_at
                 FROM {schema}.audit_events
                 WHERE stream_id = $1 AND stream_type = $2 AND recorded_at <= $3
                 ORDER BY version",
            ),
            &[
                &product_id,
                &Product::STREAM_TYPE,
                &as_of.with_timezone(&Utc),
            ],
        )
        .await?;
    let Some(last) = rows.last() else {
        return Err(ApiError::NotFound);
    };
    let mut product = <Product as Aggregate>::State::default();
    let mut skipped_events = Vec::new();
    for row in &rows {
        let version: i64 = row.try_get("version")?;
        let event_type: String = row.try_get("event_type")?;
        let schema_version: i32 = row.try_get("schema_version")?;
        let payload: serde_json::Value = row.try_get("payload")?;
        match ProductEvent::from_stored(&event_type, schema_version, payload) {
            Ok(event) => product = Product::evolve(product, &event),
            // The audit table keeps events of types newer than this build; folding the rest
            // and saying what was left out beats refusing the whole answer.
            Err(e) => skipped_events.push(SkippedEvent {
                version,
                event_type,
                schema_version,
                reason: e.to_string(),
            }),
        }
    }
    let body = ProductAsOf {
        product_id,
        as_of,
        version: last.try_get("version")?,
        last_event_at: last.try_get("recorded_at")?,
        state: product_state_json(&product),
        skipped_events,
    };
    http_cache::respond(&req, "audit_product_state", CachePolicy::Private, &body)
}

/// RFC 3339. A `+` in a query string decodes to a space, so `...T10:00:00 01:00` is read as the
/// `+01:00` the client meant (a space cannot start an offset otherwise).
fn parse_as_of(raw: &str) -> Result<DateTime<FixedOffset>, String> {
    DateTime::parse_from_rfc3339(raw)
        .or_else(|_| DateTime::parse_from_rfc3339(&raw.replacen(' ', "+", 1)))
        .map_err(|_| {
            "must be an RFC 3339 timestamp such as 2025-03-03T12:00:00Z (encode + as %2B)"
                .to_owned()
        })
}

/// Admins may audit any product; a seller only their own.
async fn may_audit_product(
    conn: &ReadConn<'_>,
    viewer: Viewer,
    product_id: Uuid,
) -> Result<(), ApiError> {
    if viewer.admin {
        return Ok(());
    }
    let seller: Option<Uuid> = conn
        .query_opt(
            &conn.sql("SELECT seller_id FROM {schema}.products WHERE id = $1"),
            &[&product_id],
        )
        .await?
        .map(|row| row.try_get(0))
        .transpose()?;
    match seller {
        Some(seller) if seller == viewer.id => Ok(()),
        Some(_) => Err(ApiError::Forbidden(
            "only admins and the product's seller may audit a product",
        )),
        None => Err(ApiError::NotFound),
    }
}

#[derive(Debug, Clone, Copy)]
struct PageParams {
    after_version: i64,
    limit: i64,
}

impl PageParams {
    fn parse(query_string: &str) -> Result<Self, ApiError> {
        let mut params = QueryParams::parse(query_string)?;
        let after_version = params
            .parsed("after_version", |raw| params::integer_in(raw, 0, i64::MAX))
            .unwrap_or(0);
        let limit = params
            .parsed("limit", |raw| params::integer_in(raw, 1, MAX_LIMIT))
            .unwrap_or(DEFAULT_LIMIT);
        params.finish()?;
        Ok(Self {
            after_version,
            limit,
        })
    }
}

/// One page of a stream's events (on the primary key: `stream_id = $1 AND version > $3`).
async fn events_page(
    conn: &ReadConn<'_>,
    stream_id: Uuid,
    stream_type: &str,
    page: PageParams,
) -> Result<AuditPage, ApiError> {
    let rows = conn
        .query(
            &conn.sql(
                "SELECT version, event_id, event_type, schema_version, payload, actor,
                        correlation_id, causation_id, recorded_at
                 FROM {schema}.audit_events
                 WHERE stream_id = $1 AND stream_type = $2 AND version > $3
                 ORDER BY version
                 LIMIT $4",
            ),
            &[
                &stream_id,
                &stream_type,
                &page.after_version,
                &(page.limit + 1),
            ],
        )
        .await?;
    if rows.is_empty() && page.after_version == 0 {
        return Err(ApiError::NotFound);
    }
    let limit = usize::try_from(page.limit).unwrap_or(usize::MAX);
    let items = rows
        .iter()
        .take(limit)
        .map(|row| {
            Ok(AuditEvent {
                version: row.try_get("version")?,
                event_id: row.try_get("event_id")?,
                event_type: row.try_get("event_type")?,
                schema_version: row.try_get("schema_version")?,
                payload: row.try_get("payload")?,
                actor: row.try_get("actor")?,
                correlation_id: row.try_get("correlation_id")?,
                causation_id: row.try_get("causation_id")?,
                recorded_at: row.try_get("recorded_at")?,
            })
        })
        .collect::<Result<Vec<_>, tokio_postgres::Error>>()?;
    let next_after_version = (rows.len() > limit)
        .then(|| items.last().map(|event| event.version))
        .flatten();
    Ok(AuditPage {
        stream_id,
        stream_type: stream_type.to_owned(),
        items,
        next_after_version,
    })
}
