//! Writes a run's results as JSON and as the markdown table that BENCHMARKS.md publishes.

use std::fmt::Write as _;

use serde::Serialize;

use crate::scenarios::{Outcome, Size};

#[derive(Debug, Serialize)]
pub struct Report {
    pub date: String,
    pub machine: String,
    pub postgres: String,
    pub broker_engine: &'static str,
    pub size_name: &'static str,
    pub size: Size,
    pub commands: Vec<String>,
    pub outcomes: Vec<Outcome>,
    /// Service (and the scenario it served) with its peak resident set size in MiB.
    pub peak_rss_mib: Vec<(String, f64)>,
    /// Criterion's mean estimate of each micro-benchmark of this run, in nanoseconds.
    pub micro_ns: Vec<(String, f64)>,
}

/// The mean of every criterion benchmark under `dir` (`target/criterion`), as criterion wrote
/// it to `<name>/new/estimates.json`; `make bench` runs them just before the load scenarios.
pub fn criterion_means(dir: &std::path::Path) -> Vec<(String, f64)> {
    let mut means: Vec<(String, f64)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let estimates =
                std::fs::read_to_string(entry.path().join("new/estimates.json")).ok()?;
            let json: serde_json::Value = serde_json::from_str(&estimates).ok()?;
            let mean = json["mean"]["point_estimate"].as_f64()?;
            Some((entry.file_name().to_string_lossy().replace('_', " "), mean))
        })
        .collect();
    means.sort_by(|a, b| a.0.cmp(&b.0));
    means
}

/// `model name`, cores and memory, as the kernel reports them.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let memory_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            let kib: f64 = info
                .lines()
                .next()?
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()?;
            Some(kib / 1024.0 / 1024.0)
        })
        .unwrap_or(0.0);
    format!("{cpu}, {cores} cores, {memory_gib:.0} GiB")
}

fn number(value: &serde_json::Value, key: &str) -> String {
    value
        .get(key)
        .and_then(serde_json::Value::as_f64)
        .map_or_else(|| "-".to_owned(), |v| format!("{v:.1}"))
}

/// `12345.6` as `12 346`, `12.3` as `12.3`: rates are read at a glance.
fn rate(value: f64) -> String {
    if value < 100.0 {
        return format!("{value:.1}");
    }
    let digits = format!("{value:.0}");
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

pub fn markdown(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Run of {} ({} size).\n", report.date, report.size_name);
    let _ = writeln!(out, "- Machine: {}", report.machine);
    let _ = writeln!(out, "- PostgreSQL: {}", report.postgres);
    let _ = writeln!(
        out,
        "- Broker: Tansu, storage engine `{}`",
        report.broker_engine
    );
    let s = &report.size;
    let _ = writeln!(
        out,
        "- Size: {} s per measurement, {} clients, {} relay events, {} catalog products, {} replay events, {} commands/s for freshness",
        s.duration.as_secs(),
        s.concurrency,
        s.relay_events,
        s.catalog_products,
        s.replay_events,
        s.freshness_rate
    );
    let _ = writeln!(out, "- Commands: `{}`\n", report.commands.join("`, `"));
    let _ = writeln!(
        out,
        "| scenario | ours /s | ceiling /s | ratio | goal | p50 ms | p99 ms | p99.9 ms | errors |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|");
    for o in &report.outcomes {
        let ceilings = if o.ceilings.is_empty() {
            "-".to_owned()
        } else {
            o.ceilings
                .iter()
                .map(|c| format!("{}: {}", c.name, rate(c.per_second)))
                .collect::<Vec<_>>()
                .join("<br>")
        };
        let ratios = if o.ceilings.is_empty() {
            "-".to_owned()
        } else {
            o.ceilings
                .iter()
                .map(|c| format!("{:.2}x", c.ratio))
                .collect::<Vec<_>>()
                .join("<br>")
        };
        let _ = writeln!(
            out,
            "| {} | {} | {ceilings} | {ratios} | {} | {} | {} | {} | {} |",
            o.scenario,
            rate(o.ours_per_second),
            o.goal,
            number(&o.ours, "p50_ms"),
            number(&o.ours, "p99_ms"),
            number(&o.ours, "p999_ms"),
            o.ours
                .get("errors")
                .map_or("-".to_owned(), ToString::to_string),
        );
    }
    let _ = writeln!(out);
    for o in &report.outcomes {
        let _ = writeln!(out, "- **{}**: {}", o.scenario, o.description);
        for note in &o.notes {
            let _ = writeln!(out, "  - {note}");
        }
    }
    let _ = writeln!(out);
    for (service, rss) in &report.peak_rss_mib {
        let _ = writeln!(out, "- Peak RSS of {service}: {rss:.1} MiB");
    }
    if !report.micro_ns.is_empty() {
        let _ = writeln!(out, "\n| micro-benchmark (criterion) | mean |\n|---|---|");
        for (name, ns) in &report.micro_ns {
            let shown = if *ns >= 1_000.0 {
                format!("{:.2} µs", ns / 1_000.0)
            } else {
                format!("{ns:.0} ns")
            };
            let _ = writeln!(out, "| {name} | {shown} |");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::rate;

    #[test]
    fn rates_are_grouped_in_thousands() {
        assert_eq!(rate(12.34), "12.3");
        assert_eq!(rate(999.6), "1 000");
        assert_eq!(rate(1_234_567.0), "1 234 567");
    }
}
