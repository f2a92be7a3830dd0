//! EXPLAIN evidence: on a large generated catalog, the first and the next page of every
//! filter/sort combination (built by the same `listing::sql` the route runs) is planned on an
//! index, never a sequential scan of `products`.
//!
//! `CC_EXPLAIN_ROWS` sets the catalog size (default 200 000, loaded in about 10 s);
//! `CC_WRITE_EXPLAIN=1` writes the plans it saw to `query-api/EXPLAIN.md`.

mod report;

use std::time::Instant;

use query_api::listing::{
    Cursor, Filters, ListingQuery, Sort, SortKey,
    common_terms::CommonTerms,
    search::{self, Resolved, SearchText},
    sql::{self, Param, Statement},
};
use serde_json::Value;
use testkit::TestDatabase;
use tokio_postgres::Client;
use uuid::Uuid;

use crate::helpers::{READ_MODEL_SQL, SCHEMA};
use report::{Line, Planned, render, scans, summarize};

const DEFAULT_ROWS: i64 = 200_000;
const PAGE: i64 = 20;
const CATEGORY: &str = "category-8";
const MIN_PRICE: i64 = 20_000;
const MAX_PRICE: i64 = 30_000;
const SEARCH: &str = "kettle";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PriceFilter {
    None,
    Min,
    Max,
    Both,
}

/// Every combination of the five filters (price as none/min/max/both, stock as
/// none/true/false) with every sort that applies: 96 filter sets, 432 listings.
fn combinations(seller: Uuid) -> Vec<(Filters, Sort)> {
    let mut out = Vec::new();
    for category in [None, Some(CATEGORY.to_owned())] {
        for price in [
            PriceFilter::None,
            PriceFilter::Min,
            PriceFilter::Max,
            PriceFilter::Both,
        ] {
            for in_stock in [None, Some(true), Some(false)] {
                for seller in [None, Some(seller)] {
                    for q in [None, Some(SEARCH.to_owned())] {
                        let filters = Filters {
                            category: category.clone(),
                            min_price: matches!(price, PriceFilter::Min | PriceFilter::Both)
                                .then_some(MIN_PRICE),
                            max_price: matches!(price, PriceFilter::Max | PriceFilter::Both)
                                .then_some(MAX_PRICE),
                            in_stock,
                            seller,
                            q: q.clone(),
                        };
                        for sort in Sort::ALL {
                            if sort != Sort::Relevance || q.is_some() {
                                out.push((filters.clone(), sort));
                            }
                        }
                    }
                }
            }
        }
    }
    out
}

fn label(filters: &Filters) -> String {
    let mut parts = Vec::new();
    if filters.category.is_some() {
        parts.push("category".to_owned());
    }
    if filters.min_price.is_some() {
        parts.push("min_price".to_owned());
    }
    if filters.max_price.is_some() {
        parts.push("max_price".to_owned());
    }
    if let Some(in_stock) = filters.in_stock {
        parts.push(format!("in_stock={in_stock}"));
    }
    if filters.seller.is_some() {
        parts.push("seller".to_owned());
    }
    if filters.q.is_some() {
        parts.push("q".to_owned());
    }
    if parts.is_empty() {
        "(none)".to_owned()
    } else {
        parts.join(" ")
    }
}

async fn explain_and_run(client: &Client, statement: &Statement) -> Planned {
    let params = statement.typed_params();
    let explained = client
        .query_typed(&format!("EXPLAIN (FORMAT JSON) {}", statement.sql), &params)
        .await
        .unwrap_or_else(|e| panic!("EXPLAIN failed: {e}\n{}", statement.sql));
    let plan: Value = explained[0].get(0);
    let root = &plan[0]["Plan"];
    let mut found = Vec::new();
    scans(root, &mut found);
    let started = Instant::now();
    let rows = client
        .query_typed(&statement.sql, &params)
        .await
        .expect("running the statement");
    Planned {
        summary: summarize(root),
        scans: found,
        elapsed: started.elapsed(),
        rows,
    }
}

/// A parameter as a typed SQL literal, and its type, for `PREPARE` and `EXECUTE`.
fn literal(param: &Param) -> (String, &'static str) {
    let text = |v: &str| format!("'{}'", v.replace('\'', "''"));
    match param {
        Param::Text(v) => (text(v), "text"),
        Param::Int(v) => (v.to_string(), "int8"),
        Param::Uuid(v) => (text(&v.to_string()), "uuid"),
        Param::Time(v) => (text(&v.to_rfc3339()), "timestamptz"),
        Param::Texts(v) => {
            let items: Vec<String> = v.iter().map(|t| text(t)).collect();
            (format!("ARRAY[{}]::text[]", items.join(", ")), "text[]")
        }
    }
}

/// The generic plan of `statement`: the one a connection settles on after a few executions of a
/// prepared statement, whatever the values (`plan_cache_mode = force_generic_plan`).
async fn generic_plan(client: &Client, statement: &Statement) -> Vec<(String, String, String)> {
    let (values, types): (Vec<String>, Vec<&str>) = statement.params.iter().map(literal).unzip();
    client
        .batch_execute(&format!(
            "SET plan_cache_mode = force_generic_plan; PREPARE generic({}) AS {}",
            types.join(", "),
            statement.sql
        ))
        .await
        .unwrap_or_else(|e| panic!("PREPARE failed: {e}\n{}", statement.sql));
    let explained = client
        .query_one(
            &format!(
                "EXPLAIN (FORMAT JSON) EXECUTE generic({})",
                values.join(", ")
            ),
            &[],
        )
        .await
        .expect("EXPLAIN EXECUTE");
    client
        .batch_execute("DEALLOCATE generic; RESET plan_cache_mode")
        .await
        .expect("DEALLOCATE");
    let plan: Value = explained.get(0);
    let mut found = Vec::new();
    scans(&plan[0]["Plan"], &mut found);
    found
}

fn seq_scans_on_products(planned: &Planned) -> bool {
    planned
        .scans
        .iter()
        .any(|(node, relation, _)| node == "Seq Scan" && relation == "products")
}

/// When page 1 has no successor, a plausible position in the middle of the order.
fn synthetic_cursor(sort: Sort) -> Cursor {
    let key = match sort {
        Sort::Newest => SortKey::CreatedAt(1_700_000_000_000_000),
        Sort::PriceAsc | Sort::PriceDesc => SortKey::Price(25_000),
        Sort::Name => SortKey::Name("Modern oak lamp".to_owned()),
        Sort::Relevance => SortKey::Relevance {
            impact: 1,
            driver: 0,
        },
    };
    Cursor {
        key,
        id: Uuid::nil(),
    }
}

#[tokio::test]
async fn every_listing_page_is_planned_on_an_index_over_a_large_catalog() {
    let rows: i64 = std::env::var("CC_EXPLAIN_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_ROWS);
    let db = TestDatabase::create().await.expect("test database");
    let client = db.connect().await.expect("connection");
    let load_time = testkit::catalog::load_generated(&client, SCHEMA, READ_MODEL_SQL, rows)
        .await
        .expect("loading the generated catalog");
    let seller: Uuid = client
        .query_one("SELECT md5('s42')::uuid", &[])
        .await
        .expect("seller id")
        .get(0);

    let resolved = search::resolve(
        &client,
        SCHEMA,
        &SearchText::parse(SEARCH),
        &CommonTerms::default(),
    )
    .await
    .expect("resolving the search");
    assert!(!resolved.matches_nothing(), "{SEARCH} is in the catalog");
    let search_of =
        |filters: &Filters| -> Option<&Resolved> { filters.q.as_ref().map(|_| &resolved) };

    let started = Instant::now();
    let mut lines = Vec::new();
    let mut violations = Vec::new();
    for (filters, sort) in combinations(seller) {
        let first_query = ListingQuery::first_page(filters.clone(), sort, PAGE);
        let search = search_of(&filters);
        let first = explain_and_run(&client, &sql::page(SCHEMA, &first_query, search)).await;
        let last = first.rows.get(PAGE as usize - 1).or(first.rows.last());
        let cursor = last
            .map(|row| {
                let driver = search.map_or(0, |s| sql::driver(s, &first_query));
                Cursor::after_row(sort, row, driver).expect("cursor from a row")
            })
            .unwrap_or_else(|| synthetic_cursor(sort));
        let next_query = ListingQuery {
            after: Some(cursor),
            ..first_query.clone()
        };
        let next = explain_and_run(&client, &sql::page(SCHEMA, &next_query, search)).await;
        for (page, planned) in [("first", &first), ("next", &next)] {
            if seq_scans_on_products(planned) {
                violations.push(format!(
                    "{} / {} / {page}: {}",
                    sort.as_str(),
                    label(&filters),
                    planned.summary
                ));
            }
        }
        // What query-api prepares (every listing without a search, and a search page read
        // from the postings) must stay on an index in its generic plan too.
        for (page, query) in [("first", &first_query), ("next", &next_query)] {
            if search.is_some() && !sql::reads_postings(query, search) {
                continue;
            }
            let generic = generic_plan(&client, &sql::page(SCHEMA, query, search)).await;
            if generic
                .iter()
                .any(|(node, relation, _)| node == "Seq Scan" && relation == "products")
            {
                violations.push(format!(
                    "{} / {} / {page} (generic plan): {generic:?}",
                    sort.as_str(),
                    label(&filters)
                ));
            }
        }
        lines.push(Line {
            sort,
            filters: label(&filters),
            first,
            next,
        });
    }

    // Totals: bounded by their LIMIT whatever the plan; recorded, and checked to stay bounded.
    let mut totals = Vec::new();
    let mut seen_filters = Vec::new();
    for (filters, _) in combinations(seller) {
        if seen_filters.contains(&filters) {
            continue;
        }
        let planned =
            explain_and_run(&client, &sql::total(SCHEMA, &filters, search_of(&filters))).await;
        assert!(
            planned.summary.starts_with("Aggregate → Limit"),
            "a total is always bounded: {}",
            planned.summary
        );
        totals.push((label(&filters), planned));
        seen_filters.push(filters);
    }
    let checked_in = started.elapsed();

    if std::env::var("CC_WRITE_EXPLAIN").is_ok_and(|v| v == "1") {
        let version: String = client
            .query_one("SHOW server_version", &[])
            .await
            .expect("version")
            .get(0);
        let doc = render(rows, &version, load_time, checked_in, &lines, &totals);
        std::fs::write(concat!(env!("CARGO_MANIFEST_DIR"), "/EXPLAIN.md"), doc)
            .expect("writing EXPLAIN.md");
    }
    drop(client);
    drop_database(&db).await;
    assert!(
        violations.is_empty(),
        "sequential scans on products:\n{}",
        violations.join("\n")
    );
}

/// The catalog is large; do not leave it behind.
async fn drop_database(db: &TestDatabase) {
    if let Ok((admin, connection)) =
        tokio_postgres::connect(&testkit::database::admin_url(), tokio_postgres::NoTls).await
    {
        tokio::spawn(connection);
        let _ = admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", db.name))
            .await;
    }
}
