#!/usr/bin/env bash
# Starts, stops or checks a Tansu broker on loopback, in memory (the `memory://` engine).
# usage: broker.sh start|stop|check dev|test
#
# Why in memory for `make up` too: the durable `sqlite://` engine takes about 70 messages/s, so a
# fresh demo catalog needed minutes to reach the topics, and it panics for good when an
# idempotent producer resends after a disconnect. A broker that forgets is what the system must
# survive anyway: the relay notices a lost topic and publishes its history again from the event
# store, and the projector re-reads a partition whose log was replaced (ARCHITECTURE.md). So a
# restarted dev broker refills itself within seconds.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "$0")/common.sh"

action="${1:-start}" name="${2:-dev}"
case "$name" in
  dev)  port="$DEV_BROKER_PORT" ;;
  test) port="$TEST_BROKER_PORT" ;;
  *) echo "unknown broker $name" >&2; exit 2 ;;
esac
pidfile="$RUN/broker-$name.pid"
logfile="$LOGS/broker-$name.log"

case "$action" in
  start)
    if running "$pidfile" && port_open "$port"; then exit 0; fi
    if port_open "$port"; then
      die_with_log "port $port is taken by a process this stack did not start" "$logfile"
    fi
    log "starting broker '$name' (memory://) on 127.0.0.1:$port"
    (cd "$DEV" && exec nohup tansu broker \
      --listener-url "tcp://127.0.0.1:$port" \
      --advertised-listener-url "tcp://127.0.0.1:$port" \
      --storage-engine "memory://tansu/" \
      >"$logfile" 2>&1) &
    echo $! >"$pidfile"
    wait_while_running "broker $name" "$pidfile" "$logfile" port_open "$port"
    ;;
  check)
    if ! { running "$pidfile" && port_open "$port"; }; then
      die_with_log "the broker '$name' is down" "$logfile"
    fi
    ;;
  stop) stop_pidfile "$pidfile" 10 ;;
  *) echo "usage: $0 start|stop|check dev|test" >&2; exit 2 ;;
esac
