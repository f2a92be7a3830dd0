//! `GET /v1/users/me` and `GET /v1/users/{id}`: an account as the read model knows it, for the
//! user themself and for admins (never anything secret: the events carry none).

use actix_web::{HttpRequest, HttpResponse, web};
use read_model::representation::Account;
use uuid::Uuid;

use crate::{
    auth::Caller,
    error::ApiError,
    http_cache::{self, CachePolicy},
    params::QueryParams,
    read_conn::ReadConn,
    state::AppState,
};

#[utoipa::path(
    get, path = "/v1/users/me", tag = "accounts", operation_id = "get_me",
    params(("Consistency-Token" = Option<String>, Header, description = "`<stream id>:<version>` from a command response: wait until it is applied")),
    responses(
        (status = 200, description = "The caller's account", body = Account, headers(("ETag" = String, description = "`\"<version>\"`, the `If-Match` of a conditional write"), ("Cache-Control" = String), ("Vary" = String))),
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
    answer(&req, &conn, user_id).await
}

#[utoipa::path(
    get, path = "/v1/users/{id}", tag = "accounts", operation_id = "get_user",
    params(
        ("id" = Uuid, Path, description = "User id, as in the `Location` of the sign-up"),
        ("Consistency-Token" = Option<String>, Header, description = "`<stream id>:<version>` from a command response: wait until it is applied"),
    ),
    responses(
        (status = 200, description = "The account", body = Account, headers(("ETag" = String, description = "`\"<version>\"`, the `If-Match` of a conditional write"), ("Cache-Control" = String), ("Vary" = String))),
        (status = 304, description = "Unchanged since the ETag in If-None-Match"),
        (status = 401, description = "No valid bearer token, or its session has ended", body = platform::openapi::ProblemDoc),
        (status = 404, description = "No such account, or not the caller's own and the caller is no admin", body = platform::openapi::ProblemDoc),
    ),
    security(("bearer" = [])),
)]
pub async fn by_id(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    QueryParams::parse(req.query_string())?.finish()?;
    caller.require()?;
    let user_id = id.into_inner();
    let conn = ReadConn::open(&state.pool, &state.schema).await?;
    let own = caller.require_live(&conn).await?.sub == user_id;
    // Hidden rather than forbidden: whether an account exists is nobody else's business.
    if !own && !caller.viewer(&conn).await?.is_some_and(|v| v.admin) {
        return Err(ApiError::NotFound);
    }
    answer(&req, &conn, user_id).await
}

async fn answer(
    req: &HttpRequest,
    conn: &ReadConn<'_>,
    user_id: Uuid,
) -> Result<HttpResponse, ApiError> {
    let row = conn
        .query_opt(
            &conn.sql(
                "SELECT id, email, display_name, role, active, email_verified, created_at, updated_at, version
                 FROM {schema}.users WHERE id = $1",
            ),
            &[&user_id],
        )
        .await?
        .ok_or(ApiError::NotFound)?;
    let account = Account::from_row(&row)?;
    let version = account.version;
    http_cache::respond_versioned(req, "user", CachePolicy::Private, &account, version)
}
