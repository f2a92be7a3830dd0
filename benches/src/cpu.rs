//! CPU time spent by a process, and by PostgreSQL as a whole, read from `/proc`: the capacity
//! model (CAPACITY.md) divides it by the work done to get a cost per request or per command, so
//! a deployment can be sized from cores rather than from this machine's shared throughput.

use tokio_postgres::Client;

/// Clock ticks per second of `/proc/<pid>/stat` times (`sysconf(_SC_CLK_TCK)`, 100 on Linux).
const TICKS_PER_SECOND: f64 = 100.0;

/// The fields after the command name of `/proc/<pid>/stat` (the name may hold spaces).
fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    Some(rest.split_whitespace().map(str::to_owned).collect())
}

/// Field `n` of `/proc/<pid>/stat` as man 5 proc numbers them (state is 3).
fn field(fields: &[String], n: usize) -> f64 {
    fields
        .get(n - 3)
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(0.0)
}

/// User plus system CPU seconds of `pid` so far.
pub fn process_seconds(pid: u32) -> f64 {
    stat_fields(pid).map_or(0.0, |f| (field(&f, 14) + field(&f, 15)) / TICKS_PER_SECOND)
}

/// CPU seconds of the whole PostgreSQL cluster so far: the postmaster, every live child
/// (backends, walwriter, autovacuum...), and the children it has reaped (`cutime`/`cstime`), so
/// a backend that ended in between is still counted.
pub fn postgres_seconds(postmaster: u32) -> f64 {
    let own = stat_fields(postmaster).map_or(0.0, |f| {
        field(&f, 14) + field(&f, 15) + field(&f, 16) + field(&f, 17)
    });
    let children: f64 = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(stat_fields)
        .filter(|f| field(f, 4) as u32 == postmaster)
        .map(|f| field(&f, 14) + field(&f, 15))
        .sum();
    (own + children) / TICKS_PER_SECOND
}

/// The postmaster's pid, from `postmaster.pid` in the data directory (superuser only); `None`
/// when the server is not on this machine.
pub async fn postmaster(client: &Client) -> Option<u32> {
    let row = client.query_one("SHOW data_directory", &[]).await.ok()?;
    let dir: String = row.get(0);
    let pid_file = std::fs::read_to_string(format!("{dir}/postmaster.pid")).ok()?;
    pid_file.lines().next()?.trim().parse().ok()
}

/// CPU spent by one service and by PostgreSQL between `start` and `finish`.
#[derive(Debug, Clone, Copy)]
pub struct Meter {
    service: u32,
    postmaster: Option<u32>,
    service_at_start: f64,
    postgres_at_start: f64,
}

impl Meter {
    pub fn start(service: u32, postmaster: Option<u32>) -> Self {
        Self {
            service,
            postmaster,
            service_at_start: process_seconds(service),
            postgres_at_start: postmaster.map_or(0.0, postgres_seconds),
        }
    }

    /// (service, PostgreSQL) CPU milliseconds per unit of `work` since `start`.
    pub fn per_unit_ms(&self, work: f64) -> (f64, Option<f64>) {
        let per = |seconds: f64| {
            if work > 0.0 {
                seconds * 1000.0 / work
            } else {
                0.0
            }
        };
        let service = per(process_seconds(self.service) - self.service_at_start);
        let postgres = self
            .postmaster
            .map(|pm| per(postgres_seconds(pm) - self.postgres_at_start));
        (service, postgres)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_spent_cpu_and_its_stat_parses() {
        let pid = std::process::id();
        let mut spin = 0u64;
        for i in 0..20_000_000u64 {
            spin = spin.wrapping_add(i * i);
        }
        assert!(spin > 0);
        assert!(process_seconds(pid) > 0.0);
    }
}
