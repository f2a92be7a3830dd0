//! `GET /v1/users/me`: the caller's account as the read model knows it (never anything secret:
//! the events carry none).

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    auth::Caller,
    error::ApiError,
    http_cache::{self, CachePolicy},
    params::QueryParams,
    read_conn::ReadConn,
    state::AppState,
};

#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    /// `customer`, `seller` or `admin`.
    pub role: String,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

#[utoipa::path(
    get, path = "/v1/users/me", tag = "accounts",
    params(("Consistency-Token" = Option<String>, Header, description = "<stream id>:<version>: wait until it is applied")),
    responses(
        (status = 200, description = "The caller's account", body = Me, headers(("ETag" = String), ("Cache-Control" = String), ("Vary" = String))),
        (status = 304, description = "Unchanged since the ETag in If-None-Match"),
        (status = 401, description = "No valid bearer token, or its session has ended", body = platform::openapi::ProblemDoc),
        (status = 404, description = "The account is not projected yet (retry with the Consistency-Token of the sign-up)", body = platform::openapi::ProblemDoc),
    ),
    security(("bearer" = [])),
)]
pub async fn me(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    QueryParams::parse(req.query_string())?.finish()?;
    caller.require()?;
    let conn = ReadConn::open(&state.pool, &state.schema).await?;
    let user_id = caller.require_live(&conn).await?.sub;
    let row = conn
        .query_opt(
            &conn.sql(
                "SELECT id, email, display_name, role, active, created_at, updated_at, version
                 FROM {schema}.users WHERE id = $1",
            ),
            &[&user_id],
        )
        .await?
        .ok_or(ApiError::NotFound)?;
    let me = Me {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        display_name: row.try_get("display_name")?,
        role: row.try_get("role")?,
        active: row.try_get("active")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        version: row.try_get("version")?,
    };
    http_cache::respond(&req, "users_me", CachePolicy::Private, &me)
}
