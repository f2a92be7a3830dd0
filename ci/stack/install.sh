#!/usr/bin/env bash
# Installs what the stack needs and is missing: PostgreSQL server binaries (Debian package),
# the Kafka-compatible broker Tansu (crates.io), and the API reference renderer that platform
# compiles into both APIs for /docs (npm, pinned in platform/docs-assets/). Quick when all are
# present.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "$0")/common.sh"

if [ -z "$(pg_bin)" ] || [ ! -x "$(pg_bin)/initdb" ]; then
  log "installing PostgreSQL server binaries (apt)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql-15 >/dev/null || apt-get install -y -qq postgresql >/dev/null
fi

if ! command -v tansu >/dev/null 2>&1; then
  log "installing tansu $TANSU_VERSION (cargo install; 8-15 minutes the first time)"
  # --locked is required (the unlocked dependency set does not build); the default features
  # have no storage engine, hence dynostore (memory) and libsql (sqlite).
  cargo install tansu --version "$TANSU_VERSION" --locked --features dynostore,libsql
fi

if ! command -v npm >/dev/null 2>&1; then
  log "installing Node.js and npm (apt)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq nodejs npm >/dev/null
fi
# Before any cargo command: platform's build script stops the build without it.
(cd "$ROOT" && bash ci/npm-ci.sh platform/docs-assets)
