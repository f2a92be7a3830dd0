//! Runs pgbench with a custom script: the database's own ceiling for the same SQL.

use std::{io::Write, path::PathBuf, process::Command, time::Duration};

use anyhow::Context;
use uuid::Uuid;

/// How pgbench sends its statements.
#[derive(Debug, Clone, Copy)]
pub enum Protocol {
    /// Parsed and planned once per connection: the cheapest way to run a statement again, and
    /// so the ceiling every path is held to.
    Prepared,
}

impl Protocol {
    fn flag(self) -> &'static str {
        match self {
            Protocol::Prepared => "--protocol=prepared",
        }
    }
}

/// A script file that is removed when dropped.
struct TempScript(PathBuf);

impl TempScript {
    fn new(content: &str) -> std::io::Result<Self> {
        let path = std::env::temp_dir().join(format!("cc-bench-{}.sql", Uuid::new_v4().simple()));
        std::fs::File::create(&path)?.write_all(content.as_bytes())?;
        Ok(Self(path))
    }
}

impl Drop for TempScript {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Transactions per second pgbench sustained running `script` with `clients` connections for
/// `duration`. Blocking: call it from `spawn_blocking`.
pub fn tps(
    database_url: &str,
    script: &str,
    clients: usize,
    duration: Duration,
    protocol: Protocol,
) -> anyhow::Result<f64> {
    let script = TempScript::new(script).context("writing the pgbench script")?;
    let output = Command::new("pgbench")
        .args([
            "--no-vacuum",
            protocol.flag(),
            "--client",
            &clients.to_string(),
            "--jobs",
            &clients.min(2).to_string(),
            "--time",
            &duration.as_secs().max(1).to_string(),
            "--file",
        ])
        .arg(&script.0)
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

/// `tps` off the async threads.
pub async fn tps_async(
    database_url: &str,
    script: String,
    clients: usize,
    duration: Duration,
    protocol: Protocol,
) -> anyhow::Result<f64> {
    let url = database_url.to_owned();
    tokio::task::spawn_blocking(move || tps(&url, &script, clients, duration, protocol)).await?
}
