#!/usr/bin/env bash
# `make up`: the whole stack on loopback with demo data. Idempotent: what runs keeps running, and
# what died (a killed process, a restarted broker) is started again.
#   PostgreSQL (.dev/pg) -> broker (in memory) -> migrations -> the SMTP sink (mail kept as
#   files in .dev/mail) -> command-api, projector, query-api, notifier -> demo data (a seller
#   who verifies their address from the sink and a few products through the HTTP API, then a
#   catalog of CC_DEV_SEED_PRODUCTS products, default 10000, through `command-api seed`) ->
#   waits until every recorded event is published and projected -> .dev/stack.env
# Every wait checks that the processes it waits on are alive and fails with their last log
# lines when one is not.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "$0")/common.sh"
cd "$ROOT"
started=$SECONDS

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
    echo "DEV_ADMIN_EMAIL=admin@cloudcommerce.dev"
    echo "DEV_ADMIN_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -d '\n/+=')"
  } >"$SECRETS"
fi
# shellcheck disable=SC1090
source "$SECRETS"

log "building the services and the mail sink"
cargo build --quiet -p command-api -p projector -p query-api -p notifier
cargo build --quiet -p testkit --bin mail-sink
BIN="$ROOT/target/debug"

export CC_DATABASE__URL="$DATABASE_URL"
export CC_KAFKA__BOOTSTRAP_SERVERS="127.0.0.1:$DEV_BROKER_PORT"
export CC_KAFKA__PARTITIONS=3
# The token signing key, generated once per checkout like the secrets above; query-api gets only
# its public half.
SIGNING_KEY="$DEV/signing-key.pem"
if [ ! -f "$SIGNING_KEY" ]; then
  (umask 077; "$BIN/command-api" keygen >"$SIGNING_KEY")
fi
CC_AUTH__SIGNING_KEYS="$(cat "$SIGNING_KEY")"
export CC_AUTH__SIGNING_KEYS
CC_AUTH__JWKS="$("$BIN/command-api" jwks)"
export CC_AUTH__JWKS
# The master key that wraps the users' data keys (their events' personal fields are sealed under
# those), generated once per checkout, beside the database it belongs to. Given to the services
# that read or write personal fields; query-api never holds it.
MASTER_KEY_FILE="$DEV/master-key"
if [ ! -f "$MASTER_KEY_FILE" ]; then
  (umask 077; head -c 32 /dev/urandom | base64 >"$MASTER_KEY_FILE")
fi
MASTER_KEY="$(cat "$MASTER_KEY_FILE")"
export RUST_LOG="${RUST_LOG:-info}"

"$BIN/command-api" migrate >>"$LOGS/migrate.log" 2>&1 || die_with_log "migrations failed" "$LOGS/migrate.log"

# start_service NAME PORT ADMIN_PORT COMMAND... : starts NAME unless it already runs, then waits
# for ready.
start_service() {
  local name="$1" port="$2" admin_port="$3"; shift 3
  local pidfile="$RUN/$name.pid"
  if ! running "$pidfile"; then
    log "starting $name on 127.0.0.1:$port"
    CC_HTTP__HOST=127.0.0.1 CC_HTTP__PORT="$port" CC_HTTP__ADMIN_PORT="$admin_port" \
      nohup "$@" >>"$LOGS/$name.log" 2>&1 &
    echo $! >"$pidfile"
  fi
  WAIT_SECONDS=90 wait_while_running "$name to be ready" "$pidfile" "$LOGS/$name.log" \
    curl -fsS "http://127.0.0.1:$port/health/ready"
}

# The SMTP sink the notifier mails through: every message becomes a file in $MAIL_DIR, which
# ci/stack/mailbox.py reads (the walk-through verifies an address with it). Before the services,
# so that no mail of theirs meets a closed port.
start_mail_sink() {
  local pidfile="$RUN/mail-sink.pid"
  mkdir -p "$MAIL_DIR"
  if ! running "$pidfile"; then
    log "starting the mail sink on 127.0.0.1:$SMTP_PORT, mail in $MAIL_DIR"
    nohup "$BIN/mail-sink" --listen "127.0.0.1:$SMTP_PORT" --dir "$MAIL_DIR" \
      >>"$LOGS/mail-sink.log" 2>&1 &
    echo $! >"$pidfile"
  fi
  wait_while_running "the mail sink to listen" "$pidfile" "$LOGS/mail-sink.log" \
    port_open "$SMTP_PORT"
}
start_mail_sink

# A created resource's Location names query-api, where it can be read.
CC_HTTP__READ_API_URL="http://127.0.0.1:$QUERY_API_PORT" \
CC_BOOTSTRAP_ADMIN__EMAIL="$DEV_ADMIN_EMAIL" CC_BOOTSTRAP_ADMIN__PASSWORD="$DEV_ADMIN_PASSWORD" \
CC_PERSONAL_DATA__MASTER_KEY="$MASTER_KEY" \
  start_service command-api "$COMMAND_API_PORT" "$COMMAND_API_ADMIN_PORT" "$BIN/command-api" serve
CC_PERSONAL_DATA__MASTER_KEY="$MASTER_KEY" start_service projector "$PROJECTOR_PORT" "$PROJECTOR_PORT" "$BIN/projector" run
start_service query-api "$QUERY_API_PORT" "$QUERY_API_ADMIN_PORT" "$BIN/query-api"
# Mail links point at the shop's site, and a local stack has none: they name command-api's
# address instead, and the walk-through posts the link's token there itself (mailbox.py).
CC_SMTP__URL="smtp://127.0.0.1:$SMTP_PORT" \
CC_MAIL__LINK_BASE_URL="http://127.0.0.1:$COMMAND_API_PORT" \
CC_PERSONAL_DATA__MASTER_KEY="$MASTER_KEY" \
  start_service notifier "$NOTIFIER_ADMIN_PORT" "$NOTIFIER_ADMIN_PORT" "$BIN/notifier" run

cat >"$DEV/stack.env" <<ENV
COMMAND_API_URL=http://127.0.0.1:$COMMAND_API_PORT
QUERY_API_URL=http://127.0.0.1:$QUERY_API_PORT
PROJECTOR_ADMIN_URL=http://127.0.0.1:$PROJECTOR_PORT
COMMAND_API_METRICS_URL=http://127.0.0.1:$COMMAND_API_ADMIN_PORT/metrics
QUERY_API_METRICS_URL=http://127.0.0.1:$QUERY_API_ADMIN_PORT/metrics
PROJECTOR_METRICS_URL=http://127.0.0.1:$PROJECTOR_PORT/metrics
NOTIFIER_ADMIN_URL=http://127.0.0.1:$NOTIFIER_ADMIN_PORT
NOTIFIER_METRICS_URL=http://127.0.0.1:$NOTIFIER_ADMIN_PORT/metrics
SMTP_URL=smtp://127.0.0.1:$SMTP_PORT
MAIL_DIR=$MAIL_DIR
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
CC_PERSONAL_DATA__MASTER_KEY="$MASTER_KEY" "$BIN/command-api" seed "$SEED_PRODUCTS" >>"$LOGS/seed.log" 2>&1 || die_with_log "seeding failed" "$LOGS/seed.log"

# Everything recorded must be on the topics and in the read model before the walk-through runs:
# the relay drains the outbox (and publishes history again if the broker lost it), and the
# projector applies each event once (its audit table holds one row per applied event).
alive() {
  bash ci/stack/broker.sh check dev
  local service
  for service in mail-sink command-api projector query-api notifier; do
    running "$RUN/$service.pid" || die_with_log "$service exited" "$LOGS/$service.log"
  done
}
deadline=$((SECONDS + ${CC_DEV_SETTLE_SECONDS:-600}))
reported=0
while :; do
  alive
  progress=$(psql "$DATABASE_URL" -tAF ' ' -c "
    SELECT (SELECT count(*) FROM es.events),
           (SELECT count(*) FROM es.outbox),
           (SELECT schema FROM read_meta.active)")
  read -r recorded pending schema <<<"$progress"
  projected=$(psql "$DATABASE_URL" -tAc "SELECT count(*) FROM $schema.audit_events")
  if [ "$pending" -eq 0 ] && [ "$projected" -ge "$recorded" ]; then
    break
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    log "after ${CC_DEV_SETTLE_SECONDS:-600} s, $pending events still wait for the broker and $((recorded - projected)) for the projector"
    die_with_log "the stack did not settle" "$LOGS/projector.log"
  fi
  if [ $((SECONDS - reported)) -ge 5 ]; then
    log "publishing and projecting: $pending of $recorded events wait for the broker, $projected projected"
    reported=$SECONDS
  fi
  sleep 0.5
done
log "stack is up in $((SECONDS - started)) s: $recorded events published and projected; settings in .dev/stack.env, logs in .dev/logs/"
cat "$DEV/stack.env"
