#!/usr/bin/env bash
# The fault suite (ci/faults/run.py): the four services under load through kills, a PostgreSQL
# crash and a broker outage, on a PostgreSQL cluster and broker of its own. `ci/test.sh` calls it.
#
#   bash ci/faults/run.sh [--faults abcde]
#
# 1. installs ci/faults/requirements.txt into .tools/faults-venv from PyPI, wheels only; skipped
#    when the stamp file holds the same requirements hash and Python version (delete .tools/
#    to force a clean install; PYTHON picks another interpreter, 3.11+);
# 2. builds the debug binaries it runs; 3. runs run.py, whose exit status this returns.
# Needs the PostgreSQL server binaries and tansu (ci/stack/install.sh installs both).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="${root}/.tools/faults-venv"
requirements="${root}/ci/faults/requirements.txt"
export PATH="${HOME}/.cargo/bin:${PATH}"

# The suite's PostgreSQL runs as the "postgres" user when we are root: it must reach .dev/faults.
# shellcheck source-path=SCRIPTDIR source=../stack/common.sh
source "${root}/ci/stack/common.sh"
let_postgres_reach "${root}/.dev"

bash "${root}/ci/python-venv.sh" "${requirements}" "${venv}"

cd "${root}"
echo "faults: building the services and the mail sink (debug)"
cargo build --locked --quiet -p command-api -p projector -p query-api -p notifier
cargo build --locked --quiet -p testkit --bin mail-sink

exec "${venv}/bin/python" "${root}/ci/faults/run.py" "$@"
