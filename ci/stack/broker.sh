#!/usr/bin/env bash
# Starts or stops a Tansu broker on loopback.
# usage: broker.sh start dev|test   (dev: durable sqlite storage; test: fast in-memory storage)
#        broker.sh stop dev|test
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "$0")/common.sh"

action="${1:-start}" name="${2:-dev}"
case "$name" in
  # Tansu resolves a sqlite path relative to its working directory, so it starts in the folder.
  dev)  port="$DEV_BROKER_PORT"; workdir="$DEV/broker"; engine="sqlite://tansu.db" ;;
  test) port="$TEST_BROKER_PORT"; workdir="$DEV"; engine="memory://tansu/" ;;
  *) echo "unknown broker $name" >&2; exit 2 ;;
esac
pidfile="$RUN/broker-$name.pid"

case "$action" in
  start)
    if running "$pidfile" && port_open "$port"; then exit 0; fi
    log "starting broker '$name' ($engine) on 127.0.0.1:$port"
    mkdir -p "$workdir"
    (cd "$workdir" && exec nohup tansu broker \
      --listener-url "tcp://127.0.0.1:$port" \
      --advertised-listener-url "tcp://127.0.0.1:$port" \
      --storage-engine "$engine" \
      >"$LOGS/broker-$name.log" 2>&1) &
    echo $! >"$pidfile"
    wait_for "broker $name" port_open "$port"
    ;;
  stop) stop_pidfile "$pidfile" 10 ;;
  *) echo "usage: $0 start|stop dev|test" >&2; exit 2 ;;
esac
