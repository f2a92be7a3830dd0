//! The SQL of a listing page and of its bounded total, built from a `ListingQuery`.
//!
//! Every statement has the shape the read model's indexes were made for:
//! `status = 'published'` (the leading index column), equality filters, then a keyset
//! condition `(key, id) < ($k, $id)` in the same direction as `ORDER BY key, id`, and a LIMIT.
//! Values are always bind parameters; only the schema name (checked to be an identifier) is
//! spliced in. A listing without a search is a prepared statement, kept per connection: its
//! plan follows from its shape (filters and sort each have their index), which the EXPLAIN
//! test checks on the generic plan too. A search through the GIN index is executed unnamed
//! (`query_typed`), planned for its values: a word in ten products and one in a million deserve
//! different plans.
//!
//! A search (`q`) is resolved into lexemes first (`search::resolve`). Sorted by relevance with
//! no other filter, the page reads the search postings of its rarest word in impact order and
//! checks the other words on each candidate product, so it stops after a page of matches. With
//! filters or another sort, the GIN index on `products.search` finds the matches and the
//! filters' indexes order them, as for any listing.

use chrono::{DateTime, Utc};
use tokio_postgres::types::{ToSql, Type};
use uuid::Uuid;

use super::{
    cursor::SortKey,
    filters::{Filters, Sort},
    query::ListingQuery,
    search::{Resolved, any_of},
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
    Texts(Vec<String>),
}

impl Param {
    fn typed(&self) -> (&(dyn ToSql + Sync), Type) {
        match self {
            Param::Text(v) => (v, Type::TEXT),
            Param::Int(v) => (v, Type::INT8),
            Param::Uuid(v) => (v, Type::UUID),
            Param::Time(v) => (v, Type::TIMESTAMPTZ),
            Param::Texts(v) => (v, Type::TEXT_ARRAY),
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

    /// `status = 'published'` and one condition per filter, the search's lexemes included
    /// (`search`: a `q` that was not resolved is no condition).
    fn filters(&mut self, filters: &Filters, search: Option<&Resolved>) {
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
        if let Some(tsquery) = search.and_then(|s| s.tsquery(None)) {
            self.matches(tsquery);
        }
    }

    /// `products.search` holds these lexemes (`tsquery` text, taken as is: the lexemes are
    /// already what the `english` configuration made of the words).
    fn matches(&mut self, tsquery: String) {
        let q = self.bind(Param::Text(tsquery));
        self.conditions.push(format!("p.search @@ {q}::tsquery"));
    }

    fn where_clause(&self) -> String {
        self.conditions.join("\n  AND ")
    }
}

/// A product's impact for the first of `lexemes` (alternatives of one word) that it holds: what
/// the postings page ranks it by, so both paths order a walk alike.
fn rank_expression(schema: &str, lexemes: &str) -> String {
    format!(
        "coalesce((SELECT {schema}.search_impact(u.weights) \
         FROM unnest({lexemes}) WITH ORDINALITY AS a(lexeme, n) \
         JOIN unnest(p.search) AS u ON u.lexeme = a.lexeme ORDER BY a.n LIMIT 1), 0)::int8"
    )
}

/// The word whose postings a relevance page reads, or whose impact it ranks by: the one the
/// cursor names (the walk began with it), else the rarest.
pub fn driver(search: &Resolved, query: &ListingQuery) -> usize {
    match query.after.as_ref().map(|after| &after.key) {
        Some(SortKey::Relevance { driver, .. }) if usize::from(*driver) < search.words.len() => {
            usize::from(*driver)
        }
        _ => search.driver(),
    }
}

/// Whether this page reads the search postings: relevance order and no filter but the search.
pub fn reads_postings(query: &ListingQuery, search: Option<&Resolved>) -> bool {
    let f = &query.filters;
    query.sort == Sort::Relevance
        && search.is_some_and(|s| !s.matches_nothing())
        && f.category.is_none()
        && f.min_price.is_none()
        && f.max_price.is_none()
        && f.in_stock.is_none()
        && f.seller.is_none()
}

/// One page of the listing: `limit + 1` rows, the extra one telling whether a next page exists.
/// `search` is `query.filters.q` resolved; without it a `q` filters nothing.
pub fn page(schema: &str, query: &ListingQuery, search: Option<&Resolved>) -> Statement {
    match search {
        Some(resolved) if reads_postings(query, search) => postings_page(schema, query, resolved),
        _ => indexed_page(schema, query, search),
    }
}

/// The page of a relevance search without other filters, from the postings of its rarest word.
/// Each of the word's alternatives is one index range read backwards (strongest first), merged
/// in order; a product holding two alternatives counts under the first one only, so it is
/// listed once. The other words and the exclusions are checked on the product row.
fn postings_page(schema: &str, query: &ListingQuery, search: &Resolved) -> Statement {
    let mut b = Builder::default();
    let driver = driver(search, query);
    let alternatives = &search.words[driver].alternatives;
    let after = query.after.as_ref().map(|after| {
        let impact = match after.key {
            SortKey::Relevance { impact, .. } => impact,
            _ => i64::MAX,
        };
        let k = b.bind(Param::Int(impact));
        (k, b.bind(Param::Uuid(after.id)))
    });
    let mut branches = Vec::new();
    for (index, lexeme) in alternatives.iter().enumerate() {
        let term = b.bind(Param::Text(lexeme.clone()));
        let keyset = after
            .as_ref()
            .map(|(k, id)| format!(" AND (h.impact, h.product_id) < ({k}, {id})"))
            .unwrap_or_default();
        branches.push(format!(
            "(SELECT {index} AS alternative, h.impact, h.product_id\n   FROM {schema}.search_postings h\n   WHERE h.term = {term}{keyset}\n   ORDER BY h.impact DESC, h.product_id DESC)"
        ));
    }
    b.conditions.push("p.status = 'published'".to_owned());
    if let Some(others) = search.tsquery(Some(driver)) {
        b.matches(others);
    }
    if alternatives.len() > 1 {
        let mut arms = vec!["WHEN 0 THEN true".to_owned()];
        for index in 1..alternatives.len() {
            let earlier = b.bind(Param::Text(any_of(&alternatives[..index])));
            arms.push(format!(
                "WHEN {index} THEN NOT p.search @@ {earlier}::tsquery"
            ));
        }
        b.conditions
            .push(format!("CASE h.alternative {} END", arms.join(" ")));
    }
    let limit = b.bind(Param::Int(query.limit + 1));
    let sql = format!(
        "SELECT {COLUMNS},\n       h.impact::int8 AS rank\nFROM (\n  {}\n) h\nJOIN {schema}.products p ON p.id = h.product_id\nWHERE {}\nORDER BY h.impact DESC, h.product_id DESC\nLIMIT {limit}",
        branches.join("\n  UNION ALL\n  "),
        b.where_clause()
    );
    Statement {
        sql,
        params: b.params,
    }
}

/// A page found through the listing indexes (and the GIN index of `products.search`).
fn indexed_page(schema: &str, query: &ListingQuery, search: Option<&Resolved>) -> Statement {
    let mut b = Builder::default();
    b.filters(&query.filters, search);
    let rank = search.filter(|s| !s.words.is_empty()).map(|s| {
        let lexemes = b.bind(Param::Texts(s.words[driver(s, query)].alternatives.clone()));
        rank_expression(schema, &lexemes)
    });
    let (key, descending) = match query.sort {
        Sort::Newest => ("p.created_at".to_owned(), true),
        Sort::PriceAsc => ("p.price_minor".to_owned(), false),
        Sort::PriceDesc => ("p.price_minor".to_owned(), true),
        Sort::Name => ("p.name".to_owned(), false),
        // `ListingQuery::parse` refuses relevance without `q`; rank 0 for all keeps a
        // hand-built query well-defined rather than panicking.
        Sort::Relevance => (rank.clone().unwrap_or_else(|| "0::int8".to_owned()), true),
    };
    if let Some(after) = &query.after {
        let key_param = match &after.key {
            SortKey::CreatedAt(micros) => {
                Param::Time(SortKey::created_at(*micros).unwrap_or_default())
            }
            SortKey::Price(price) => Param::Int(*price),
            SortKey::Name(name) => Param::Text(name.clone()),
            SortKey::Relevance { impact, .. } => Param::Int(*impact),
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
pub fn total(schema: &str, filters: &Filters, search: Option<&Resolved>) -> Statement {
    let mut b = Builder::default();
    b.filters(filters, search);
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
        let statement = page("read_v1", &query, None);
        assert!(statement.sql.contains("(p.price_minor, p.id) < ($2, $3)"));
        assert!(
            statement
                .sql
                .contains("ORDER BY p.price_minor DESC, p.id DESC")
        );
        assert_eq!(statement.params.last(), Some(&Param::Int(21)));
    }

    fn resolved(words: &[&[&str]]) -> Resolved {
        Resolved {
            words: words
                .iter()
                .map(|alternatives| crate::listing::search::Word {
                    alternatives: alternatives.iter().map(|a| a.to_string()).collect(),
                    postings: 10,
                })
                .collect(),
            excluded: vec![],
        }
    }

    #[test]
    fn a_relevance_search_reads_the_postings_of_each_alternative_in_impact_order() {
        let query = ListingQuery::first_page(
            Filters {
                q: Some("blue kett".to_owned()),
                ..Filters::default()
            },
            Sort::Relevance,
            5,
        );
        let search = resolved(&[&["kettl", "kettlebel"], &["blue"]]);
        let statement = page("read_v1", &query, Some(&search));
        assert_eq!(
            statement
                .sql
                .matches("FROM read_v1.search_postings h")
                .count(),
            2
        );
        assert!(
            statement
                .sql
                .contains("ORDER BY h.impact DESC, h.product_id DESC\nLIMIT")
        );
        assert!(statement.sql.contains("WHEN 1 THEN NOT p.search @@ $"));
        assert!(
            statement
                .params
                .contains(&Param::Text("('blue')".to_owned()))
        );
    }

    #[test]
    fn a_filtered_search_finds_its_rows_through_the_search_vector() {
        let query = ListingQuery::first_page(
            Filters {
                q: Some("mug".to_owned()),
                category: Some("kitchen".to_owned()),
                ..Filters::default()
            },
            Sort::Relevance,
            5,
        );
        let statement = page("read_v1", &query, Some(&resolved(&[&["mug"]])));
        assert!(!statement.sql.contains("search_postings"));
        assert!(statement.sql.contains("p.search @@ $2::tsquery"));
        assert!(statement.sql.contains("read_v1.search_impact(u.weights)"));
    }
}
