//! Catalog reads through query-api on a large generated catalog: the first page, a filtered page,
//! a page deep behind a cursor, and a search. Two ceilings each, in the same run: pgbench running
//! the very statement the route runs (built by query-api's own `listing::sql`) with the same
//! number of clients, and the same server's cheapest endpoint, `/health/live`.

use std::time::Duration;

use anyhow::Context;
use query_api::listing::{
    Cursor, Filters, ListingQuery, Sort, SortKey,
    sql::{self, Param, Statement},
};
use serde_json::json;
use tokio_postgres::Client;

use crate::{
    load::{self, LoadResult},
    pgbench,
    scenarios::{Ceiling, Outcome, Size},
};

/// A listing as the client asks for it (query string) and as the database runs it.
#[derive(Debug)]
struct Listing {
    name: &'static str,
    query_string: String,
    statement: Statement,
}

/// `statement` with its parameters written in as typed literals, for a pgbench script.
/// Replaced from the highest number down, so `$1` never eats the start of `$10`.
fn inline(statement: &Statement) -> String {
    let mut sql = statement.sql.clone();
    for (index, param) in statement.params.iter().enumerate().rev() {
        let literal = match param {
            Param::Text(v) => format!("'{}'::text", v.replace('\'', "''")),
            Param::Int(v) => format!("{v}::bigint"),
            Param::Uuid(v) => format!("'{v}'::uuid"),
            Param::Time(v) => format!("'{}'::timestamptz", v.to_rfc3339()),
            Param::Real(v) => format!("'{v:?}'::real"),
        };
        sql = sql.replace(&format!("${}", index + 1), &literal);
    }
    format!("{};\n", sql.replace('\n', " "))
}

/// The four listings, built from the same `ListingQuery` for HTTP and for SQL. The deep page
/// starts behind the row in the middle of the newest-first order.
async fn listings(client: &Client, schema: &str, rows: i64) -> anyhow::Result<Vec<Listing>> {
    let first = ListingQuery::first_page(Filters::default(), Sort::Newest, 20);
    let filtered_filters = Filters {
        category: Some("category-8".to_owned()),
        min_price: Some(20_000),
        max_price: Some(30_000),
        in_stock: Some(true),
        ..Filters::default()
    };
    let filtered = ListingQuery::first_page(filtered_filters, Sort::PriceAsc, 20);
    let middle = client
        .query_one(
            &format!(
                "SELECT created_at, id FROM {schema}.products WHERE status = 'published'
                 ORDER BY created_at DESC, id DESC OFFSET $1 LIMIT 1"
            ),
            &[&(rows / 2)],
        )
        .await
        .context("finding the middle of the catalog")?;
    let created_at: chrono::DateTime<chrono::Utc> = middle.get(0);
    let cursor = Cursor {
        key: SortKey::CreatedAt(created_at.timestamp_micros()),
        id: middle.get(1),
    };
    let deep = ListingQuery {
        after: Some(cursor.clone()),
        ..first.clone()
    };
    let search_filters = Filters {
        q: Some("kettle".to_owned()),
        ..Filters::default()
    };
    let search = ListingQuery::first_page(search_filters, Sort::Relevance, 20);
    let encoded = cursor.encode(&Filters::default(), Sort::Newest);
    Ok(vec![
        Listing {
            name: "first page",
            query_string: "limit=20".to_owned(),
            statement: sql::page(schema, &first),
        },
        Listing {
            name: "filtered page",
            query_string:
                "category=category-8&min_price=20000&max_price=30000&in_stock=true&sort=price_asc&limit=20"
                    .to_owned(),
            statement: sql::page(schema, &filtered),
        },
        Listing {
            name: "deep cursor page",
            query_string: format!("limit=20&cursor={encoded}"),
            statement: sql::page(schema, &deep),
        },
        Listing {
            name: "search",
            query_string: "q=kettle&limit=20".to_owned(),
            statement: sql::page(schema, &search),
        },
    ])
}

/// GETs `url` from `clients` workers for `duration`; a request succeeds on 200.
async fn http_load(url: String, clients: usize, duration: Duration) -> LoadResult {
    let http = reqwest::Client::new();
    load::run(clients, duration, move |_, _| {
        let request = http.get(&url).send();
        async move {
            match request.await {
                // Read the whole body: a client pays for it, and so must the measurement.
                Ok(response) if response.status().as_u16() == 200 => response.bytes().await.is_ok(),
                _ => false,
            }
        }
    })
    .await
}

/// The query-api processes under test: the same binary and database, with the listing cache
/// as shipped (`CC_QUERY__LISTING_CACHE_MS` default) and turned off (every request queries).
#[derive(Debug)]
pub struct Servers<'a> {
    pub cached: &'a str,
    pub uncached: &'a str,
}

pub async fn run(
    servers: Servers<'_>,
    database_url: &str,
    client: &Client,
    schema: &str,
    size: Size,
) -> anyhow::Result<Vec<Outcome>> {
    let clients = size.concurrency;
    let live = http_load(
        format!("{}/health/live", servers.uncached),
        clients,
        size.duration,
    )
    .await;
    let mut outcomes = Vec::new();
    for listing in listings(client, schema, size.catalog_products).await? {
        let script = inline(&listing.statement);
        let database = pgbench::tps_async(
            database_url,
            script.clone(),
            clients,
            size.duration,
            pgbench::Protocol::Extended,
        )
        .await?;
        for (base, cache) in [
            (servers.uncached, "cache off"),
            (servers.cached, "listing cache on"),
        ] {
            let url = format!("{base}/v1/products?{}", listing.query_string);
            let probe = reqwest::get(&url).await?;
            anyhow::ensure!(
                probe.status().as_u16() == 200,
                "{} answered {}: {}",
                listing.name,
                probe.status(),
                probe.text().await.unwrap_or_default()
            );
            let ours = http_load(url, clients, size.duration).await;
            outcomes.push(Outcome {
                scenario: format!("catalog-read: {} ({cache})", listing.name),
                description: format!(
                    "GET /v1/products?{} on {} products, {clients} clients, the same request repeated ({cache}); ceilings: pgbench of the same statement (extended protocol, as query-api sends it), and GET /health/live of the same server",
                    listing.query_string, size.catalog_products
                ),
                ours_per_second: ours.throughput,
                ceilings: vec![
                    Ceiling::new(
                        "pgbench, same SQL",
                        database,
                        ours.throughput,
                        json!({ "clients": clients, "protocol": "extended", "sql": script.trim() }),
                    ),
                    Ceiling::new(
                        "GET /health/live",
                        live.throughput,
                        ours.throughput,
                        serde_json::to_value(&live)?,
                    ),
                ],
                ours: serde_json::to_value(&ours)?,
                goal: if listing.name == "first page" {
                    ">= 1.0x pgbench, p99 < 10 ms"
                } else {
                    "report"
                },
                notes: vec![],
            });
        }
    }
    Ok(outcomes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_writes_every_parameter_as_a_typed_literal() {
        let statement = Statement {
            sql: "SELECT $1, $2, $10".to_owned(),
            params: vec![
                Param::Text("it's".to_owned()),
                Param::Int(7),
                Param::Int(0),
                Param::Int(0),
                Param::Int(0),
                Param::Int(0),
                Param::Int(0),
                Param::Int(0),
                Param::Int(0),
                Param::Int(10),
            ],
        };
        assert_eq!(
            inline(&statement),
            "SELECT 'it''s'::text, 7::bigint, 10::bigint;\n"
        );
    }
}
