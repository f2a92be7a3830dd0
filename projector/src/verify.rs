//! `projector verify`: an audit of the projection itself. Rebuilds the read model from the
//! first event into a shadow schema, compares it row by row with the live one, reports every
//! difference, and drops the shadow.
//!
//! Streams whose live and shadow versions differ are "in flight" (events arrived after the
//! shadow's snapshot, or the live projector lags): they are listed, not reported as wrong.
//! Category counts depend on every product, so they are compared only when nothing is in
//! flight.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Context;
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio_postgres::Client;
use uuid::Uuid;

use crate::{
    consumer::Finish,
    rebuild::{catch_up, create_next, discard},
    schema::{self, ReadSchema, SchemaState},
    settings::Settings,
};

/// One row that differs: its table, key, and both versions (absent where missing).
#[derive(Debug, Clone, PartialEq)]
pub struct Difference {
    pub table: &'static str,
    pub key: String,
    pub live: Option<Value>,
    pub shadow: Option<Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub live: ReadSchema,
    pub shadow: ReadSchema,
    /// Rows in the shadow schema, per table.
    pub compared: BTreeMap<&'static str, i64>,
    pub differences: Vec<Difference>,
    /// Streams whose versions differ between live and shadow.
    pub in_flight: BTreeSet<Uuid>,
}

impl Report {
    pub fn to_json(&self) -> Value {
        json!({
            "live": self.live.as_str(),
            "shadow": self.shadow.as_str(),
            "compared": self.compared,
            "in_flight": self.in_flight,
            "differences": self.differences.iter().map(|d| json!({
                "table": d.table, "key": d.key, "live": d.live, "shadow": d.shadow,
            })).collect::<Vec<_>>(),
        })
    }
}

/// Rows of `{table}` that differ, keyed by `{key}`; `{live}`/`{shadow}` are the two schemas.
/// The search vector is derived from compared columns, so it is left out.
const DIFF: &str = "
    SELECT {key_text}, to_jsonb(l) - 'search', to_jsonb(s) - 'search'
    FROM {live}.{table} l FULL JOIN {shadow}.{table} s ON {join}
    WHERE (to_jsonb(l) - 'search') IS DISTINCT FROM (to_jsonb(s) - 'search')";

/// (table, key expression as text, join condition, stream id expression or NULL)
const TABLES: [(&str, &str, &str, &str); 5] = [
    (
        "products",
        "COALESCE(l.id, s.id)::text",
        "l.id = s.id",
        "COALESCE(l.id, s.id)",
    ),
    (
        "search_postings",
        "COALESCE(l.term, s.term) || ' ' || COALESCE(l.impact, s.impact) || ' ' || COALESCE(l.product_id, s.product_id)",
        "l.term = s.term AND l.impact = s.impact AND l.product_id = s.product_id",
        "COALESCE(l.product_id, s.product_id)",
    ),
    (
        "users",
        "COALESCE(l.id, s.id)::text",
        "l.id = s.id",
        "COALESCE(l.id, s.id)",
    ),
    (
        "audit_events",
        "COALESCE(l.stream_id, s.stream_id)::text || '@' || COALESCE(l.version, s.version)",
        "l.stream_id = s.stream_id AND l.version = s.version",
        "COALESCE(l.stream_id, s.stream_id)",
    ),
    (
        "categories",
        "COALESCE(l.slug, s.slug)",
        "l.slug = s.slug",
        "NULL::uuid",
    ),
];

/// Rebuilds into a shadow schema, compares, drops the shadow.
pub async fn verify(
    settings: &Settings,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<Report> {
    let pool = settings.database.pool()?;
    let (shadow, generation) = create_next(&pool, ReadSchema::shadow, SchemaState::Shadow).await?;
    // Under the rebuild prefix, which is what the Kafka ACLs grant for side-by-side groups.
    let group = format!("{}-rebuild-verify-{generation}", settings.consumer.group_id);
    tracing::info!(%shadow, %group, "rebuilding into a shadow schema to verify the live one");
    let finish = catch_up(settings, &pool, &shadow, group, shutdown).await;
    let report = match finish {
        Ok(Finish::CaughtUp) => match pool.get().await {
            Ok(client) => compare(&client, &shadow).await,
            Err(error) => Err(error.into()),
        },
        Ok(Finish::Stopped) => Err(anyhow::anyhow!("verify was stopped before it caught up")),
        Err(error) => Err(error),
    };
    discard(&pool, &shadow).await;
    report
}

/// Compares the active schema with `shadow`.
pub async fn compare(client: &Client, shadow: &ReadSchema) -> anyhow::Result<Report> {
    let live = schema::active(client)
        .await?
        .context("no active read schema")?;
    let in_flight: BTreeSet<Uuid> = client
        .query(
            &format!(
                "SELECT COALESCE(l.stream_id, s.stream_id)
                 FROM {live}.stream_versions l FULL JOIN {shadow}.stream_versions s
                      ON l.stream_id = s.stream_id
                 WHERE l.version IS DISTINCT FROM s.version"
            ),
            &[],
        )
        .await
        .context("comparing stream versions")?
        .iter()
        .map(|row| row.get(0))
        .collect();
    let mut report = Report {
        live: live.clone(),
        shadow: shadow.clone(),
        compared: BTreeMap::new(),
        differences: Vec::new(),
        in_flight,
    };
    for (table, key, join, stream) in TABLES {
        if table == "categories" && !report.in_flight.is_empty() {
            continue;
        }
        let sql = DIFF
            .replace("{key_text}", &format!("{key}, {stream}"))
            .replace("{live}", live.as_str())
            .replace("{shadow}", shadow.as_str())
            .replace("{table}", table)
            .replace("{join}", join);
        for row in client
            .query(&sql, &[])
            .await
            .with_context(|| format!("comparing {table}"))?
        {
            let stream: Option<Uuid> = row.get(1);
            if stream.is_some_and(|id| report.in_flight.contains(&id)) {
                continue;
            }
            report.differences.push(Difference {
                table,
                key: row.get(0),
                live: row.get(2),
                shadow: row.get(3),
            });
        }
        let count = client
            .query_one(&format!("SELECT count(*) FROM {shadow}.{table}"), &[])
            .await
            .with_context(|| format!("counting {table}"))?;
        report.compared.insert(table, count.get(0));
    }
    Ok(report)
}
