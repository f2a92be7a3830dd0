#!/usr/bin/env bash
# The security suite (ci/security/run.py): the attacks on accounts and access against the real binaries, on a
# PostgreSQL cluster and broker of its own. `ci/test.sh` calls it. Python's standard library is
# all it needs; it reuses the fault suite's stack (ci/faults/stack.py).
#
#   bash ci/security/run.sh
#
# Needs the PostgreSQL server binaries and tansu (ci/stack/install.sh installs both).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
python="${PYTHON:-python3}"
export PATH="${HOME}/.cargo/bin:${PATH}"

# The suite's PostgreSQL runs as the "postgres" user when we are root: it must reach .dev/security.
# shellcheck source-path=SCRIPTDIR source=../stack/common.sh
source "${root}/ci/stack/common.sh"
let_postgres_reach "${root}/.dev"

cd "${root}"
echo "security: building the services and the mail sink (debug)"
cargo build --locked --quiet -p command-api -p projector -p query-api -p notifier
cargo build --locked --quiet -p testkit --bin mail-sink

exec "${python}" "${root}/ci/security/run.py" "$@"
