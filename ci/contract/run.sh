#!/usr/bin/env bash
# The contract suite (ci/contract/run.py): schemathesis against both services' OpenAPI documents,
# every check and phase, as an admin, a seller and a customer, on a PostgreSQL cluster and broker
# of its own. `ci/test.sh` calls it.
#
#   bash ci/contract/run.sh            (CONTRACT_EXAMPLES, CONTRACT_SEED: see run.py)
#
# 1. installs ci/contract/requirements.txt into .tools/contract-venv from PyPI, wheels only;
#    skipped when the stamp file holds the same requirements hash and Python version;
# 2. builds the debug binaries it runs; 3. runs run.py, whose exit status this returns.
# Needs the PostgreSQL server binaries and tansu (ci/stack/install.sh installs both).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="${root}/.tools/contract-venv"
requirements="${root}/ci/contract/requirements.txt"
export PATH="${HOME}/.cargo/bin:${PATH}"

# The suite's PostgreSQL runs as the "postgres" user when we are root: it must reach .dev/contract.
# shellcheck source-path=SCRIPTDIR source=../stack/common.sh
source "${root}/ci/stack/common.sh"
let_postgres_reach "${root}/.dev"

bash "${root}/ci/python-venv.sh" "${requirements}" "${venv}"

cd "${root}"
echo "contract: building the services and the mail sink (debug)"
cargo build --locked --quiet -p command-api -p projector -p query-api -p notifier
cargo build --locked --quiet -p testkit --bin mail-sink

exec "${venv}/bin/python" "${root}/ci/contract/run.py" "$@"
