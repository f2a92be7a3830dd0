#!/usr/bin/env bash
# Shared settings of the local stack: where things live and which loopback ports they use.
# Sourced by the other scripts; every path is inside the checkout (.dev/), nothing is global.
# The settings below are used by the scripts that source this file, not here:
# shellcheck disable=SC2034

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DEV="$ROOT/.dev"
RUN="$DEV/run"
LOGS="$DEV/logs"

PG_PORT="${CC_DEV_PG_PORT:-54329}"
PG_DATA="$DEV/pg/data"
PG_SOCKET="$DEV/pg/socket"
PG_SUPERUSER_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres"
# A second cluster that accepts TLS connections only, for the TLS tests (postgres-tls.sh).
PG_TLS_PORT="${CC_TEST_PG_TLS_PORT:-54339}"
PG_TLS_HOME="$DEV/pg-tls"

DEV_BROKER_PORT="${CC_DEV_BROKER_PORT:-19092}"
TEST_BROKER_PORT="${CC_TEST_BROKER_PORT:-19192}"

COMMAND_API_PORT="${CC_DEV_COMMAND_API_PORT:-18081}"
QUERY_API_PORT="${CC_DEV_QUERY_API_PORT:-18082}"
PROJECTOR_PORT="${CC_DEV_PROJECTOR_PORT:-18083}"
# The APIs' admin listeners (/metrics, readiness); the projector has only its admin listener.
COMMAND_API_ADMIN_PORT="${CC_DEV_COMMAND_API_ADMIN_PORT:-18091}"
QUERY_API_ADMIN_PORT="${CC_DEV_QUERY_API_ADMIN_PORT:-18092}"
# The notifier has only its admin listener, like the projector. It mails through the local SMTP
# sink (testkit's mail-sink), which keeps every message as a file in $MAIL_DIR.
NOTIFIER_ADMIN_PORT="${CC_DEV_NOTIFIER_ADMIN_PORT:-18084}"
SMTP_PORT="${CC_DEV_SMTP_PORT:-18025}"
MAIL_DIR="$DEV/mail"

TANSU_VERSION="0.6.0"
export PATH="$HOME/.cargo/bin:$PATH"

mkdir -p "$RUN" "$LOGS"

log() { printf '==> %s\n' "$*" >&2; }

# Newest PostgreSQL server binaries installed by Debian's packages (kept off PATH there).
pg_bin() {
  local dir
  dir=$(find /usr/lib/postgresql -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)
  [ -n "$dir" ] && printf '%s\n' "$dir"
}

# Waits until "$@" succeeds, up to $WAIT_SECONDS (default 60).
wait_for() {
  local what="$1"; shift
  local deadline=$((SECONDS + ${WAIT_SECONDS:-60}))
  until "$@" >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      log "timed out waiting for $what"
      return 1
    fi
    sleep 0.2
  done
}

# Says what failed, shows the last lines of log file $2, and exits: a loop that waits on a dead
# process must never hide it.
die_with_log() {
  local what="$1" logfile="$2"
  log "$what"
  if [ -f "$logfile" ]; then
    log "last lines of $logfile:"
    tail -n 30 "$logfile" >&2
  fi
  exit 1
}

# Waits until "$@" succeeds, up to $WAIT_SECONDS (default 60), failing loudly as soon as the
# process in pid file $2 is gone.
wait_while_running() {
  local what="$1" pidfile="$2" logfile="$3"
  shift 3
  local deadline=$((SECONDS + ${WAIT_SECONDS:-60}))
  until "$@" >/dev/null 2>&1; do
    running "$pidfile" || die_with_log "$what: the process exited" "$logfile"
    [ "$SECONDS" -lt "$deadline" ] || die_with_log "timed out waiting for $what" "$logfile"
    sleep 0.2
  done
}

# Whether the process in pid file $1 is alive.
running() {
  [ -f "$1" ] || return 1
  local pid
  pid=$(cat "$1")
  kill -0 "$pid" 2>/dev/null || return 1
  # A process killed a moment ago and not yet reaped (a zombie) still answers kill -0: without
  # this, `make up` right after a kill -9 found the service "running" and then saw it exit.
  [ "$(ps -o stat= -p "$pid" 2>/dev/null | cut -c1)" != Z ]
}

# Stops the process in pid file $1 with SIGTERM, then SIGKILL after $2 seconds (default 20).
stop_pidfile() {
  local pidfile="$1" grace="${2:-20}" pid
  running "$pidfile" || { rm -f "$pidfile"; return 0; }
  pid=$(cat "$pidfile")
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + grace))
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$SECONDS" -ge "$deadline" ]; then kill -KILL "$pid" 2>/dev/null || true; break; fi
    sleep 0.2
  done
  rm -f "$pidfile"
}

port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# As root, PostgreSQL runs as Debian's "postgres" user, which must be able to reach its data
# directory. A checkout inside a private directory (`mktemp -d` makes them 0700) is closed to it,
# and initdb fails with "Permission denied". Opens each closed directory on the way to $1 for
# traversal only (o+x: no listing, no reading), top down, and says which.
let_postgres_reach() {
  [ "$(id -u)" -eq 0 ] || return 0
  local path="" part parts
  IFS=/ read -ra parts <<<"${1#/}"
  for part in "${parts[@]}"; do
    [ -n "$part" ] || continue
    path="$path/$part"
    # From /, so that runuser does not first complain about a working directory it cannot enter.
    if ! (cd / && runuser -u postgres -- test -x "$path" 2>/dev/null); then
      log "opening $path for traversal (o+x) so that PostgreSQL's user can reach .dev/"
      chmod o+x "$path"
    fi
  done
}

# PostgreSQL refuses to run as root; a cluster then belongs to the unprivileged "postgres" user
# that Debian's package creates.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}
