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
    /// Every run's outcomes, in the order they ran (`loadgen --runs N`).
    pub runs: Vec<Vec<Outcome>>,
    /// Service (and the scenario it served) with its peak resident set size in MiB, the
    /// highest of every run.
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

/// The highest value of each label, in the order labels first appear.
pub fn peaks(samples: Vec<(String, f64)>) -> Vec<(String, f64)> {
    let mut out: Vec<(String, f64)> = Vec::new();
    for (label, value) in samples {
        match out.iter_mut().find(|(l, _)| *l == label) {
            Some((_, peak)) => *peak = peak.max(value),
            None => out.push((label, value)),
        }
    }
    out
}

/// The ceiling of `outcome` named `name` (a run's ceilings are found by name, not position).
fn same_ceiling<'a>(outcome: &'a Outcome, name: &str) -> Option<&'a crate::scenarios::Ceiling> {
    outcome.ceilings.iter().find(|c| c.name == name)
}

/// Minimum, median and maximum of `values` (the lower middle for an even count).
fn spread(values: &[f64]) -> Option<(f64, f64, f64)> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    sorted.sort_by(f64::total_cmp);
    let (first, last) = (sorted.first()?, sorted.last()?);
    Some((*first, sorted[(sorted.len() - 1) / 2], *last))
}

/// `min / median / max` of `values` written by `show`, or one number when they read the same.
fn spread_text(values: &[f64], show: impl Fn(f64) -> String) -> String {
    let Some((min, median, max)) = spread(values) else {
        return "-".to_owned();
    };
    let (low, middle, high) = (show(min), show(median), show(max));
    if low == high {
        middle
    } else {
        format!("{low} / **{middle}** / {high}")
    }
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
    let _ = writeln!(out, "- Commands: `{}`", report.commands.join("`, `"));
    let _ = writeln!(
        out,
        "- Runs: {}; where they differ, a cell shows min / **median** / max of the runs\n",
        report.runs.len()
    );
    let _ = writeln!(
        out,
        "| scenario | ours /s | ceiling /s | ratio | goal | p50 ms | p99 ms | p99.9 ms | errors (all runs) |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|");
    let first = report.runs.first().map(Vec::as_slice).unwrap_or_default();
    for o in first {
        // The same scenario in every run, found by name.
        let all: Vec<&Outcome> = report
            .runs
            .iter()
            .filter_map(|run| run.iter().find(|r| r.scenario == o.scenario))
            .collect();
        let values = |f: &dyn Fn(&Outcome) -> Option<f64>| -> Vec<f64> {
            all.iter().filter_map(|r| f(r)).collect()
        };
        let ceilings = if o.ceilings.is_empty() {
            "-".to_owned()
        } else {
            (0..o.ceilings.len())
                .map(|i| {
                    let per_second =
                        values(&|r| same_ceiling(r, &o.ceilings[i].name).map(|c| c.per_second));
                    format!("{}: {}", o.ceilings[i].name, spread_text(&per_second, rate))
                })
                .collect::<Vec<_>>()
                .join("<br>")
        };
        let ratios = if o.ceilings.is_empty() {
            "-".to_owned()
        } else {
            (0..o.ceilings.len())
                .map(|i| {
                    let ratio = values(&|r| same_ceiling(r, &o.ceilings[i].name).map(|c| c.ratio));
                    spread_text(&ratio, |v| format!("{v:.2}x"))
                })
                .collect::<Vec<_>>()
                .join("<br>")
        };
        let latency = |key: &str| {
            spread_text(
                &values(&|r| r.ours.get(key).and_then(serde_json::Value::as_f64)),
                |v| format!("{v:.1}"),
            )
        };
        let errors = values(&|r| r.ours.get("errors").and_then(serde_json::Value::as_f64));
        let _ = writeln!(
            out,
            "| {} | {} | {ceilings} | {ratios} | {} | {} | {} | {} | {} |",
            o.scenario,
            spread_text(&values(&|r| Some(r.ours_per_second)), rate),
            o.goal,
            latency("p50_ms"),
            latency("p99_ms"),
            latency("p999_ms"),
            if errors.is_empty() {
                "-".to_owned()
            } else {
                format!("{:.0}", errors.iter().sum::<f64>())
            },
        );
    }
    let _ = writeln!(out);
    for o in first {
        let _ = writeln!(out, "- **{}**: {}", o.scenario, o.description);
        // Notes of every run: they carry counts (events seen, start-up time) that vary.
        for (run, outcomes) in report.runs.iter().enumerate() {
            let Some(r) = outcomes.iter().find(|r| r.scenario == o.scenario) else {
                continue;
            };
            for note in &r.notes {
                if report.runs.len() > 1 {
                    let _ = writeln!(out, "  - run {}: {note}", run + 1);
                } else {
                    let _ = writeln!(out, "  - {note}");
                }
            }
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
    use super::{rate, spread, spread_text};

    #[test]
    fn three_runs_show_min_median_and_max_and_agreeing_runs_one_number() {
        assert_eq!(spread(&[3.0, 1.0, 2.0]), Some((1.0, 2.0, 3.0)));
        assert_eq!(spread(&[]), None);
        assert_eq!(
            spread_text(&[0.81, 0.79, 0.84], |v| format!("{v:.2}x")),
            "0.79x / **0.81x** / 0.84x"
        );
        assert_eq!(spread_text(&[5.0, 5.0], |v| format!("{v:.0}")), "5");
    }

    #[test]
    fn rates_are_grouped_in_thousands() {
        assert_eq!(rate(12.34), "12.3");
        assert_eq!(rate(999.6), "1 000");
        assert_eq!(rate(1_234_567.0), "1 234 567");
    }
}
