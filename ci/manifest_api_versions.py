"""The apiVersions that the supported operator releases and Kubernetes no longer serve, and the
check that no manifest names one: over the rendered overlays (ci/check_manifests.py calls it with
the rest) and over every file under k8s/ as written, where a failure can name the file.

kubernetes-validate cannot catch these: it skips a built-in kind at an unknown version just as it
skips a custom resource ("no schema"), so without this check the apply would be the first to
refuse them. The supported releases are in k8s/README.md, "Operator versions".
"""
from __future__ import annotations

from pathlib import Path

import yaml

# apiVersion -> (no longer served since, the apiVersion to use: one, or one per kind), for the
# kinds these manifests use. CloudNativePG, the Barman Cloud plugin and Prometheus Operator have
# only ever served v1 for those kinds, so they have no entry.
RETIRED_API_VERSIONS = {
    # Strimzi 0.49 added v1 beside them; 1.0 removed them (KafkaTopic and KafkaUser had all three).
    "kafka.strimzi.io/v1beta2": ("Strimzi 1.0", "kafka.strimzi.io/v1"),
    "kafka.strimzi.io/v1beta1": ("Strimzi 1.0", "kafka.strimzi.io/v1"),
    "kafka.strimzi.io/v1alpha1": ("Strimzi 1.0", "kafka.strimzi.io/v1"),
    # External Secrets Operator 0.16 added v1; 0.17 stopped serving the betas (cloud overlays).
    "external-secrets.io/v1beta1": ("External Secrets Operator 0.17", "external-secrets.io/v1"),
    "external-secrets.io/v1alpha1": ("External Secrets Operator 0.17", "external-secrets.io/v1"),
    # cert-manager 1.7 removed its pre-v1 APIs.
    "cert-manager.io/v1alpha2": ("cert-manager 1.7", "cert-manager.io/v1"),
    "cert-manager.io/v1alpha3": ("cert-manager 1.7", "cert-manager.io/v1"),
    "cert-manager.io/v1beta1": ("cert-manager 1.7", "cert-manager.io/v1"),
    # KEDA 1's API group.
    "keda.k8s.io/v1alpha1": ("KEDA 2.0", "keda.sh/v1alpha1"),
    "extensions/v1beta1": ("Kubernetes 1.16", {"Deployment": "apps/v1", "NetworkPolicy": "networking.k8s.io/v1"}),
    "apps/v1beta1": ("Kubernetes 1.16", "apps/v1"),
    "apps/v1beta2": ("Kubernetes 1.16", "apps/v1"),
    "policy/v1beta1": ("Kubernetes 1.25", "policy/v1"),
    "autoscaling/v2beta1": ("Kubernetes 1.25", "autoscaling/v2"),
    "autoscaling/v2beta2": ("Kubernetes 1.26", "autoscaling/v2"),
}


def _objects(text: str) -> list[dict]:
    return [d for d in yaml.safe_load_all(text) if isinstance(d, dict)]


def check_api_versions(r, where: str, docs) -> None:
    """One `api-versions` result per object in `docs` (r: check_manifests.Report)."""
    for d in docs:
        api, kind = d.get("apiVersion"), d.get("kind")
        if not api or not kind:
            continue
        retired = RETIRED_API_VERSIONS.get(api)
        use = retired and (retired[1] if isinstance(retired[1], str) else retired[1].get(kind, "its current apiVersion"))
        r.check("api-versions", f"{where}/{kind}/{d.get('metadata', {}).get('name', '?')}", retired is None,
                f"{api} is not served since {retired[0]}: use {use}" if retired else "")


def source_documents(k8s: Path) -> list[tuple[str, dict]]:
    """(file, object) for every object written under `k8s`, the inline patches of the
    kustomizations included (JSON patches are lists: they name no apiVersion)."""
    found = []
    for path in sorted(k8s.rglob("*.y*ml")):
        rel = path.relative_to(k8s.parent).as_posix()
        for doc in _objects(path.read_text()):
            found.append((rel, doc))
            if doc.get("kind") in ("Kustomization", "Component"):
                for patch in doc.get("patches") or []:
                    found += [(f"{rel} (inline patch)", d) for d in _objects(patch.get("patch") or "")]
    return found


def check_sources(r, k8s: Path) -> None:
    for rel, doc in source_documents(k8s):
        check_api_versions(r, rel, [doc])
