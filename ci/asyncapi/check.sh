#!/usr/bin/env bash
# Validates contracts/asyncapi.json with the AsyncAPI CLI and renders it to one offline HTML
# page, target/asyncapi-html/index.html. Developers and CI run the same script:
#
#   bash ci/asyncapi/check.sh
#
# Tools: the exact versions in this folder's package-lock.json, installed by ci/npm-ci.sh
# (`npm ci`) into ci/asyncapi/node_modules (git-ignored) on the first run and whenever the lock
# file changes. Needs node >= 20 and, for that install only, the npm registry. package.json
# swaps the CLI's @asyncapi/studio and next for an empty package (unused/): only its
# `start studio`, `start preview` and `new file` commands load them, and they are two thirds of
# the install (1.5 GB instead of 0.5 GB).
#
# Fails when the document has an error or a governance warning (`--fail-severity warn`); the
# "information" hint that a newer AsyncAPI version exists is printed but does not fail, since
# moving the contract to another spec version is a decision, not a lint fix.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
tools="${root}/ci/asyncapi"
out="${root}/target/asyncapi-html"
started=${SECONDS}

node_major=$(node -p 'process.versions.node.split(".")[0]')
if ((node_major < 20)); then
  echo "asyncapi: node >= 20 required, found $(node --version)" >&2
  exit 1
fi

# Only when the lock file or Node changed. --ignore-scripts there matters here: install scripts
# would download a Chrome for puppeteer (the template's PDF output, unused), report the install
# to a third party (@scarf/scarf) and edit the shell's completion setup (the CLI).
bash "${root}/ci/npm-ci.sh" "${tools}"

# The CLI records anonymous usage metrics unless its settings file says no. A file of our own
# keeps that decision out of the user's home directory and holds in CI and on laptops alike.
analytics="${tools}/node_modules/.asyncapi-analytics"
if [[ ! -f "${analytics}" ]]; then
  printf '{"analyticsEnabled":"false","infoMessageShown":"true","userID":"cloudcommerce-ci"}\n' > "${analytics}"
fi
export ASYNCAPI_METRICS_CONFIG_PATH="${analytics}"
asyncapi="${tools}/node_modules/.bin/asyncapi"

echo "==> asyncapi validate contracts/asyncapi.json"
"${asyncapi}" validate "${root}/contracts/asyncapi.json" --fail-severity warn

echo "==> asyncapi generate fromTemplate (html-template) -> target/asyncapi-html"
rm -rf "${out}"
# Run from contracts/: this generator resolves the payloads' relative `$ref`s
# (./schemas/*.json) against the working directory, not against the document.
# singleFile=true inlines the page's scripts and styles, so it opens without a network. An empty
# --registry-url stops the CLI from fetching its default registry before every generation (it
# fails offline even though the template is installed here and nothing is downloaded).
(
  cd "${root}/contracts"
  "${asyncapi}" generate fromTemplate asyncapi.json "${tools}/node_modules/@asyncapi/html-template" \
    --use-new-generator --no-interactive --force-write --output "${out}" --param singleFile=true \
    --registry-url=
)

page="${out}/index.html"
if [[ ! -s "${page}" ]]; then
  echo "asyncapi: ${page} was not written" >&2
  exit 1
fi
# Offline by construction, and kept so: a template upgrade that starts loading scripts, styles
# or fonts from elsewhere fails here instead of rendering a blank page without a network.
remote=$(grep -Eo '<(script|link|img|iframe)[^>]*(src|href)="(https?:)?//[^"]*"' "${page}" || true)
if [[ -n "${remote}" ]]; then
  echo "asyncapi: ${page} loads remote resources:" >&2
  echo "${remote}" >&2
  exit 1
fi

echo "asyncapi: contracts/asyncapi.json valid; rendered ${page} ($(du -k "${page}" | cut -f1) KiB) in $((SECONDS - started)) s"
