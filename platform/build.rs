//! Checks, before platform compiles, that the API reference renderer `src/docs_page.rs` embeds
//! was installed from npm. It is not kept in git (a pinned package in `docs-assets/` is), so on a
//! fresh clone the compiler would otherwise stop at an `include_bytes!` with a bare "No such file
//! or directory"; this says what to run instead.

use std::path::Path;

/// Where `npm ci` in `docs-assets/` puts the files `src/docs_page.rs` embeds.
const RENDERER_FILES: [&str; 2] = [
    "docs-assets/node_modules/swagger-ui-dist/swagger-ui-bundle.js",
    "docs-assets/node_modules/swagger-ui-dist/swagger-ui.css",
];

fn main() {
    // A later install (or upgrade) runs this check again; `include_bytes!` itself makes the crate
    // recompile when the files change.
    for file in RENDERER_FILES {
        println!("cargo::rerun-if-changed={file}");
    }
    if RENDERER_FILES.iter().any(|file| !Path::new(file).is_file()) {
        println!(
            "cargo::error=the API reference renderer is not installed (platform/docs-assets/\
             node_modules/swagger-ui-dist): it comes from npm, not from git. Run `bash \
             ci/stack/install.sh` (or `npm ci --ignore-scripts --prefix platform/docs-assets`) \
             and build again."
        );
    }
}
