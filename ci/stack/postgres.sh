#!/usr/bin/env bash
# Starts or stops the project-local PostgreSQL cluster in .dev/pg on 127.0.0.1:$PG_PORT.
# usage: postgres.sh start|stop
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "$0")/common.sh"

BIN="$(pg_bin)"

ready() { as_owner "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"; }

case "${1:-start}" in
  start)
    if ready; then exit 0; fi
    mkdir -p "$PG_SOCKET" "$(dirname "$PG_DATA")"
    let_postgres_reach "$DEV"
    if [ "$(id -u)" -eq 0 ]; then chown -R postgres:postgres "$DEV/pg"; fi
    if [ ! -f "$PG_DATA/PG_VERSION" ]; then
      log "initialising PostgreSQL cluster in $PG_DATA"
      as_owner "$BIN/initdb" -D "$PG_DATA" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
      cat >>"$PG_DATA/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_SOCKET'
max_connections = 300
shared_buffers = 512MB
work_mem = 16MB
maintenance_work_mem = 256MB
# Durability stays on: a 2xx answer must survive a crash, in development too.
fsync = on
synchronous_commit = on
wal_level = logical
log_min_duration_statement = 1000
CONF
    fi
    log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
    # After a SIGKILL the old postmaster can linger for seconds (unreaped, or its backends still
    # exiting), and PostgreSQL refuses to start beside it: try again for a while, then fail with
    # the server's own words.
    started=0
    for _ in $(seq 1 20); do
      if as_owner "$BIN/pg_ctl" -D "$PG_DATA" -l "$DEV/pg/postgres.log" -w -t 60 start >/dev/null 2>&1; then
        started=1
        break
      fi
      sleep 1
    done
    [ "$started" = 1 ] || die_with_log "PostgreSQL did not start" "$DEV/pg/postgres.log"
    wait_for "PostgreSQL" ready
    ;;
  stop)
    if [ -f "$PG_DATA/postmaster.pid" ]; then
      as_owner "$BIN/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null || true
    fi
    ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
