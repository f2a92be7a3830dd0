//! The services' binaries, for tests that need real processes (signals, kill -9, log lines).
//! `cargo test --workspace` builds every package's binaries before any test runs; they sit next
//! to the `deps/` folder this test executable is in.

use std::path::PathBuf;

/// The path of binary `name` (`command-api`, `projector`, `query-api`) of this build.
pub fn path(name: &str) -> PathBuf {
    let executable = std::env::current_exe().expect("the test executable's path");
    let profile_dir = executable
        .parent()
        .and_then(|deps| deps.parent())
        .expect("test executables live in target/<profile>/deps");
    let binary = profile_dir.join(name);
    assert!(
        binary.exists(),
        "{} is missing: build the workspace (`cargo test --workspace` does)",
        binary.display()
    );
    binary
}
