#!/usr/bin/env bash
# `make bench` (full size, rewrites the results section of BENCHMARKS.md) and `make bench-quick`
# (a few minutes, prints only). Starts PostgreSQL and the in-memory broker when they are not
# running, builds the release binaries, then runs the criterion micro-benchmarks and `loadgen`.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=stack/common.sh
source "$(dirname "$0")/stack/common.sh"
cd "$ROOT"

size=full
[ "${1:-}" = "--quick" ] && size=quick

bash ci/stack/install.sh
bash ci/stack/postgres.sh start
bash ci/stack/broker.sh start test
command -v pgbench >/dev/null || {
  log "installing pgbench (apt postgresql-client)"
  apt-get update -qq && apt-get install -y -qq postgresql-client >/dev/null
}

log "building release binaries"
cargo build --release --locked -p command-api -p query-api -p projector -p benches

log "criterion micro-benchmarks"
if [ "$size" = quick ]; then
  cargo bench --locked -p benches --bench micro -- --warm-up-time 1 --measurement-time 2
else
  cargo bench --locked -p benches --bench micro
fi

mkdir -p benches/results
export CC_BENCH_DATABASE_URL="${CC_BENCH_DATABASE_URL:-$PG_SUPERUSER_URL}"
export CC_BENCH_KAFKA_BOOTSTRAP="${CC_BENCH_KAFKA_BOOTSTRAP:-127.0.0.1:$TEST_BROKER_PORT}"
args=(--json "benches/results/$size.json" --markdown "benches/results/$size.md")
# Every full-size ratio three times (min, median and max are published); CC_BENCH_RUNS overrides.
runs="${CC_BENCH_RUNS:-3}"
[ "$size" = quick ] && args+=(--quick) && runs="${CC_BENCH_RUNS:-1}"
args+=(--runs "$runs")
log "load scenarios ($size)"
target/release/loadgen "${args[@]}"

if [ "$size" = full ]; then
  # Replace everything after the results marker with the new run.
  python3 - <<'PY'
import pathlib
doc = pathlib.Path("BENCHMARKS.md")
marker = "<!-- results: written by make bench -->"
head = doc.read_text().split(marker)[0]
run = pathlib.Path("benches/results/full.md").read_text()
doc.write_text(f"{head}{marker}\n\n{run}")
PY
  log "BENCHMARKS.md updated"
fi
