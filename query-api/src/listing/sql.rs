//! The SQL of a listing page and of its bounded total, built from a `ListingQuery`.
//!
//! Every statement has the shape the read model's indexes were made for:
//! `status = 'published'` (the leading index column), equality filters, then a keyset
//! condition `(key, id) < ($k, $id)` in the same direction as `ORDER BY key, id`, and a LIMIT.
//! Values are always bind parameters; only the schema name (checked to be an identifier) is
//! spliced in. The statements are executed unnamed (`query_typed`), so each is planned for its
//! own values: a rare category and a common one deserve different plans.

use chrono::{DateTime, Utc};
use tokio_postgres::types::{ToSql, Type};
use uuid::Uuid;

use super::{
    cursor::SortKey,
    filters::{Filters, Sort},
    query::ListingQuery,
};

/// `include_total=true` counts at most this many rows, so a total never costs more than a
/// bounded scan; above it the answer says `total_is_lower_bound`.
pub const TOTAL_BOUND: i64 = 10_000;

/// Columns of a listing row, in the order `routes::products` reads them.
const COLUMNS: &str = "p.id, p.seller_id, p.sku, p.name, p.description, p.category, \
     p.price_minor, p.currency, p.stock, p.created_at, p.updated_at, p.version";

/// One bind parameter, with the type the statement declares for it.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Text(String),
    Int(i64),
    Uuid(Uuid),
    Time(DateTime<Utc>),
    Real(f32),
}

impl Param {
    fn typed(&self) -> (&(dyn ToSql + Sync), Type) {
        match self {
            Param::Text(v) => (v, Type::TEXT),
            Param::Int(v) => (v, Type::INT8),
            Param::Uuid(v) => (v, Type::UUID),
            Param::Time(v) => (v, Type::TIMESTAMPTZ),
            Param::Real(v) => (v, Type::FLOAT4),
        }
    }
}

/// A statement and its parameters, ready for `query_typed` (or `EXPLAIN`).
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub sql: String,
    pub params: Vec<Param>,
}

impl Statement {
    pub fn typed_params(&self) -> Vec<(&(dyn ToSql + Sync), Type)> {
        self.params.iter().map(Param::typed).collect()
    }
}

#[derive(Default)]
struct Builder {
    params: Vec<Param>,
    conditions: Vec<String>,
}

impl Builder {
    fn bind(&mut self, param: Param) -> String {
        self.params.push(param);
        format!("${}", self.params.len())
    }

    /// `status = 'published'` and one condition per filter; returns the search query's
    /// placeholder when there is one.
    fn filters(&mut self, filters: &Filters) -> Option<String> {
        // A literal, not a parameter: it is the same for every listing, and the planner then
        // matches it to the leading column of every listing index.
        self.conditions.push("p.status = 'published'".to_owned());
        if let Some(category) = &filters.category {
            let p = self.bind(Param::Text(category.clone()));
            self.conditions.push(format!("p.category = {p}"));
        }
        if let Some(min) = filters.min_price {
            let p = self.bind(Param::Int(min));
            self.conditions.push(format!("p.price_minor >= {p}"));
        }
        if let Some(max) = filters.max_price {
            let p = self.bind(Param::Int(max));
            self.conditions.push(format!("p.price_minor <= {p}"));
        }
        match filters.in_stock {
            Some(true) => self.conditions.push("p.stock > 0".to_owned()),
            Some(false) => self.conditions.push("p.stock <= 0".to_owned()),
            None => {}
        }
        if let Some(seller) = filters.seller {
            let p = self.bind(Param::Uuid(seller));
            self.conditions.push(format!("p.seller_id = {p}"));
        }
        let q = filters
            .q
            .as_ref()
            .map(|q| self.bind(Param::Text(q.clone())));
        if let Some(q) = &q {
            // Same configuration as the generated `search` column, or nothing would match.
            self.conditions
                .push(format!("p.search @@ websearch_to_tsquery('english', {q})"));
        }
        q
    }

    fn where_clause(&self) -> String {
        self.conditions.join("\n  AND ")
    }
}

fn rank_expression(q: &str) -> String {
    format!("ts_rank_cd(p.search, websearch_to_tsquery('english', {q}))")
}

/// One page of the listing: `limit + 1` rows, the extra one telling whether a next page exists.
pub fn page(schema: &str, query: &ListingQuery) -> Statement {
    let mut b = Builder::default();
    let q = b.filters(&query.filters);
    let rank = q.as_deref().map(rank_expression);
    let (key, descending) = match query.sort {
        Sort::Newest => ("p.created_at".to_owned(), true),
        Sort::PriceAsc => ("p.price_minor".to_owned(), false),
        Sort::PriceDesc => ("p.price_minor".to_owned(), true),
        Sort::Name => ("p.name".to_owned(), false),
        // `ListingQuery::parse` refuses relevance without `q`; rank 0 for all keeps a
        // hand-built query well-defined rather than panicking.
        Sort::Relevance => (rank.clone().unwrap_or_else(|| "0::real".to_owned()), true),
    };
    if let Some(after) = &query.after {
        let key_param = match &after.key {
            SortKey::CreatedAt(micros) => {
                Param::Time(SortKey::created_at(*micros).unwrap_or_default())
            }
            SortKey::Price(price) => Param::Int(*price),
            SortKey::Name(name) => Param::Text(name.clone()),
            SortKey::Rank(rank) => Param::Real(*rank),
        };
        let k = b.bind(key_param);
        let id = b.bind(Param::Uuid(after.id));
        let op = if descending { "<" } else { ">" };
        b.conditions.push(format!("({key}, p.id) {op} ({k}, {id})"));
    }
    let direction = if descending { "DESC" } else { "ASC" };
    let select_rank = match (&rank, query.sort) {
        (Some(rank), Sort::Relevance) => format!(",\n       {rank} AS rank"),
        _ => String::new(),
    };
    let limit = b.bind(Param::Int(query.limit + 1));
    let sql = format!(
        "SELECT {COLUMNS}{select_rank}\nFROM {schema}.products p\nWHERE {}\nORDER BY {key} {direction}, p.id {direction}\nLIMIT {limit}",
        b.where_clause()
    );
    Statement {
        sql,
        params: b.params,
    }
}

/// How many rows match the filters (not the cursor), counting at most `TOTAL_BOUND + 1`.
pub fn total(schema: &str, filters: &Filters) -> Statement {
    let mut b = Builder::default();
    b.filters(filters);
    let bound = b.bind(Param::Int(TOTAL_BOUND + 1));
    let sql = format!(
        "SELECT count(*) FROM (\n  SELECT 1 FROM {schema}.products p\n  WHERE {}\n  LIMIT {bound}\n) AS bounded",
        b.where_clause()
    );
    Statement {
        sql,
        params: b.params,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::listing::cursor::Cursor;

    #[test]
    fn a_next_page_continues_after_the_cursor_in_the_sort_direction() {
        let mut query = ListingQuery::first_page(
            Filters {
                category: Some("shoes".to_owned()),
                ..Filters::default()
            },
            Sort::PriceDesc,
            20,
        );
        query.after = Some(Cursor {
            key: SortKey::Price(500),
            id: Uuid::nil(),
        });
        let statement = page("read_v1", &query);
        assert!(statement.sql.contains("(p.price_minor, p.id) < ($2, $3)"));
        assert!(
            statement
                .sql
                .contains("ORDER BY p.price_minor DESC, p.id DESC")
        );
        assert_eq!(statement.params.last(), Some(&Param::Int(21)));
    }

    #[test]
    fn relevance_ranks_with_the_search_parameter() {
        let query = ListingQuery::first_page(
            Filters {
                q: Some("mug".to_owned()),
                ..Filters::default()
            },
            Sort::Relevance,
            5,
        );
        let statement = page("read_v1", &query);
        assert!(
            statement
                .sql
                .contains("ts_rank_cd(p.search, websearch_to_tsquery('english', $1)) AS rank")
        );
        assert!(statement.sql.contains("ORDER BY ts_rank_cd"));
    }
}
