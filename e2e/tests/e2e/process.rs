//! A service's real binary as a child process, with the end-to-end settings.

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
};

use kafka::Topics;
use testkit::TestDatabase;

/// A running binary whose standard output is captured line by line.
pub struct Service {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Service {
    /// Starts `name` with `args` and the shared settings, plus `env`.
    pub fn start(
        name: &str,
        args: &[&str],
        db: &TestDatabase,
        topics: &Topics,
        env: &[(&str, &str)],
    ) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = Command::new(e2e::binary::path(name))
            .args(args)
            .envs(e2e::settings::environment(db, topics, port))
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the binary starts");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let stdout = child.stdout.take().expect("piped stdout");
        let sink = Arc::clone(&lines);
        // Read on a thread of its own, so a full pipe never blocks the child's logging.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        Self { child, lines }
    }

    /// The lines written so far.
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
