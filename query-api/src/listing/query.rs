//! The listing's parameters, parsed into a `ListingQuery` that cannot hold a bad value.

use domain::values::CategorySlug;

use super::{
    cursor::{Cursor, CursorError},
    filters::{Filters, Sort},
};
use crate::{
    error::ApiError,
    params::{self, QueryParams},
};

/// Rows per page when the client does not say.
pub const DEFAULT_LIMIT: i64 = 20;
/// Largest page a client may ask for: bounds the work (and the response) of one request.
pub const MAX_LIMIT: i64 = 100;
/// Longest search text: longer input is an abuse of the parser rather than a real search.
pub const MAX_QUERY_LEN: usize = 200;
/// Prices are minor units in an `i64`; anything above this is a typo, and keeps sums sane.
pub const MAX_PRICE: i64 = 1_000_000_000_000;

/// One listing request, valid by construction.
#[derive(Debug, Clone, PartialEq)]
pub struct ListingQuery {
    pub filters: Filters,
    pub sort: Sort,
    pub limit: i64,
    /// Where the previous page ended; `None` for the first page.
    pub after: Option<Cursor>,
    pub include_total: bool,
}

impl ListingQuery {
    /// The first page of `filters` in `sort`.
    pub fn first_page(filters: Filters, sort: Sort, limit: i64) -> Self {
        Self {
            filters,
            sort,
            limit,
            after: None,
            include_total: false,
        }
    }

    /// Parses `GET /v1/products`'s query string; every bad parameter is named at once.
    pub fn parse(query_string: &str) -> Result<Self, ApiError> {
        let mut params = QueryParams::parse(query_string)?;
        let category = params.parsed("category", |raw| {
            CategorySlug::parse(raw)
                .map(|slug| slug.as_str().to_owned())
                .map_err(|e| e.to_string())
        });
        let min_price = params.parsed("min_price", |raw| params::integer_in(raw, 0, MAX_PRICE));
        let max_price = params.parsed("max_price", |raw| params::integer_in(raw, 0, MAX_PRICE));
        // A range with min above max is empty, not wrong: the page has no items (a price slider
        // dragged past the other is a state a shop front passes on as is).
        let in_stock = params.parsed("in_stock", params::boolean);
        let seller = params.parsed("seller", params::uuid);
        // Not trimmed: a space after the last word says the word is finished (no completions).
        let q = params.take("q").and_then(|raw| {
            if raw.chars().count() > MAX_QUERY_LEN {
                params.error("q", format!("must be at most {MAX_QUERY_LEN} characters"));
                None
            } else {
                Some(raw.trim_start().to_owned())
            }
        });
        let sort = params.parsed("sort", Sort::parse);
        let sort = match (sort, &q) {
            // Without a search every product is equally relevant: newest first, as by default.
            (Some(Sort::Relevance), None) => Sort::Newest,
            (Some(sort), _) => sort,
            (None, Some(_)) => Sort::Relevance,
            (None, None) => Sort::Newest,
        };
        let limit = params
            .parsed("limit", |raw| params::integer_in(raw, 1, MAX_LIMIT))
            .unwrap_or(DEFAULT_LIMIT);
        let include_total = params
            .parsed("include_total", params::boolean)
            .unwrap_or(false);
        let cursor = params.take("cursor");
        params.finish()?;

        let filters = Filters {
            category,
            min_price,
            max_price,
            in_stock,
            seller,
            q,
        };
        let after = cursor
            .map(|raw| Cursor::decode(&raw, &filters, sort))
            .transpose()
            .map_err(CursorError::into_api_error)?;
        Ok(Self {
            filters,
            sort,
            limit,
            after,
            include_total,
        })
    }
}
