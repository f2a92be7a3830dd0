//! `GET /v1/products` (the catalog listing: filters, search, sorts, keyset pages) and
//! `GET /v1/products/{id}` (published for everyone; drafts and archived ones for their seller
//! and admins only).

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, web};

use read_model::representation::ProductDetail;
use uuid::Uuid;

use crate::{
    auth::Caller,
    consistency,
    error::ApiError,
    http_cache::{self, CachePolicy},
    listing::{
        common_terms::CommonTerms,
        cursor::Cursor,
        page::{ProductItem, ProductPage},
        query::ListingQuery,
        search::{Resolved, SearchText},
        sql,
    },
    metrics as m,
    params::QueryParams,
    read_conn::ReadConn,
    state::AppState,
};

#[utoipa::path(
    get, path = "/v1/products", tag = "catalog", operation_id = "list_products",
    params(
        ("category" = Option<String>, Query, description = "Category slug"),
        ("min_price" = Option<i64>, Query, description = "Lowest price, minor units, inclusive"),
        ("max_price" = Option<i64>, Query, description = "Highest price, minor units, inclusive"),
        ("in_stock" = Option<bool>, Query, description = "true: stock > 0; false: sold out"),
        ("seller" = Option<Uuid>, Query, description = "Seller's user id"),
        ("q" = Option<String>, Query, description = "Search: every word must match (`-word` must not), the last word also as a prefix while typed (no trailing space), words of 5+ letters with one typo; at most 200 characters, 8 words"),
        ("sort" = Option<String>, Query, description = "newest (default), price_asc, price_desc, name, relevance (needs q; the default with q)"),
        ("limit" = Option<i64>, Query, description = "Page size, 1-100, default 20"),
        ("cursor" = Option<String>, Query, description = "next_cursor of the previous page, with the same filters and sort"),
        ("include_total" = Option<bool>, Query, description = "Count matching rows (up to 10 000)"),
        ("Consistency-Token" = Option<String>, Header, description = "`<stream id>:<version>` from a command response: wait until it is applied"),
    ),
    responses(
        (status = 200, description = "One page of published products", body = ProductPage,
            headers(("ETag" = String), ("Cache-Control" = String))),
        (status = 304, description = "Unchanged since the ETag in If-None-Match"),
        (status = 400, description = "A parameter or the cursor is invalid; `errors` names it", body = platform::openapi::ProblemDoc),
        (status = 503, description = "Consistency-Token not applied in time, or the database is busy", body = platform::openapi::ProblemDoc),
    ),
)]
pub async fn list(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    // Parsed first, cached or not: a bad parameter is always a 400.
    let query = ListingQuery::parse(req.query_string())?;
    let cacheable = state.listings.enabled() && !req.headers().contains_key(consistency::HEADER);
    if cacheable && let Some(page) = state.listings.get(req.query_string()) {
        metrics::counter!(m::LISTING_CACHE, "result" => "hit").increment(1);
        return http_cache::respond(&req, "products", CachePolicy::Public, &*page);
    }
    let conn = ReadConn::open(&state.pool, &state.schema).await?;
    let page = Arc::new(fetch_page(&conn, &query, &state.common_terms).await?);
    let result = if cacheable {
        state
            .listings
            .put(req.query_string().to_owned(), page.clone());
        "miss"
    } else {
        "bypass"
    };
    metrics::counter!(m::LISTING_CACHE, "result" => result).increment(1);
    http_cache::respond(&req, "products", CachePolicy::Public, &*page)
}

/// Runs a listing's page (and total, when asked) on one connection.
pub async fn fetch_page(
    conn: &ReadConn<'_>,
    query: &ListingQuery,
    common_terms: &CommonTerms,
) -> Result<ProductPage, ApiError> {
    let search = match &query.filters.q {
        Some(q) => Some(
            conn.resolve_search(&SearchText::parse(q), common_terms)
                .await?,
        ),
        None => None,
    };
    if search.as_ref().is_some_and(Resolved::matches_nothing) {
        // A word no product holds: nothing to ask the database.
        metrics::counter!(m::SEARCHES, "result" => "nothing").increment(1);
        return Ok(ProductPage {
            items: Vec::new(),
            next_cursor: None,
            total: query.include_total.then_some(0),
            total_is_lower_bound: query.include_total.then_some(false),
        });
    }
    let from_postings = sql::reads_postings(query, search.as_ref());
    if search.is_some() {
        let path = if from_postings { "postings" } else { "indexed" };
        metrics::counter!(m::SEARCHES, "result" => path).increment(1);
    }
    let statement = sql::page(conn.schema.as_str(), query, search.as_ref());
    // A listing's plan follows from its shape (which filters, which sort: each has its index),
    // and so does a page of the search postings, so those are prepared once per connection. A
    // search through the GIN index is planned for its values: how many products hold a word
    // decides between reading the matches and walking an order.
    let rows = if search.is_none() || from_postings {
        conn.query_prepared(&statement.sql, &statement.typed_params())
            .await?
    } else {
        conn.query_typed(&statement.sql, &statement.typed_params())
            .await?
    };
    let limit = usize::try_from(query.limit).unwrap_or(usize::MAX);
    let next_cursor = match rows.get(limit) {
        // The extra row exists, so the page's last row has a successor.
        Some(_) => {
            let last = &rows[limit - 1];
            let driver = search.as_ref().map_or(0, |s| sql::driver(s, query));
            let cursor = Cursor::after_row(query.sort, last, driver).map_err(ApiError::from)?;
            Some(cursor.encode(&query.filters, query.sort))
        }
        None => None,
    };
    let items = rows
        .iter()
        .take(limit)
        .map(ProductItem::from_row)
        .collect::<Result<Vec<_>, _>>()?;
    let (total, total_is_lower_bound) = if query.include_total {
        let statement = sql::total(conn.schema.as_str(), &query.filters, search.as_ref());
        let rows = conn
            .query_typed(&statement.sql, &statement.typed_params())
            .await?;
        let counted: i64 = rows.first().map_or(0, |row| row.get(0));
        let bounded = counted > sql::TOTAL_BOUND;
        metrics::counter!(m::TOTALS, "bounded" => bounded.to_string()).increment(1);
        (Some(counted.min(sql::TOTAL_BOUND)), Some(bounded))
    } else {
        (None, None)
    };
    Ok(ProductPage {
        items,
        next_cursor,
        total,
        total_is_lower_bound,
    })
}

#[utoipa::path(
    get, path = "/v1/products/{id}", tag = "catalog", operation_id = "get_product",
    params(
        ("id" = Uuid, Path, description = "Product id"),
        ("Consistency-Token" = Option<String>, Header, description = "`<stream id>:<version>` from a command response: wait until it is applied"),
    ),
    responses(
        (status = 200, description = "The product", body = ProductDetail, headers(("ETag" = String, description = "`\"<version>\"`: send it as `If-Match` to command-api for a conditional write"), ("Cache-Control" = String), ("Vary" = String))),
        (status = 304, description = "Unchanged since the ETag in If-None-Match"),
        (status = 401, description = "The bearer token is invalid or expired, or its session has ended", body = platform::openapi::ProblemDoc),
        (status = 404, description = "No such product, or not published and not yours", body = platform::openapi::ProblemDoc),
    ),
    security((), ("bearer" = [])),
)]
pub async fn detail(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    QueryParams::parse(req.query_string())?.finish()?;
    let conn = ReadConn::open(&state.pool, &state.schema).await?;
    let row = conn
        .query_opt(
            &conn.sql(
                "SELECT p.id, p.seller_id, p.sku, p.name, p.description, p.category, p.price_minor,
                        p.currency, p.stock, p.created_at, p.updated_at, p.version, p.status
                 FROM {schema}.products p WHERE p.id = $1",
            ),
            &[&id.into_inner()],
        )
        .await?
        .ok_or(ApiError::NotFound)?;
    let product = ProductItem::from_row(&row)?;
    let status: String = row.try_get("status")?;
    let policy = if status == "published" {
        CachePolicy::PublicVaryingByToken
    } else {
        // Hidden rather than forbidden: whether someone's draft exists is nobody else's business.
        let viewer = caller.viewer(&conn).await?.ok_or(ApiError::NotFound)?;
        if !viewer.admin && viewer.id != product.seller_id {
            return Err(ApiError::NotFound);
        }
        CachePolicy::Private
    };
    let version = product.version;
    let detail = ProductDetail { product, status };
    http_cache::respond_versioned(&req, "product", policy, &detail, version)
}
