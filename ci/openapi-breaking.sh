#!/usr/bin/env bash
# Fails when openapi/*.json would break a client written against their version at a base revision.
#
#   bash ci/openapi-breaking.sh            against HEAD~1
#   bash ci/openapi-breaking.sh origin/main
#
# The judge is Redocly CLI's `diff` (pinned in ci/openapi-diff/, offline, telemetry off): it rates
# every change patch, minor or major, the way semver would; a major change breaks a client
# (an operation or response field removed, a parameter or body field newly required, a type,
# enum or bound narrowed on a request, a type widened on a response). Each document is compared
# with its own version at the base; one that did not exist there is skipped.
#
# A deliberate break passes when the same change raises info.version enough for it: the next
# major, or the next minor while below 1.0 (utoipa takes info.version from the workspace's
# package version in Cargo.toml). The breaking changes are still printed, and the version bump is
# what tells every client to look.
set -euo pipefail
shopt -s nullglob

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${root}"
base="${1:-HEAD~1}"

# GitHub's `before` of a branch's first push: there is no previous version to break.
if [[ "${base}" =~ ^0{40}$ ]]; then
  echo "openapi-breaking: no base revision (a new branch), nothing to compare"
  exit 0
fi

if ! git rev-parse --verify --quiet "${base}^{commit}" > /dev/null; then
  echo "openapi-breaking: no revision ${base} here (a shallow clone? CI needs fetch-depth: 0)" >&2
  exit 1
fi

bash ci/npm-ci.sh ci/openapi-diff
redocly=ci/openapi-diff/node_modules/.bin/redocly
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true

old="$(mktemp -d)"
trap 'rm -rf "${old}"' EXIT
mkdir -p "${old}/openapi"
compared=0
broken=0
for doc in openapi/*.json; do
  if ! git cat-file -e "${base}:${doc}" 2> /dev/null; then
    echo "openapi-breaking: ${doc} is new since ${base}, nothing to compare"
    continue
  fi
  git show "${base}:${doc}" > "${old}/${doc}"
  compared=$((compared + 1))
  echo "==> ${doc}: ${base} -> working tree"
  if "${redocly}" diff "${old}/${doc}" "${doc}" --lint-config off; then
    continue
  fi
  # --fail-on none leaves only --check-version to judge: it passes when info.version rose by
  # at least what the changes above need, and otherwise says which version they need.
  if verdict="$("${redocly}" diff "${old}/${doc}" "${doc}" --lint-config off \
    --fail-on none --check-version 2>&1)"; then
    echo "openapi-breaking: ${doc} breaks clients on purpose: info.version was raised for it"
  else
    grep 'info.version' <<< "${verdict}" || true
    echo "openapi-breaking: ${doc} breaks clients of ${base} (the major changes above), or" >&2
    echo "  could not be read (the error above). Keep the old shape (add, don't change), or, when" >&2
    echo "  the break is deliberate, raise the workspace version in Cargo.toml as said above." >&2
    broken=$((broken + 1))
  fi
done

echo "openapi-breaking: ${compared} compared with ${base}, ${broken} breaking"
[[ "${broken}" -eq 0 ]]
