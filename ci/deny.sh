#!/usr/bin/env bash
# cargo deny over the whole dependency tree (deny.toml): licences, bans and sources always;
# advisories only with `--advisories`, since they need the RustSec database from GitHub (the
# workflow passes it; `make test` runs offline). cargo-deny itself is installed from crates.io,
# pinned, into .tools/cargo (a few minutes the first time).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
version="0.20.2"
deny="${root}/.tools/cargo/bin/cargo-deny"

if [[ ! -x "${deny}" ]] || [[ "$("${deny}" --version)" != "cargo-deny ${version}" ]]; then
  echo "deny: installing cargo-deny ${version} (cargo install, into .tools/cargo)"
  cargo install cargo-deny --version "${version}" --locked --root "${root}/.tools/cargo"
fi

checks=(licenses bans sources)
if [[ "${1:-}" == "--advisories" ]]; then
  checks+=(advisories)
fi
cd "${root}"
# Duplicate versions only warn (deny.toml); the graphs of how each one came in stay hidden.
"${deny}" --color never check --hide-inclusion-graph "${checks[@]}"
