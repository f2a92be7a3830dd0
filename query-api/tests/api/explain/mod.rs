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
    sql::{self, Statement},
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
        Sort::Relevance => SortKey::Rank(0.1),
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

    let started = Instant::now();
    let mut lines = Vec::new();
    let mut violations = Vec::new();
    for (filters, sort) in combinations(seller) {
        let first_query = ListingQuery::first_page(filters.clone(), sort, PAGE);
        let first = explain_and_run(&client, &sql::page(SCHEMA, &first_query)).await;
        let last = first.rows.get(PAGE as usize - 1).or(first.rows.last());
        let cursor = last
            .map(|row| Cursor::after_row(sort, row).expect("cursor from a row"))
            .unwrap_or_else(|| synthetic_cursor(sort));
        let next_query = ListingQuery {
            after: Some(cursor),
            ..first_query
        };
        let next = explain_and_run(&client, &sql::page(SCHEMA, &next_query)).await;
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
        let planned = explain_and_run(&client, &sql::total(SCHEMA, &filters)).await;
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
