//! `GET /v1/categories`: every category with at least one published product, by slug.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::{
    error::ApiError,
    http_cache::{self, CachePolicy},
    params::QueryParams,
    read_conn::ReadConn,
    state::AppState,
};

#[derive(Debug, Serialize, ToSchema)]
pub struct Category {
    #[schema(example = "kitchen-dining")]
    pub slug: String,
    pub published_count: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryList {
    pub items: Vec<Category>,
}

#[utoipa::path(
    get, path = "/v1/categories", tag = "catalog", operation_id = "list_categories",
    params(("Consistency-Token" = Option<String>, Header, description = "`<stream id>:<version>` from a command response: wait until it is applied")),
    responses(
        (status = 200, description = "Categories with published products", body = CategoryList, headers(("ETag" = String), ("Cache-Control" = String))),
        (status = 304, description = "Unchanged since the ETag in If-None-Match"),
    ),
)]
pub async fn list(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    QueryParams::parse(req.query_string())?.finish()?;
    let conn = ReadConn::open(&state.pool, &state.schema).await?;
    // Categories are few (tens to hundreds): the whole table is one small, cacheable answer.
    let rows = conn
        .query(
            &conn.sql(
                "SELECT slug, published_count FROM {schema}.categories
                 WHERE published_count > 0 ORDER BY slug",
            ),
            &[],
        )
        .await?;
    let items = rows
        .iter()
        .map(|row| {
            Ok(Category {
                slug: row.try_get(0)?,
                published_count: row.try_get(1)?,
            })
        })
        .collect::<Result<Vec<_>, tokio_postgres::Error>>()?;
    http_cache::respond(
        &req,
        "categories",
        CachePolicy::Public,
        &CategoryList { items },
    )
}
