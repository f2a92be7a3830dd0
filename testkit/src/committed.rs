//! Generated documents that are committed (the OpenAPI documents under `openapi/`): a test
//! compares what the code generates with the committed file, so a contract change always shows
//! in a diff. `CC_UPDATE_CONTRACTS=1` rewrites the file instead, as for `contracts/`.

use std::path::{Path, PathBuf};

/// The workspace root, where the committed documents live.
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// Fails unless `relative_path` (from the workspace root) holds exactly `generated`, pretty
/// printed with a final newline; rewrites it when `CC_UPDATE_CONTRACTS=1`.
pub fn assert_committed(relative_path: &str, generated: &serde_json::Value) {
    let path = workspace_root().join(relative_path);
    let text = serde_json::to_string_pretty(generated).expect("a JSON value serializes") + "\n";
    if std::env::var("CC_UPDATE_CONTRACTS").as_deref() == Ok("1") {
        std::fs::write(&path, &text).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == text,
        "{relative_path} differs from the document the code generates; run \
         `CC_UPDATE_CONTRACTS=1 cargo test -p command-api -p query-api --test api committed_openapi` \
         and review the diff"
    );
}
