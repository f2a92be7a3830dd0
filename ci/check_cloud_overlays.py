"""Checks of the cloud overlays (k8s/overlays/aws, gcp, azure) that the others do not need: every
value left for the overlay was filled from cloud.env, and every secret a workload reads is made by
something the overlay deploys (an ExternalSecret, an operator) or is one of the few a person
creates in the walk-through (k8s/README.md).
"""
from __future__ import annotations

import yaml


def _refs(docs) -> set[tuple[str, str]]:
    """(Secret or ConfigMap name, reader) of everything a workload or a KEDA TriggerAuthentication
    must find to start: env and envFrom references and volumes, optional ones left out."""
    refs = set()
    for d in docs:
        kind, subject = d.get("kind"), f"{d.get('kind')}/{d['metadata']['name']}"
        if kind in ("Deployment", "Job"):
            spec = d["spec"]["template"]["spec"]
            for c in spec.get("initContainers", []) + spec["containers"]:
                for e in c.get("env", []):
                    for key in ("secretKeyRef", "configMapKeyRef"):
                        ref = (e.get("valueFrom") or {}).get(key)
                        if ref and not ref.get("optional"):
                            refs.add((ref["name"], subject))
                for source in c.get("envFrom", []):
                    ref = source.get("secretRef") or source.get("configMapRef")
                    if ref and not ref.get("optional"):
                        refs.add((ref["name"], subject))
            for v in spec.get("volumes", []):
                if "secret" in v and not v["secret"].get("optional"):
                    refs.add((v["secret"]["secretName"], subject))
                if "configMap" in v and not v["configMap"].get("optional"):
                    refs.add((v["configMap"]["name"], subject))
        if kind == "TriggerAuthentication":
            refs |= {(s["name"], subject) for s in d["spec"].get("secretTargetRef", [])}
    return refs


def _made(docs) -> set[str]:
    """Secrets and ConfigMaps the overlay's own resources are or make."""
    made = set()
    for d in docs:
        kind, n = d.get("kind"), d["metadata"]["name"]
        if kind == "ConfigMap":
            made.add(n)
        elif kind == "ExternalSecret":
            made.add((d["spec"].get("target") or {}).get("name", n))
        elif kind == "KafkaUser":  # Strimzi's User Operator: the user's password
            made.add(n)
        elif kind == "Kafka":  # Strimzi's Cluster Operator: the cluster CA clients trust
            made.add(f"{n}-cluster-ca-cert")
        elif kind == "Cluster" and d["apiVersion"].startswith("postgresql.cnpg.io"):
            made |= {f"{n}-app", f"{n}-ca"}
    return made


def check_cloud_overlay(r, overlay: str, docs, by_hand: set[str], placeholders) -> None:
    text = yaml.safe_dump_all(docs)
    left = sorted({p for p in placeholders if p in text})
    r.check("cloud-values", overlay, not left, f"placeholders not replaced from cloud.env: {left}")
    made = _made(docs)
    for source, reader in sorted(_refs(docs)):
        r.check("secrets-sourced", f"{overlay}/{reader}/{source}", source in made or source in by_hand,
                "made by the overlay (a ConfigMap, an ExternalSecret, an operator), or by hand in the walk-through")
    stores = {d["metadata"]["name"] for d in docs if d.get("kind") == "SecretStore"}
    for d in docs:
        if d.get("kind") == "ExternalSecret":
            ref = d["spec"]["secretStoreRef"]
            r.check("secrets-sourced", f"{overlay}/ExternalSecret/{d['metadata']['name']}",
                    ref.get("kind", "SecretStore") == "SecretStore" and ref["name"] in stores,
                    f"its SecretStore {ref['name']!r} must be in the overlay")
    # Nobody else may read the cloud's secret store through this account.
    users = [f"{d['kind']}/{d['metadata']['name']}" for d in docs if d.get("kind") in ("Deployment", "Job")
             and d["spec"]["template"]["spec"].get("serviceAccountName") == "cc-external-secrets"]
    r.check("secrets-sourced", f"{overlay}/ServiceAccount/cc-external-secrets", not users,
            f"only External Secrets Operator acts as it; workloads using it: {users}")
