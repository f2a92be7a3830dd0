#!/usr/bin/env bash
# `make down`: stops everything `make up` and `make test` started. Data stays in .dev/ (delete
# the folder for a clean slate).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "$0")/common.sh"

# Readers of the topics first; the mail sink last, once nothing mails through it.
for service in query-api projector notifier command-api mail-sink; do
  stop_pidfile "$RUN/$service.pid" 30
done
bash "$ROOT/ci/stack/broker.sh" stop dev
bash "$ROOT/ci/stack/broker.sh" stop test
bash "$ROOT/ci/stack/postgres.sh" stop
bash "$ROOT/ci/stack/postgres-tls.sh" stop
log "stack stopped"
