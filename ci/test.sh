#!/usr/bin/env bash
# `make test`: every check and test, against a real PostgreSQL and a real Kafka-protocol broker
# that this script starts when they are not running.
#   1. cargo fmt --check   2. cargo clippy -D warnings, also of platform's optional `otlp`
#   feature (about a minute on 2 cores: its OpenTelemetry crates are only checked, not built)
#   3. cargo test (unit, contract and integration tests)   4. ci/static-checks.sh (manifests,
#   Dockerfile, workflows, scripts)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=stack/common.sh
source "$(dirname "$0")/stack/common.sh"
cd "$ROOT"
started=$SECONDS

bash ci/stack/install.sh
bash ci/stack/postgres.sh start
bash ci/stack/broker.sh start test

# Databases left behind by earlier runs (each test creates its own), dropped in one session.
psql "$PG_SUPERUSER_URL" -q <<'SQL'
SELECT format('DROP DATABASE IF EXISTS %I WITH (FORCE)', datname)
FROM pg_database WHERE datname LIKE 'cc\_test\_%' \gexec
SQL

export CC_TEST_DATABASE_URL="${CC_TEST_DATABASE_URL:-$PG_SUPERUSER_URL}"
export CC_TEST_KAFKA_BOOTSTRAP="${CC_TEST_KAFKA_BOOTSTRAP:-127.0.0.1:$TEST_BROKER_PORT}"

log "cargo fmt --check"
cargo fmt --all --check
log "cargo clippy --all-targets -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings
# The binaries only forward the feature to platform, where all of its code is.
cargo clippy -p platform --features otlp --all-targets --locked -- -D warnings
log "cargo test"
cargo test --workspace --locked
log "static checks"
bash ci/static-checks.sh
log "make test passed in $((SECONDS - started)) s"
