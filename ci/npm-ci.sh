#!/usr/bin/env bash
# Installs one folder's npm packages exactly as its package-lock.json says, only when needed.
#
#   bash ci/npm-ci.sh clients/typescript
#
# `npm ci` wipes and reinstalls node_modules every time (seconds even when nothing changed), so a
# stamp inside node_modules records the lockfile's hash and the Node version; when both match,
# nothing runs. Delete node_modules to force a clean install. Used by clients/typescript/check.sh
# and ci/openapi-breaking.sh; the registry is whatever npm is configured with.
set -euo pipefail

dir="${1:?usage: ci/npm-ci.sh DIR}"
lock="${dir}/package-lock.json"
stamp="${dir}/node_modules/.installed"

want="$(sha256sum "${lock}" | cut -d' ' -f1) node-$(node --version)"
if [[ -f "${stamp}" && "$(cat "${stamp}")" == "${want}" ]]; then
  exit 0
fi

echo "npm-ci: installing ${dir} from ${lock}"
started=${SECONDS}
# --ignore-scripts: no package here needs an install script, and none may fetch anything.
(cd "${dir}" && npm ci --no-audit --no-fund --ignore-scripts)
echo "${want}" > "${stamp}"
echo "npm-ci: ${dir} installed in $((SECONDS - started)) s ($(du -sh "${dir}/node_modules" | cut -f1))"
