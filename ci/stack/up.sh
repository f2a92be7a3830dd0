#!/usr/bin/env bash
# `make up`: the whole stack on loopback with demo data. Idempotent: what runs keeps running.
#   PostgreSQL (.dev/pg) -> broker (durable sqlite storage) -> migrations -> command-api,
#   projector, query-api -> demo data (a few products through the HTTP API, then a catalog of
#   CC_DEV_SEED_PRODUCTS products, default 10000, through `command-api seed`) -> .dev/stack.env
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "$0")/common.sh"
cd "$ROOT"

bash ci/stack/install.sh
bash ci/stack/postgres.sh start
bash ci/stack/broker.sh start dev

DB_NAME=cloudcommerce
if ! psql "$PG_SUPERUSER_URL" -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'" | grep -q 1; then
  log "creating database $DB_NAME"
  psql "$PG_SUPERUSER_URL" -qc "CREATE DATABASE $DB_NAME"
fi
DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/$DB_NAME"

# Development secrets, generated once per checkout and never committed.
SECRETS="$DEV/secrets.env"
if [ ! -f "$SECRETS" ]; then
  umask 077
  {
    echo "CC_AUTH__JWT_SECRET=$(head -c 48 /dev/urandom | base64 | tr -d '\n/+=')"
    echo "DEV_ADMIN_EMAIL=admin@cloudcommerce.dev"
    echo "DEV_ADMIN_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -d '\n/+=')"
  } >"$SECRETS"
fi
# shellcheck disable=SC1090
source "$SECRETS"

log "building the services"
cargo build --quiet -p command-api -p projector -p query-api
BIN="$ROOT/target/debug"

export CC_DATABASE__URL="$DATABASE_URL"
export CC_KAFKA__BOOTSTRAP_SERVERS="127.0.0.1:$DEV_BROKER_PORT"
export CC_KAFKA__PARTITIONS=3
export CC_AUTH__JWT_SECRET
export RUST_LOG="${RUST_LOG:-info}"

"$BIN/command-api" migrate >>"$LOGS/migrate.log" 2>&1

# start_service NAME PORT COMMAND... : starts NAME unless it already runs, then waits for ready.
start_service() {
  local name="$1" port="$2"; shift 2
  local pidfile="$RUN/$name.pid"
  if ! running "$pidfile"; then
    log "starting $name on 127.0.0.1:$port"
    CC_HTTP__HOST=127.0.0.1 CC_HTTP__PORT="$port" nohup "$@" >>"$LOGS/$name.log" 2>&1 &
    echo $! >"$pidfile"
  fi
  WAIT_SECONDS=90 wait_for "$name to be ready" curl -fsS "http://127.0.0.1:$port/health/ready" || {
    tail -n 20 "$LOGS/$name.log" >&2
    return 1
  }
}

CC_BOOTSTRAP_ADMIN__EMAIL="$DEV_ADMIN_EMAIL" CC_BOOTSTRAP_ADMIN__PASSWORD="$DEV_ADMIN_PASSWORD" \
  start_service command-api "$COMMAND_API_PORT" "$BIN/command-api" serve
start_service projector "$PROJECTOR_PORT" "$BIN/projector" run
start_service query-api "$QUERY_API_PORT" "$BIN/query-api"

cat >"$DEV/stack.env" <<ENV
COMMAND_API_URL=http://127.0.0.1:$COMMAND_API_PORT
QUERY_API_URL=http://127.0.0.1:$QUERY_API_PORT
PROJECTOR_ADMIN_URL=http://127.0.0.1:$PROJECTOR_PORT
COMMAND_API_METRICS_URL=http://127.0.0.1:$COMMAND_API_PORT/metrics
QUERY_API_METRICS_URL=http://127.0.0.1:$QUERY_API_PORT/metrics
PROJECTOR_METRICS_URL=http://127.0.0.1:$PROJECTOR_PORT/metrics
KAFKA_BOOTSTRAP=127.0.0.1:$DEV_BROKER_PORT
DATABASE_URL=$DATABASE_URL
USER_TOPIC=cloudcommerce.user-events
PRODUCT_TOPIC=cloudcommerce.product-events
DEV_ADMIN_EMAIL=$DEV_ADMIN_EMAIL
DEV_ADMIN_PASSWORD=$DEV_ADMIN_PASSWORD
ENV

python3 ci/stack/demo_data.py "$DEV/stack.env"
SEED_PRODUCTS="${CC_DEV_SEED_PRODUCTS:-10000}"
log "seeding the catalog up to $SEED_PRODUCTS products (command-api seed)"
"$BIN/command-api" seed "$SEED_PRODUCTS" >>"$LOGS/seed.log" 2>&1
# The durable sqlite engine takes writes slowly (about 70 events/s seen here), so a fresh seed
# takes minutes to reach the topics. Wait for the outbox to drain, so that what follows
# `make up` (the README walk-through) is not queued behind the seed.
deadline=$((SECONDS + 1800))
while :; do
  pending=$(psql "$DATABASE_URL" -tAc "SELECT count(*) FROM es.outbox")
  [ "$pending" -eq 0 ] && break
  if [ "$SECONDS" -ge "$deadline" ]; then
    log "still $pending events in the outbox after 30 minutes; the stack is up, publishing goes on"
    break
  fi
  log "publishing the seeded events to the broker: $pending to go"
  sleep 10
done
log "stack is up; settings in .dev/stack.env, logs in .dev/logs/"
cat "$DEV/stack.env"
