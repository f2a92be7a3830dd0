//! Runs pgbench with a custom script: the database's own ceiling for the same SQL.

use std::{path::Path, process::Command, time::Duration};

use anyhow::Context;

/// Transactions per second pgbench sustained with `clients` connections for `duration`.
pub fn tps(
    database_url: &str,
    script: &Path,
    clients: usize,
    duration: Duration,
) -> anyhow::Result<f64> {
    let output = Command::new("pgbench")
        .args([
            "--no-vacuum",
            "--protocol=prepared",
            "--client",
            &clients.to_string(),
            "--jobs",
            &clients.min(2).to_string(),
            "--time",
            &duration.as_secs().max(1).to_string(),
            "--file",
        ])
        .arg(script)
        .arg(database_url)
        .output()
        .context("running pgbench (Debian package postgresql-client)")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    anyhow::ensure!(
        output.status.success(),
        "pgbench failed: {}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
        .lines()
        .find_map(|line| {
            let rest = line.strip_prefix("tps = ")?;
            rest.split_whitespace().next()?.parse().ok()
        })
        .with_context(|| format!("no tps line in pgbench output:\n{stdout}"))
}
