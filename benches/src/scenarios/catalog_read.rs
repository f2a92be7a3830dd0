//! Catalog reads through query-api on a large generated catalog: the first page, a filtered page,
//! a page deep behind a cursor, and searches (a common word, a rare one, two words, a prefix being
//! typed, a typo). Two ceilings each, in the same run: pgbench running the very page statement
//! the route runs (built by query-api's own `listing::sql`; a search's lexeme lookups before it
//! are not in the script), prepared, with the same number of clients, and the same server's
//! cheapest endpoint, `/health/live`.

use std::time::Duration;

use anyhow::Context;
use query_api::listing::{
    Cursor, Filters, ListingQuery, Sort, SortKey,
    common_terms::CommonTerms,
    search::{self, SearchText},
    sql::{self, Param, Statement},
};
use serde_json::json;
use tokio_postgres::Client;

use crate::{
    cpu,
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
    goal: &'static str,
}

/// The searches measured: (name, `q` as typed). The generated catalog has 15 materials in names
/// and descriptions, 40 nouns in names (2.5 % each) and an item number per product.
const SEARCHES: [(&str, &str); 5] = [
    ("search: common word", "oak"),
    ("search: rare word", "424242"),
    ("search: two words", "granite kettle"),
    ("search: prefix being typed", "kett"),
    ("search: one typo", "ketle"),
];

const SEARCH_GOAL: &str = ">= 1 000/s, p99 < 20 ms (cache off)";

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
            Param::Texts(v) => {
                let items: Vec<String> = v
                    .iter()
                    .map(|t| format!("'{}'", t.replace('\'', "''")))
                    .collect();
                format!("ARRAY[{}]::text[]", items.join(", "))
            }
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
    let encoded = cursor.encode(&Filters::default(), Sort::Newest);
    let mut listings = vec![
        Listing {
            name: "first page",
            query_string: "limit=20".to_owned(),
            statement: sql::page(schema, &first, None),
            goal: "cache off >= 0.8x pgbench; cache on >= 0.8x /health/live",
        },
        Listing {
            name: "filtered page",
            query_string:
                "category=category-8&min_price=20000&max_price=30000&in_stock=true&sort=price_asc&limit=20"
                    .to_owned(),
            statement: sql::page(schema, &filtered, None),
            goal: "cache off >= 0.8x pgbench",
        },
        Listing {
            name: "deep cursor page",
            query_string: format!("limit=20&cursor={encoded}"),
            statement: sql::page(schema, &deep, None),
            goal: "cache off >= 0.8x pgbench",
        },
    ];
    for (name, q) in SEARCHES {
        let resolved = search::resolve(
            client,
            schema,
            &SearchText::parse(q),
            &CommonTerms::default(),
        )
        .await
        .with_context(|| format!("resolving the search {q:?}"))?;
        anyhow::ensure!(
            !resolved.matches_nothing(),
            "{q:?} finds nothing in the catalog"
        );
        let query = ListingQuery::first_page(
            Filters {
                q: Some(q.to_owned()),
                ..Filters::default()
            },
            Sort::Relevance,
            20,
        );
        listings.push(Listing {
            name,
            query_string: format!("q={}&limit=20", q.replace(' ', "%20")),
            statement: sql::page(schema, &query, Some(&resolved)),
            goal: SEARCH_GOAL,
        });
    }
    Ok(listings)
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
    /// The uncached server's process, whose CPU per request the capacity model uses.
    pub uncached_pid: u32,
}

pub async fn run(
    servers: Servers<'_>,
    database_url: &str,
    client: &Client,
    schema: &str,
    size: Size,
) -> anyhow::Result<Vec<Outcome>> {
    let clients = size.concurrency;
    let postmaster = cpu::postmaster(client).await;
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
            pgbench::Protocol::Prepared,
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
            let meter = cpu::Meter::start(servers.uncached_pid, postmaster);
            let ours = http_load(url, clients, size.duration).await;
            let mut notes = Vec::new();
            let mut measured = serde_json::to_value(&ours)?;
            if base == servers.uncached {
                let (service_ms, postgres_ms) = meter.per_unit_ms(ours.requests as f64);
                measured["query_api_cpu_ms_per_request"] = json!(service_ms);
                measured["postgres_cpu_ms_per_request"] = json!(postgres_ms);
                notes.push(format!(
                    "CPU per request: query-api {service_ms:.3} ms, PostgreSQL {}",
                    postgres_ms.map_or("not measured".to_owned(), |ms| format!("{ms:.3} ms"))
                ));
            }
            outcomes.push(Outcome {
                scenario: format!("catalog-read: {} ({cache})", listing.name),
                description: format!(
                    "GET /v1/products?{} on {} products, {clients} clients, the same request repeated ({cache}); ceilings: pgbench of the same page statement, prepared (`-M prepared`: parsed and planned once per connection), and GET /health/live of the same server",
                    listing.query_string, size.catalog_products
                ),
                ours_per_second: ours.throughput,
                ceilings: vec![
                    Ceiling::new(
                        "pgbench, same SQL",
                        database,
                        ours.throughput,
                        json!({ "clients": clients, "protocol": "prepared", "sql": script.trim() }),
                    ),
                    Ceiling::new(
                        "GET /health/live",
                        live.throughput,
                        ours.throughput,
                        serde_json::to_value(&live)?,
                    ),
                ],
                ours: measured,
                goal: listing.goal,
                notes,
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
