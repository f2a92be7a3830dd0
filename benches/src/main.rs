//! `loadgen`: runs every benchmark scenario against the release binaries and the real PostgreSQL
//! and broker, each beside its ceiling, and writes JSON plus a markdown table.
//!
//! usage: loadgen [--quick] [--json FILE] [--markdown FILE]
//! env:   CC_BENCH_DATABASE_URL (superuser; default the local stack's cluster),
//!        CC_BENCH_KAFKA_BOOTSTRAP (default the local in-memory test broker)

mod load;
mod pgbench;
mod prometheus;
mod report;
mod scenarios;
mod services;

use anyhow::Context;
use scenarios::Size;
use services::Service;
use tokio_postgres::NoTls;
use uuid::Uuid;

const ADMIN: (&str, &str) = ("bench-admin@cloudcommerce.dev", "bench-admin-password");

fn arg_value(args: &[String], flag: &str) -> Option<String> {
    args.iter()
        .position(|a| a == flag)
        .and_then(|i| args.get(i + 1).cloned())
}

/// Creates a fresh database with the write-side schema and returns its URL.
async fn create_database(admin_url: &str, name: &str) -> anyhow::Result<String> {
    let (client, connection) = tokio_postgres::connect(admin_url, NoTls)
        .await
        .context("connecting to PostgreSQL (is the stack running? `make bench` starts it)")?;
    tokio::spawn(connection);
    client
        .batch_execute(&format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE); CREATE DATABASE {name}"
        ))
        .await?;
    let url = match admin_url.rsplit_once('/') {
        Some((base, _)) => format!("{base}/{name}"),
        None => anyhow::bail!("CC_BENCH_DATABASE_URL has no database name"),
    };
    let (mut client, connection) = tokio_postgres::connect(&url, NoTls).await?;
    tokio::spawn(connection);
    store::migrations::run(&mut client).await?;
    Ok(url)
}

async fn drop_database(admin_url: &str, name: &str) {
    if let Ok((client, connection)) = tokio_postgres::connect(admin_url, NoTls).await {
        tokio::spawn(connection);
        let _ = client
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await;
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let size = if quick { Size::quick() } else { Size::full() };
    let admin_url = std::env::var("CC_BENCH_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:54329/postgres".to_owned());
    let bootstrap =
        std::env::var("CC_BENCH_KAFKA_BOOTSTRAP").unwrap_or_else(|_| "127.0.0.1:19192".to_owned());

    let run_id = Uuid::new_v4().simple().to_string()[..8].to_owned();
    let (db_name, ceiling_db_name) = (
        format!("cc_bench_{run_id}"),
        format!("cc_bench_{run_id}_ceiling"),
    );
    let database_url = create_database(&admin_url, &db_name).await?;
    let ceiling_url = create_database(&admin_url, &ceiling_db_name).await?;
    let topics = kafka::Topics {
        user: format!("bench.user-events.{run_id}"),
        product: format!("bench.product-events.{run_id}"),
    };
    let kafka = kafka::KafkaSettings::local(&bootstrap, topics.clone());
    let env: Vec<(String, String)> = [
        ("CC_DATABASE__URL", database_url.as_str()),
        ("CC_DATABASE__POOL_SIZE", "32"),
        ("CC_KAFKA__BOOTSTRAP_SERVERS", bootstrap.as_str()),
        ("CC_KAFKA__USER_TOPIC", topics.user.as_str()),
        ("CC_KAFKA__PRODUCT_TOPIC", topics.product.as_str()),
        ("CC_KAFKA__PARTITIONS", "6"),
        (
            "CC_AUTH__JWT_SECRET",
            "bench-secret-that-is-at-least-32-bytes-long",
        ),
        ("CC_BOOTSTRAP_ADMIN__EMAIL", ADMIN.0),
        ("CC_BOOTSTRAP_ADMIN__PASSWORD", ADMIN.1),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();

    let command_api = Service::start("command-api", &["serve"], &env).await?;
    let mut outcomes = Vec::new();
    eprintln!("==> sign-up");
    outcomes.push(scenarios::signup::run(&command_api.base_url, size).await?);
    eprintln!("==> command-write");
    outcomes.push(
        scenarios::command_write::run(&command_api.base_url, &ceiling_url, ADMIN, size).await?,
    );
    let metrics = reqwest::get(format!("{}/metrics", command_api.base_url))
        .await?
        .text()
        .await?;
    let commit_to_ack = serde_json::json!({
        "p50_le_seconds": prometheus::quantile(&metrics, "relay_commit_to_ack_seconds", 0.5),
        "p99_le_seconds": prometheus::quantile(&metrics, "relay_commit_to_ack_seconds", 0.99),
    });
    eprintln!("==> relay");
    outcomes.push(scenarios::relay::run(&database_url, &kafka, commit_to_ack, size).await?);
    let mut peak_rss_mib = Vec::new();
    if let Some(rss) = command_api.stop() {
        peak_rss_mib.push(("command-api".to_owned(), rss));
    }
    drop_database(&admin_url, &db_name).await;
    drop_database(&admin_url, &ceiling_db_name).await;

    let report = report::Report {
        date: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
        machine: report::machine(),
        broker_engine: "memory://tansu/",
        size_name: if quick { "quick" } else { "full" },
        size,
        commands: vec![if quick {
            "make bench-quick".to_owned()
        } else {
            "make bench".to_owned()
        }],
        outcomes,
        peak_rss_mib,
    };
    let markdown = report::markdown(&report);
    println!("{markdown}");
    if let Some(path) = arg_value(&args, "--json") {
        std::fs::write(&path, serde_json::to_string_pretty(&report)?)?;
    }
    if let Some(path) = arg_value(&args, "--markdown") {
        std::fs::write(&path, &markdown)?;
    }
    Ok(())
}
