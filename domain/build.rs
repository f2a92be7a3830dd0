//! Fingerprints the domain's source, so that a stored snapshot of an aggregate's state is only
//! trusted by a build whose `evolve` and state types are byte for byte the ones that wrote it.

use std::{fs, path::Path};

/// FNV-1a: stable across toolchains, unlike the standard library's hasher.
fn fnv1a(hash: u64, bytes: &[u8]) -> u64 {
    bytes.iter().fold(hash, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn sources(dir: &Path, found: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

fn main() {
    println!("cargo:rerun-if-changed=src");
    let root = Path::new("src");
    let mut files = Vec::new();
    sources(root, &mut files);
    files.sort();
    let mut hash = 0xcbf2_9ce4_8422_2325;
    for file in files {
        let relative = file.strip_prefix(root).unwrap_or(&file);
        hash = fnv1a(hash, relative.to_string_lossy().as_bytes());
        hash = fnv1a(hash, &fs::read(&file).unwrap_or_default());
    }
    println!("cargo:rustc-env=CC_DOMAIN_FINGERPRINT={hash:016x}");
}
