//! `loadgen`: runs every benchmark scenario against the release binaries and the real PostgreSQL
//! and broker, each beside its ceiling, and writes JSON plus a markdown table.
//!
//! usage: loadgen [--quick] [--runs N] [--only write|catalog|replay|freshness] [--json FILE]
//!                [--markdown FILE]
//! env:   CC_BENCH_DATABASE_URL (superuser; default the local stack's cluster),
//!        CC_BENCH_KAFKA_BOOTSTRAP (default the local in-memory test broker)

mod cpu;
mod load;
mod pgbench;
mod prometheus;
mod report;
mod run;
mod scenarios;
mod services;

use run::BenchRun;
use scenarios::Size;
use services::Service;

fn arg_value(args: &[String], flag: &str) -> Option<String> {
    args.iter()
        .position(|a| a == flag)
        .and_then(|i| args.get(i + 1).cloned())
}

/// sign-up, command-write and relay against one command-api.
async fn write_side(
    bench: &mut BenchRun,
    size: Size,
    outcomes: &mut Vec<scenarios::Outcome>,
    rss: &mut Vec<(String, f64)>,
) -> anyhow::Result<()> {
    let (database_url, kafka) = bench.write_database("write").await?;
    let ceiling_url = bench.write_database("write_ceiling").await?.0;
    let command_api =
        Service::start("command-api", &["serve"], &bench.env(&database_url, &kafka)).await?;
    eprintln!("==> sign-up");
    outcomes.push(scenarios::signup::run(&command_api.base_url, size).await?);
    eprintln!("==> command-write");
    outcomes.push(
        scenarios::command_write::run(
            &command_api.base_url,
            command_api.pid(),
            &database_url,
            &ceiling_url,
            run::ADMIN,
            size,
        )
        .await?,
    );
    let metrics = reqwest::get(format!("{}/metrics", command_api.admin_url))
        .await?
        .text()
        .await?;
    let commit_to_ack = serde_json::json!({
        "p50_le_seconds": prometheus::quantile(&metrics, "relay_commit_to_ack_seconds", 0.5),
        "p99_le_seconds": prometheus::quantile(&metrics, "relay_commit_to_ack_seconds", 0.99),
    });
    eprintln!("==> relay");
    outcomes.push(scenarios::relay::run(&database_url, &kafka, commit_to_ack, size).await?);
    if let Some(peak) = command_api.stop() {
        rss.push((
            "command-api (sign-up, command-write, relay)".to_owned(),
            peak,
        ));
    }
    Ok(())
}

/// catalog-read against query-api over a generated catalog.
async fn read_side(
    bench: &mut BenchRun,
    size: Size,
    outcomes: &mut Vec<scenarios::Outcome>,
    rss: &mut Vec<(String, f64)>,
) -> anyhow::Result<()> {
    let (database_url, kafka) = bench.write_database("catalog").await?;
    let (client, schema) = bench.read_schema(&database_url).await?;
    eprintln!(
        "==> generating a catalog of {} products",
        size.catalog_products
    );
    let loaded = testkit::catalog::load_generated(
        &client,
        schema.as_str(),
        read_model::ddl::READ_MODEL_SQL,
        size.catalog_products,
    )
    .await?;
    eprintln!("    loaded in {:.0} s", loaded.as_secs_f64());
    let env = bench.env(&database_url, &kafka);
    let cached = Service::start("query-api", &[], &env).await?;
    let mut uncached_env = env.clone();
    uncached_env.push(("CC_QUERY__LISTING_CACHE_MS".to_owned(), "0".to_owned()));
    let uncached = Service::start("query-api", &[], &uncached_env).await?;
    eprintln!("==> catalog-read");
    let servers = scenarios::catalog_read::Servers {
        cached: &cached.base_url,
        uncached: &uncached.base_url,
        uncached_pid: uncached.pid(),
    };
    outcomes.extend(
        scenarios::catalog_read::run(servers, &database_url, &client, schema.as_str(), size)
            .await?,
    );
    for (service, label) in [(uncached, "cache off"), (cached, "listing cache on")] {
        if let Some(peak) = service.stop() {
            rss.push((format!("query-api (catalog-read, {label})"), peak));
        }
    }
    Ok(())
}

/// projector replay of a topic from offset 0.
async fn replay(
    bench: &mut BenchRun,
    size: Size,
    outcomes: &mut Vec<scenarios::Outcome>,
    rss: &mut Vec<(String, f64)>,
) -> anyhow::Result<()> {
    let (database_url, kafka) = bench.write_database("replay").await?;
    let (client, schema) = bench.read_schema(&database_url).await?;
    kafka::admin::ensure_topics(&kafka).await?;
    eprintln!("==> projector replay of {} events", size.replay_events);
    let env = bench.env(&database_url, &kafka);
    let (outcome, peak) =
        scenarios::projector_replay::run(&env, &kafka, &client, schema.as_str(), size).await?;
    outcomes.push(outcome);
    if let Some(peak) = peak {
        rss.push(("projector (replay)".to_owned(), peak));
    }
    Ok(())
}

/// freshness through the whole pipeline: command-api, projector and query-api on one database.
async fn freshness(
    bench: &mut BenchRun,
    size: Size,
    outcomes: &mut Vec<scenarios::Outcome>,
    rss: &mut Vec<(String, f64)>,
) -> anyhow::Result<()> {
    let (database_url, kafka) = bench.write_database("freshness").await?;
    bench.read_schema(&database_url).await?;
    let env = bench.env(&database_url, &kafka);
    let command_api = Service::start("command-api", &["serve"], &env).await?;
    let projector = Service::start("projector", &["run"], &env).await?;
    let query_api = Service::start("query-api", &[], &env).await?;
    eprintln!("==> freshness");
    outcomes.push(
        scenarios::freshness::run(
            &command_api.base_url,
            &query_api.base_url,
            &database_url,
            run::ADMIN,
            size,
        )
        .await?,
    );
    for service in [query_api, projector, command_api] {
        let name = service.name;
        if let Some(peak) = service.stop() {
            rss.push((format!("{name} (freshness)"), peak));
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let size = if quick { Size::quick() } else { Size::full() };
    // `--runs N` repeats every scenario N times, each run with its own databases and topics, so
    // the report can show how much a number moves from run to run (min, median, max).
    let runs: usize = arg_value(&args, "--runs")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
        .max(1);
    let mut runs_outcomes: Vec<Vec<scenarios::Outcome>> = Vec::new();
    let mut rss = Vec::new();
    let mut postgres = String::new();
    // `--only GROUP` (write, catalog, replay, freshness) runs one group while working on it.
    let only = arg_value(&args, "--only");
    let wanted = |group: &str| only.as_deref().is_none_or(|o| o == group);
    for run in 1..=runs {
        eprintln!("==> run {run} of {runs}");
        let mut bench = BenchRun::from_env();
        let mut outcomes = Vec::new();
        let result = async {
            if wanted("write") {
                write_side(&mut bench, size, &mut outcomes, &mut rss).await?;
            }
            if wanted("catalog") {
                read_side(&mut bench, size, &mut outcomes, &mut rss).await?;
            }
            if wanted("replay") {
                replay(&mut bench, size, &mut outcomes, &mut rss).await?;
            }
            if wanted("freshness") {
                freshness(&mut bench, size, &mut outcomes, &mut rss).await?;
            }
            anyhow::Ok(())
        }
        .await;
        postgres = bench.server_version().await;
        bench.drop_databases().await;
        result?;
        runs_outcomes.push(outcomes);
    }

    let report = report::Report {
        date: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
        machine: report::machine(),
        postgres,
        broker_engine: "memory://tansu/",
        size_name: if quick { "quick" } else { "full" },
        size,
        commands: vec![if quick {
            "make bench-quick".to_owned()
        } else {
            "make bench".to_owned()
        }],
        runs: runs_outcomes,
        peak_rss_mib: report::peaks(rss),
        micro_ns: report::criterion_means(&services::target_dir().join("criterion")),
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
