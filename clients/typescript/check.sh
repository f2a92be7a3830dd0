#!/usr/bin/env bash
# Checks the TypeScript client: generated/*.ts match openapi/*.json, and example.ts type-checks.
#
#   bash clients/typescript/check.sh           fail when generated/ is stale or tsc finds an error
#   bash clients/typescript/check.sh --write   regenerate generated/ (also `npm run generate`)
#
# The generated files are committed so a consumer can copy one file and `openapi-fetch`, without
# this repository's toolchain; the price is this drift check. Needs Node 20.19+ and npm; packages
# come from package-lock.json through ci/npm-ci.sh.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "${root}"
client=clients/typescript

write=false
if [[ "${1:-}" == "--write" ]]; then
  write=true
fi

bash ci/npm-ci.sh "${client}"

# openapi-typescript keys its `operations` type by operationId, so a repeated id makes a
# duplicate member that tsc rejects far from its cause; OpenAPI itself requires them unique.
node - openapi/*.json <<'JS'
const fs = require("node:fs");
let duplicates = 0;
for (const file of process.argv.slice(2)) {
  const seen = new Map();
  for (const [path, item] of Object.entries(JSON.parse(fs.readFileSync(file, "utf8")).paths ?? {})) {
    for (const [method, op] of Object.entries(item)) {
      if (!op || typeof op !== "object" || !op.operationId) continue;
      const where = `${method.toUpperCase()} ${path}`;
      if (seen.has(op.operationId)) {
        console.error(`${file}: operationId "${op.operationId}" names both ${seen.get(op.operationId)} and ${where}`);
        duplicates++;
      } else {
        seen.set(op.operationId, where);
      }
    }
  }
}
process.exit(duplicates ? 1 : 0);
JS

out="$(mktemp -d)"
trap 'rm -rf "${out}"' EXIT
for doc in openapi/*.json; do
  name="$(basename "${doc}" .json)"
  # Its stdout is a banner per file; warnings and errors go to stderr.
  "${client}/node_modules/.bin/openapi-typescript" "${doc}" --output "${out}/${name}.ts" > /dev/null
done

if ${write}; then
  rm -rf "${client}/generated"
  mkdir -p "${client}/generated"
  cp "${out}"/*.ts "${client}/generated/"
  echo "typescript client: generated/ rewritten from openapi/*.json"
elif ! diff -ru "${client}/generated" "${out}"; then
  echo "typescript client: generated/ is stale; run: bash clients/typescript/check.sh --write" >&2
  exit 1
fi

"${client}/node_modules/.bin/tsc" -p "${client}/tsconfig.json"
echo "typescript client: generated/ matches openapi/*.json; example.ts type-checks (tsc --strict)"
