#!/usr/bin/env bash
# `make test`: every check and test, against a real PostgreSQL and a real Kafka-protocol broker
# that this script starts when they are not running.
#   1. the code's shape: no import loop between the files of a crate, no unused dependency,
#   every source file opens with a //! line (ci/check_*.py, seconds)   2. cargo fmt --check
#   3. cargo clippy -D warnings, also of platform's optional `otlp` feature (about a minute on
#   2 cores: its OpenTelemetry crates are only checked, not built)   4. cargo test (unit,
#   contract, integration and end-to-end tests; the TLS tests start a TLS-only PostgreSQL with
#   its own CA, ci/stack/postgres-tls.sh)   5. the fault suite (ci/faults/, the real
#   binaries under load through kills and restarts, every sign-up's verification mail checked in
#   an SMTP sink)   6. the security suite (ci/security/, every attack on accounts, access and
#   mailed tokens against the real binaries, each service as its database role, ~70 s)
#   7. the contract suite (ci/contract/, schemathesis against both services' OpenAPI documents as
#   each role, every check and phase; zero failures, ~2 min)   8. the API documents as clients
#   read them: the TypeScript client's types are current and its example type-checks, no
#   breaking change since HEAD~1 (Redocly), the AsyncAPI document validates and renders
#   (@asyncapi/cli); npm packages pinned by lock files   9. cargo deny (deny.toml: licences,
#   bans, sources; ci/deny.sh installs it from crates.io the first time)   10. ci/static-checks.sh
#   (manifests, Dockerfile, workflows, scripts)
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

log "code shape: module loops, unused dependencies, file headers"
for check in check_module_cycles check_unused_deps check_source_headers; do
  python3 "ci/$check.py" --self-test
  python3 "ci/$check.py"
done
log "cargo fmt --check"
cargo fmt --all --check
log "cargo clippy --all-targets -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings
# The binaries only forward the feature to platform, where all of its code is.
cargo clippy -p platform --features otlp --all-targets --locked -- -D warnings
log "cargo test"
cargo test --workspace --locked
log "fault suite"
bash ci/faults/run.sh
log "security suite"
bash ci/security/run.sh
log "contract suite"
bash ci/contract/run.sh
log "API documents: TypeScript client, breaking changes, AsyncAPI"
bash clients/typescript/check.sh
if git rev-parse --verify --quiet 'HEAD~1^{commit}' >/dev/null; then
  bash ci/openapi-breaking.sh HEAD~1
else
  log "no HEAD~1 in this clone: the breaking-change check runs in the workflow instead"
fi
bash ci/asyncapi/check.sh
log "cargo deny: licences, bans, sources"
bash ci/deny.sh
log "static checks"
bash ci/static-checks.sh
log "make test passed in $((SECONDS - started)) s"
