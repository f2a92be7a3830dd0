//! The services under test, started from the release binaries as separate processes on loopback,
//! with their peak resident memory read from `/proc` when they stop.

use std::{
    net::TcpListener,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::Context;

/// Cargo's target directory (`CARGO_TARGET_DIR`, else `target`).
pub fn target_dir() -> PathBuf {
    PathBuf::from(std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".to_owned()))
}

/// Where `cargo build --release` put the binaries.
pub fn binary(name: &str) -> PathBuf {
    target_dir().join("release").join(name)
}

pub fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

#[derive(Debug)]
pub struct Service {
    pub name: &'static str,
    pub base_url: String,
    /// The APIs' admin listener (`/metrics`); the projector serves everything on `base_url`.
    pub admin_url: String,
    child: Child,
}

impl Service {
    /// Starts `binary args` with `env` on a free port and waits for `/health/ready`.
    pub async fn start(
        name: &'static str,
        args: &[&str],
        env: &[(String, String)],
    ) -> anyhow::Result<Self> {
        let port = free_port()?;
        let admin_port = free_port()?;
        let mut command = Command::new(binary(name));
        command
            .args(args)
            .env("CC_HTTP__HOST", "127.0.0.1")
            .env("CC_HTTP__PORT", port.to_string())
            .env("CC_HTTP__ADMIN_PORT", admin_port.to_string())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        for (key, value) in env {
            command.env(key, value);
        }
        let child = command
            .spawn()
            .with_context(|| format!("starting {name} (run `cargo build --release` first)"))?;
        let service = Self {
            name,
            base_url: format!("http://127.0.0.1:{port}"),
            admin_url: format!("http://127.0.0.1:{admin_port}"),
            child,
        };
        service.wait_ready(Duration::from_secs(60)).await?;
        Ok(service)
    }

    async fn wait_ready(&self, within: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + within;
        let url = format!("{}/health/ready", self.base_url);
        while Instant::now() < deadline {
            if reqwest::get(&url)
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        anyhow::bail!("{} did not become ready", self.name)
    }

    /// The process id, for CPU accounting (`cpu::Meter`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Peak resident set size so far, in MiB (`VmHWM`).
    pub fn peak_rss_mib(&self) -> Option<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib / 1024.0)
    }

    /// Stops the service with SIGTERM and returns its peak RSS.
    pub fn stop(mut self) -> Option<f64> {
        let peak = self.peak_rss_mib();
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return peak;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        peak
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
