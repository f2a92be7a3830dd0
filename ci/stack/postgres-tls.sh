#!/usr/bin/env bash
# A PostgreSQL cluster that accepts TLS connections only, as a managed database that requires
# TLS does, for the TLS tests (platform/tests/postgres_tls.rs): .dev/pg-tls on 127.0.0.1 and
# 127.0.0.2, port $PG_TLS_PORT. It makes its own CA and a server certificate naming `localhost`
# and 127.0.0.1 (not 127.0.0.2, so that verify-full has a wrong host name to refuse), plus a
# second CA that signed nothing, for "a certificate from another CA".
# usage: postgres-tls.sh start|stop
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "$0")/common.sh"

BIN="$(pg_bin)"
DATA="$PG_TLS_HOME/data"
CERTS="$PG_TLS_HOME/certs"

ready() { as_owner "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_TLS_PORT"; }

make_certificates() {
  mkdir -p "$CERTS"
  local days=3650
  for ca in ca other-ca; do
    openssl req -x509 -newkey rsa:2048 -nodes -days "$days" -subj "/CN=CloudCommerce test $ca" \
      -keyout "$CERTS/$ca.key" -out "$CERTS/$ca.crt" 2>/dev/null
  done
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
    -keyout "$CERTS/server.key" -out "$CERTS/server.csr" 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$CERTS/server.ext"
  openssl x509 -req -in "$CERTS/server.csr" -CA "$CERTS/ca.crt" -CAkey "$CERTS/ca.key" \
    -CAcreateserial -days "$days" -extfile "$CERTS/server.ext" -out "$CERTS/server.crt" 2>/dev/null
  # The server refuses a key others can read.
  chmod 600 "$CERTS/server.key"
}

# TLS or nothing over TCP, as "require SSL" does on a managed database. The superuser the tests
# administer with is trusted; every other role proves its password (SCRAM), as on a managed
# database, so the role-provisioning tests (command-api/tests/api/roles) see passwords checked.
# Written at every start; succeeds only when it changed the file.
write_hba() {
  local wanted
  wanted=$(cat <<HBA
local   all all                 trust
hostssl all postgres 127.0.0.0/8 trust
hostssl all all 127.0.0.0/8     scram-sha-256
host    all all 127.0.0.0/8     reject
HBA
)
  [ "$(cat "$DATA/pg_hba.conf" 2>/dev/null)" != "$wanted" ] || return 1
  printf '%s\n' "$wanted" >"$DATA/pg_hba.conf"
  if [ "$(id -u)" -eq 0 ]; then chown postgres:postgres "$DATA/pg_hba.conf"; fi
}

case "${1:-start}" in
  start)
    if ready; then
      # A cluster made before the password rule: bring it up to date without a restart.
      if write_hba; then as_owner "$BIN/pg_ctl" -D "$DATA" reload >/dev/null; fi
      exit 0
    fi
    let_postgres_reach "$DEV"
    mkdir -p "$PG_TLS_HOME/socket"
    if [ ! -f "$DATA/PG_VERSION" ]; then
      log "initialising the TLS-only PostgreSQL cluster in $DATA"
      make_certificates
      if [ "$(id -u)" -eq 0 ]; then chown -R postgres:postgres "$PG_TLS_HOME"; fi
      as_owner "$BIN/initdb" -D "$DATA" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
      cat >>"$DATA/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1,127.0.0.2'
port = $PG_TLS_PORT
unix_socket_directories = '$PG_TLS_HOME/socket'
max_connections = 40
ssl = on
ssl_cert_file = '$CERTS/server.crt'
ssl_key_file = '$CERTS/server.key'
ssl_min_protocol_version = 'TLSv1.2'
CONF
    fi
    write_hba || true
    log "starting the TLS-only PostgreSQL on 127.0.0.1:$PG_TLS_PORT"
    as_owner "$BIN/pg_ctl" -D "$DATA" -l "$PG_TLS_HOME/postgres.log" -w -t 60 start >/dev/null \
      || die_with_log "the TLS-only PostgreSQL did not start" "$PG_TLS_HOME/postgres.log"
    wait_for "the TLS-only PostgreSQL" ready
    ;;
  stop)
    if [ -f "$DATA/postmaster.pid" ]; then
      as_owner "$BIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null || true
    fi
    ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
