#!/usr/bin/env bash
# Installs a suite's pinned Python packages into a virtualenv of its own, from PyPI, wheels only
# (nothing is built, nothing but the registry is reached); skipped when the stamp file holds the
# same requirements hash and Python version. Delete the venv to force a clean install.
#
#   bash ci/python-venv.sh ci/faults/requirements.txt .tools/faults-venv
#
# PYTHON picks another interpreter (3.10+). Used by ci/install-tools.sh and the fault and
# contract suites' run.sh.
set -euo pipefail

requirements="${1:?usage: ci/python-venv.sh REQUIREMENTS VENV}"
venv="${2:?usage: ci/python-venv.sh REQUIREMENTS VENV}"
python="${PYTHON:-python3}"
stamp="${venv}/.installed"

want="$(sha256sum "${requirements}" | cut -d' ' -f1) $("${python}" -c 'import sys; print(sys.version.split()[0])')"
if [[ -f "${stamp}" && "$(cat "${stamp}")" == "${want}" ]]; then
  exit 0
fi
echo "python-venv: installing ${requirements} into ${venv}"
rm -rf "${venv}"
"${python}" -m venv "${venv}"
"${venv}/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
  --only-binary=:all: --requirement "${requirements}"
echo "${want}" > "${stamp}"
