#!/usr/bin/env bash
# Static checks of everything that is not Rust: Kubernetes manifests, Dockerfile, workflows and
# shell scripts. Developers and CI run the same script (`make test` calls it):
#
#   bash ci/static-checks.sh
#
# 1. renders every kustomization (base, platform, each overlay) with `kubectl kustomize`;
# 2. validates every built-in kind of each overlay against the Kubernetes ${K8S_VERSION} schemas
#    (kubernetes-validate --strict); custom resources (Strimzi, CNPG, KEDA, Prometheus Operator)
#    have no schema there and are reported as skipped: ci/check_manifests.py covers what matters
#    in them;
# 3. ci/check_manifests.py: HA, security and consistency rules over the rendered overlays, and
#    no apiVersion that the supported operators or Kubernetes no longer serve (kubernetes-validate
#    skips those like custom resources), over the overlays and over k8s/ as written;
# 4. checkov on the rendered overlays and the Dockerfile (skips documented in .checkov.yaml);
# 5. ci/check_infra.py: infra/aws, gcp, azure parse, are pinned, keep the promises of the managed
#    services (private, TLS, backups, HA) and give each cloud overlay what it reads (outputs,
#    secrets, the workload identity); 6. checkov's Terraform policies on infra/ (skips inline,
#    with reasons). No provider can be downloaded here, so nothing is planned: infra/README.md;
# 7. hadolint on the Dockerfile; 8. actionlint on .github/workflows; 9. shellcheck on every *.sh.
#
# Every step runs even if an earlier one failed; the last line is `static-checks: N passed,
# M failed` and the exit status is non-zero if any step failed. Tools come from
# ci/install-tools.sh (PyPI, into .tools/).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${root}"
started=${SECONDS}

# preStop.sleep is GA since Kubernetes 1.32; 1.33 is the oldest minor all three clouds still
# offer with standard support when this was written. Raise it with the clusters.
K8S_VERSION=1.33.0

bash ci/install-tools.sh
export PATH="${root}/.tools/venv/bin:${PATH}"
rendered="${root}/.tools/rendered"
rm -rf "${rendered}"
mkdir -p "${rendered}"

passed=0
failed=0
failed_steps=()

step() {
  local title="$1"
  shift
  echo "==> ${title}"
  if "$@"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    failed_steps+=("${title}")
    echo "FAILED: ${title}"
  fi
}

overlays=()
for dir in k8s/overlays/*/; do
  overlays+=("$(basename "${dir}")")
done
# Rendered beside the overlays and checked like them (see render_all).
checked=("${overlays[@]}" prod-with-jobs)

render_all() {
  local ok=0 dir
  for dir in k8s/base k8s/platform k8s/jobs; do
    kubectl kustomize "${dir}" > "${rendered}/$(basename "${dir}").yaml" || ok=1
  done
  for overlay in "${overlays[@]}"; do
    if kubectl kustomize "k8s/overlays/${overlay}" > "${rendered}/${overlay}.yaml"; then
      echo "${overlay}: $(grep -c '^kind:' "${rendered}/${overlay}.yaml") resources"
    else
      ok=1
    fi
  done
  # The operator Jobs run against a deployed stack: checked together with prod, so their
  # network policies meet the pods they talk to.
  cat "${rendered}/prod.yaml" <(echo "---") "${rendered}/jobs.yaml" > "${rendered}/prod-with-jobs.yaml"
  echo "prod-with-jobs: $(grep -c '^kind:' "${rendered}/prod-with-jobs.yaml") resources"
  return "${ok}"
}

validate_schemas() {
  local ok=0 overlay log valid skipped
  for overlay in "${checked[@]}"; do
    log="${rendered}/${overlay}.validate.log"
    kubernetes-validate --strict --kubernetes-version "${K8S_VERSION}" "${rendered}/${overlay}.yaml" > "${log}" 2>&1 || ok=1
    valid=$(grep -c ' passed for resource ' "${log}" || true)
    skipped=$(grep -c "Couldn't find schema" "${log}" || true)
    echo "${overlay}: ${valid} built-in resources valid against ${K8S_VERSION} (strict), ${skipped} custom resources skipped (no schema):" \
      "$(grep -o "kind [A-Za-z]*" "${log}" | sort -u | cut -d' ' -f2 | paste -sd, -)"
    grep -E '^ERROR|did not validate' "${log}" || true
  done
  return "${ok}"
}

check_manifests() {
  local args=() overlay
  for overlay in "${checked[@]}"; do
    args+=("${overlay}=${rendered}/${overlay}.yaml")
  done
  python ci/check_manifests.py "${args[@]}"
}

run_checkov() {
  local files=() overlay
  for overlay in "${checked[@]}"; do
    files+=(--file "${rendered}/${overlay}.yaml")
  done
  checkov --config-file .checkov.yaml --framework kubernetes dockerfile "${files[@]}" --file Dockerfile
}

run_check_infra() {
  python ci/check_infra.py aws="${rendered}/aws.yaml" gcp="${rendered}/gcp.yaml" azure="${rendered}/azure.yaml"
}

run_checkov_terraform() {
  checkov --framework terraform --directory infra --compact --quiet --skip-download
}

run_hadolint() {
  # The OCI labels are required of the runtime stage only, so they are checked here rather
  # than with hadolint's --require-label, which applies to every stage (builders included).
  local label missing=0
  for label in source revision version; do
    if ! grep -q "org.opencontainers.image.${label}=\"\${OCI_${label^^}}\"" Dockerfile; then
      echo "Dockerfile: label org.opencontainers.image.${label} must come from build arg OCI_${label^^}"
      missing=1
    fi
  done
  hadolint --no-color --failure-threshold style Dockerfile && ((missing == 0)) && echo "hadolint: Dockerfile clean"
}

run_actionlint() {
  actionlint -no-color && echo "actionlint: $(find .github/workflows -name '*.yml' | wc -l) workflows clean"
}

run_shellcheck() {
  local scripts=()
  mapfile -d '' scripts < <(find . \( -path ./.git -o -path ./.tools -o -path ./target -o -name node_modules \) -prune \
    -o -type f -name '*.sh' -print0 | sort -z)
  shellcheck --external-sources "${scripts[@]}" && echo "shellcheck: ${#scripts[@]} scripts clean"
}

step "render kustomizations" render_all
step "kubernetes-validate (Kubernetes ${K8S_VERSION})" validate_schemas
step "check_manifests.py" check_manifests
step "checkov" run_checkov
step "check_infra.py" run_check_infra
step "checkov (Terraform, infra/)" run_checkov_terraform
step "hadolint" run_hadolint
step "actionlint" run_actionlint
step "shellcheck" run_shellcheck

echo "static-checks took $((SECONDS - started)) s"
if ((failed > 0)); then
  printf 'failed step: %s\n' "${failed_steps[@]}"
fi
echo "static-checks: ${passed} passed, ${failed} failed"
((failed == 0))
