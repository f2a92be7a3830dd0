#!/usr/bin/env python3
"""Checks over the RENDERED manifests of every overlay that a schema cannot express.

Usage:
    check_manifests.py [NAME=RENDERED.yaml ...]

Without arguments it renders every k8s/overlays/* with `kubectl kustomize` (kubectl on PATH).
It also reads every YAML file under k8s/ as written, patches included, for apiVersions no longer
served (ci/manifest_api_versions.py): there a failure names the file.
Each check yields one result per subject (a Deployment, a NetworkPolicy rule, ...); the last line
printed is `N passed, M failed`, and the exit status is non-zero when M > 0. After the real
checks it runs mutation self-tests (ci/check_manifests_selftest.py): it breaks a copy of the prod
manifests (and of aws's, and of prod with k8s/jobs) in known ways and passes only if the
matching check then fails, so the checks are known to be able to fail.
"""
from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from check_cloud_overlays import check_cloud_overlay
from check_routes import check_routes
from manifest_api_versions import check_api_versions, check_sources

ROOT = Path(__file__).resolve().parent.parent
BINARIES = {"command-api", "query-api", "projector", "notifier"}
DRAIN_ANNOTATION = "cloudcommerce.io/drain-seconds"
ALERT_METRICS = ["http_request_duration_seconds", "projector_projection_lag_seconds",
                 "projector_consumer_lag", "relay_outbox_backlog",
                 "notifier_active", "notifier_dead_letters_total"]
DASHBOARD_METRICS = ALERT_METRICS + ["events_appended_total", "relay_events_published_total",
                                     "projector_events_applied_total"]
# The notifier: one active replica and one standby (base/notifier.yaml).
HA_REPLICAS = {"command-api": 3, "query-api": 3, "projector": 2, "notifier": 2}
# Minimum replicas each overlay promises (HPA minReplicas / KEDA minReplicaCount): a floor for the
# highly available ones, exactly one of each in dev.
# (prod-with-jobs: prod with k8s/jobs, rendered by ci/static-checks.sh.)
MIN_REPLICAS = {"prod": HA_REPLICAS, "prod-with-jobs": HA_REPLICAS, "aws": HA_REPLICAS, "gcp": HA_REPLICAS,
                "azure": HA_REPLICAS, "dev": {"command-api": 1, "query-api": 1, "projector": 1, "notifier": 1}}
HIGHLY_AVAILABLE = {"prod", "prod-with-jobs", "aws", "gcp", "azure"}
# Where each overlay's Kafka and PostgreSQL run: in the cluster under their operators (and then
# checked here), or as the cloud's managed service (checked in infra/<cloud> by check_infra.py).
# An overlay missing here fails: a new one must say what it runs on.
PLATFORM = {"dev": ("strimzi", "cnpg"), "prod": ("strimzi", "cnpg"), "prod-with-jobs": ("strimzi", "cnpg"),
            "aws": ("msk", "managed"),
            "gcp": ("strimzi", "managed"), "azure": ("strimzi", "managed")}
# Secrets and ConfigMaps a cloud overlay leaves to a person, each made in k8s/README.md's
# walk-through (the managed PostgreSQL's CA, the public keys query-api verifies tokens with);
# everything else the workloads read must be made by the overlay (check_cloud_overlays.py).
BY_HAND = {"aws": {"cc-pg-ca", "cc-auth-jwks"}, "gcp": {"cc-pg-ca", "cc-auth-jwks"}, "azure": {"cc-auth-jwks"}}
# The service roles the migrations grant to, each with its CNPG managed role (or, on a managed
# database, the migration Job's CC_MIGRATE__<ROLE>_PASSWORD).
SERVICE_ROLES = ("cc_writer", "cc_projector", "cc_reader", "cc_notifier")
# The only ports on which the notifier may leave the cluster to an address it does not name: mail
# submission to the SMTP relay, with STARTTLS (587) or TLS (465). Never 25 (plain relaying).
SMTP_PORTS = {587, 465}
# The personal-data master key: it wraps the users' data keys, so the services that seal or open
# personal fields hold the same one, and the read side none (k8s/README.md, "Personal data master key").
MASTER_KEY_ENV = "CC_PERSONAL_DATA__MASTER_KEY"
MASTER_KEY_HOLDERS = ("command-api", "projector", "notifier")
# Besides them, only these operator Jobs of k8s/jobs, labelled app.kubernetes.io/component=operations,
# and only in the manifest sets that render k8s/jobs: the one-time sealing of events recorded in
# clear (k8s/README.md, "Sealing personal data recorded before V14"). Any other Job, the migration
# included, reads nothing of it.
MASTER_KEY_JOBS = ("cc-seal-personal-data",)
# The checked manifest sets that include k8s/jobs (ci/static-checks.sh renders prod-with-jobs).
WITH_JOBS = {"prod-with-jobs"}
# Left in a component or base for the overlay to fill (from cloud.env).
PLACEHOLDERS = ("set-by-the-overlay", "192.0.2.")


@dataclass
class Report:
    results: list = field(default_factory=list)

    def check(self, check: str, subject: str, ok: bool, detail: str = "") -> None:
        self.results.append((check, subject, bool(ok), detail))

    def failures(self) -> list:
        return [r for r in self.results if not r[2]]


def load(text: str) -> list[dict]:
    return [d for d in yaml.safe_load_all(text) if isinstance(d, dict)]


def render(overlay: Path) -> str:
    out = subprocess.run(["kubectl", "kustomize", str(overlay)], check=True,
                         capture_output=True, text=True)
    return out.stdout


def of_kind(docs, kind):
    return [d for d in docs if d.get("kind") == kind]


def name(doc) -> str:
    return doc.get("metadata", {}).get("name", "?")


def config(docs) -> dict:
    """The data of the ConfigMap every service reads its settings from (empty if absent)."""
    return next((c["data"] for c in of_kind(docs, "ConfigMap") if name(c) == "cloudcommerce-config"), {})


def selects(selector: dict | None, labels: dict) -> bool:
    """Kubernetes label-selector semantics (matchLabels + matchExpressions)."""
    if selector is None:
        return False
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for e in selector.get("matchExpressions") or []:
        key, op, values = e["key"], e["operator"], e.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def quantity(q) -> float:
    s = str(q)
    units = {"m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "k": 1e3, "M": 1e6, "G": 1e9}
    for u, f in sorted(units.items(), key=lambda kv: -len(kv[0])):
        if s.endswith(u):
            return float(s[: -len(u)]) * f
    return float(s)


@dataclass
class Pods:
    """Pods a manifest set will run: workload templates plus operator-made pods of the CRs."""
    kind: str
    name: str
    labels: dict
    ports: dict  # number -> name (or "")


def pod_sets(docs) -> list[Pods]:
    pods = []
    for d in of_kind(docs, "Deployment") + of_kind(docs, "Job"):
        t = d["spec"]["template"]
        ports = {p["containerPort"]: p.get("name", "") for c in t["spec"]["containers"] for p in c.get("ports", [])}
        pods.append(Pods(d["kind"], name(d), t["metadata"].get("labels", {}), ports))
    for c in of_kind(docs, "Cluster"):  # CloudNativePG instances
        pods.append(Pods("Cluster", name(c), {"cnpg.io/cluster": name(c)},
                         {5432: "postgresql", 8000: "status", 9187: "metrics"}))
    for o in of_kind(docs, "OpenTelemetryCollector"):  # OpenTelemetry Operator: <name>-collector
        pods.append(Pods("OpenTelemetryCollector", name(o),
                         {"app.kubernetes.io/name": f"{name(o)}-collector",
                          "app.kubernetes.io/component": "opentelemetry-collector"},
                         {4318: "otlp-http", 8888: "metrics"}))
    for g in of_kind(docs, "Gateway"):  # cert-manager's ACME HTTP-01 solver, while a challenge is open
        if any(a.startswith("cert-manager.io/") for a in (g["metadata"].get("annotations") or {})):
            pods.append(Pods("ACMESolver", f"{name(g)}-http01", {"acme.cert-manager.io/http01-solver": "true"}, {8089: "http"}))
    for k in of_kind(docs, "Kafka"):  # Strimzi brokers/controllers
        ports = {9090: "tcp-ctrlplane", 9091: "tcp-replication"}
        ports.update({li["port"]: li["name"] for li in k["spec"]["kafka"].get("listeners", [])})
        pods.append(Pods("Kafka", name(k), {"strimzi.io/cluster": name(k), "strimzi.io/kind": "Kafka"}, ports))
    return pods


def port_exists(port, pods: Pods) -> bool:
    return port in pods.ports or port in pods.ports.values()


def containers(template) -> list:
    spec = template["spec"]
    return spec.get("initContainers", []) + spec["containers"]


def check_workloads(r: Report, overlay: str, docs) -> None:
    images = set()
    service_accounts = {name(s): s for s in of_kind(docs, "ServiceAccount")}
    for d in of_kind(docs, "Deployment") + of_kind(docs, "Job"):
        subject = f"{overlay}/{d['kind']}/{name(d)}"
        t = d["spec"]["template"]
        spec, labels = t["spec"], t["metadata"].get("labels", {})
        psc = spec.get("securityContext", {})
        for c in containers(t):
            csc = c.get("securityContext", {})
            cs = f"{subject}/{c['name']}"
            res = c.get("resources", {})
            req, lim = res.get("requests", {}), res.get("limits", {})
            have = all(k in req and k in lim for k in ("cpu", "memory"))
            r.check("resources", cs, have and all(quantity(req[k]) <= quantity(lim[k]) for k in ("cpu", "memory")),
                    f"requests {req} limits {lim}")
            user = csc.get("runAsUser", psc.get("runAsUser"))
            seccomp = (csc.get("seccompProfile") or psc.get("seccompProfile") or {}).get("type")
            drops = (csc.get("capabilities") or {}).get("drop", [])
            r.check("security-context", cs,
                    csc.get("runAsNonRoot", psc.get("runAsNonRoot")) is True
                    and isinstance(user, int) and user > 0
                    and seccomp == "RuntimeDefault"
                    and csc.get("allowPrivilegeEscalation") is False
                    and csc.get("readOnlyRootFilesystem") is True
                    and "ALL" in drops and not (csc.get("capabilities") or {}).get("add")
                    and not csc.get("privileged"),
                    f"container securityContext {csc}, pod {psc}")
            image = c.get("image", "")
            m = re.match(r"^(?P<repo>[^@]+?)(?::(?P<tag>[\w][\w.-]*))?(?:@(?P<digest>sha256:[0-9a-f]{64}))?$", image)
            pinned = bool(m) and (m["digest"] or (m["tag"] and m["tag"] != "latest"))
            r.check("image-pinned", cs, pinned, f"image {image!r} needs a tag other than latest, or a digest")
            images.add(image)
            cmd = c.get("command") or []
            r.check("explicit-command", cs, bool(cmd) and Path(cmd[0]).name in BINARIES,
                    f"command {cmd}: one image, so each workload must name its binary")
        r.check("host-namespaces", subject,
                not any(spec.get(k) for k in ("hostNetwork", "hostPID", "hostIPC")), "")
        sa = spec.get("serviceAccountName")
        r.check("service-account", subject,
                sa in service_accounts and spec.get("automountServiceAccountToken") is False
                and service_accounts[sa].get("automountServiceAccountToken") is False,
                f"serviceAccountName {sa!r} must exist, both pod and SA with automountServiceAccountToken false")
        if d["kind"] == "Deployment":
            check_deployment(r, overlay, docs, d, subject, labels)
    r.check("one-image", overlay, len(images) == 1, f"every workload runs the same image, found {sorted(images)}")
    jobs = [j for j in of_kind(docs, "Job")
            if j["spec"]["template"]["spec"]["containers"][0].get("args") == ["migrate"]]
    r.check("migration-job", overlay,
            len(jobs) == 1 and jobs[0]["metadata"].get("labels", {}).get("app.kubernetes.io/component") == "migration"
            and Path(jobs[0]["spec"]["template"]["spec"]["containers"][0]["command"][0]).name == "command-api",
            "exactly one `command-api migrate` Job labelled app.kubernetes.io/component=migration")


def check_deployment(r: Report, overlay, docs, d, subject, labels) -> None:
    spec = d["spec"]["template"]["spec"]
    for c in spec["containers"]:
        cs = f"{subject}/{c['name']}"
        ok = True
        for probe, path in (("readinessProbe", "/health/ready"), ("livenessProbe", "/health/live"),
                            ("startupProbe", "/health/live")):
            get = (c.get(probe) or {}).get("httpGet") or {}
            port_ok = any(get.get("port") in (p["containerPort"], p.get("name")) for p in c.get("ports", []))
            ok = ok and get.get("path") == path and port_ok
        r.check("probes", cs, ok, "readiness /health/ready, liveness and startup /health/live on a declared port")
    pdbs = [p for p in of_kind(docs, "PodDisruptionBudget") if selects(p["spec"].get("selector"), labels)]
    r.check("pdb", subject, len(pdbs) == 1 and ("maxUnavailable" in pdbs[0]["spec"] or "minAvailable" in pdbs[0]["spec"]),
            f"exactly one PodDisruptionBudget must select the pods, found {[name(p) for p in pdbs]}")
    tsc = spec.get("topologySpreadConstraints", [])
    keys = {t["topologyKey"] for t in tsc if selects(t.get("labelSelector"), labels)}
    r.check("topology-spread", subject, {"topology.kubernetes.io/zone", "kubernetes.io/hostname"} <= keys,
            f"zone and hostname spread whose labelSelector matches the pods, found {sorted(keys)}")
    strategy = d["spec"].get("strategy", {})
    ru = strategy.get("rollingUpdate", {})
    r.check("rolling-update", subject,
            strategy.get("type") == "RollingUpdate" and str(ru.get("maxUnavailable")) in ("0", "0%")
            and str(ru.get("maxSurge", "0")) not in ("0", "0%"),
            f"RollingUpdate with maxUnavailable 0 and maxSurge >= 1, found {strategy}")
    drain = d["spec"]["template"]["metadata"].get("annotations", {}).get(DRAIN_ANNOTATION)
    sleeps = [((c.get("lifecycle") or {}).get("preStop") or {}).get("sleep", {}).get("seconds", 0) for c in spec["containers"]]
    grace = spec.get("terminationGracePeriodSeconds", 30)
    r.check("graceful-shutdown", subject, drain is not None and grace > int(drain) + max(sleeps),
            f"terminationGracePeriodSeconds {grace} must exceed drain {drain} + preStop sleep {max(sleeps)}")
    for c in spec["containers"]:
        if any(p.get("name") == "http" for p in c.get("ports", [])):
            pre = (c.get("lifecycle") or {}).get("preStop") or {}
            r.check("prestop-sleep", f"{subject}/{c['name']}", "sleep" in pre and "exec" not in pre,
                    "a serving container needs a native preStop sleep (the image has no shell)")
    scalers = [h for h in of_kind(docs, "HorizontalPodAutoscaler") if h["spec"]["scaleTargetRef"]["name"] == name(d)]
    scalers += [s for s in of_kind(docs, "ScaledObject") if s["spec"]["scaleTargetRef"]["name"] == name(d)]
    floor = [s["spec"].get("minReplicas", s["spec"].get("minReplicaCount", 1)) for s in scalers]
    replicas = floor[0] if len(scalers) == 1 else d["spec"].get("replicas", 1)
    owned = (len(scalers) == 1 and "replicas" not in d["spec"]) or (not scalers and "replicas" in d["spec"])
    want = MIN_REPLICAS.get(overlay, {}).get(name(d))
    r.check("replicas", subject, owned and want is not None
            and (replicas >= want if overlay in HIGHLY_AVAILABLE else replicas == want),
            f"one autoscaler XOR spec.replicas; minimum {replicas}, overlay {overlay} wants {want}")
    if pdbs and "minAvailable" in pdbs[0]["spec"]:
        r.check("pdb-allows-drain", subject, int(pdbs[0]["spec"]["minAvailable"]) < replicas,
                "minAvailable must be below the minimum replica count or nodes can never drain")


def check_services(r: Report, overlay, docs, pods) -> None:
    for s in of_kind(docs, "Service"):
        targets = [p for p in pods if p.kind == "Deployment" and selects({"matchLabels": s["spec"].get("selector", {})}, p.labels)]
        ok = bool(targets) and all(port_exists(sp.get("targetPort", sp["port"]), p) for sp in s["spec"]["ports"] for p in targets)
        r.check("service-ports", f"{overlay}/Service/{name(s)}", ok, "selects a Deployment whose pods have every targetPort")
    for m in of_kind(docs, "ServiceMonitor"):
        svcs = [s for s in of_kind(docs, "Service") if selects(m["spec"]["selector"], s["metadata"].get("labels", {}))]
        ok = bool(svcs) and all(any(p.get("name") == e["port"] for p in s["spec"]["ports"]) for s in svcs for e in m["spec"]["endpoints"])
        r.check("monitor-ports", f"{overlay}/ServiceMonitor/{name(m)}", ok, "selects Services that have the endpoint ports")
    for m in of_kind(docs, "PodMonitor"):
        sel = [p for p in pods if selects(m["spec"]["selector"], p.labels)]
        ok = bool(sel) and all(port_exists(e["port"], p) for p in sel for e in m["spec"]["podMetricsEndpoints"])
        r.check("monitor-ports", f"{overlay}/PodMonitor/{name(m)}", ok, "selects pods that have the endpoint ports")


def check_network(r: Report, overlay, docs, pods) -> None:
    pols = of_kind(docs, "NetworkPolicy")
    deny = [p for p in pols if p["spec"].get("podSelector") == {} and set(p["spec"].get("policyTypes", [])) == {"Ingress", "Egress"}
            and not p["spec"].get("ingress") and not p["spec"].get("egress")]
    r.check("netpol-default-deny", overlay, len(deny) == 1, "one policy denying all ingress and egress of every pod")
    for p in pols:
        subject = f"{overlay}/NetworkPolicy/{name(p)}"
        sel = p["spec"].get("podSelector", {})
        selected = pods if sel == {} else [x for x in pods if selects(sel, x.labels)]
        r.check("netpol-selects", subject, bool(selected), f"podSelector {sel} selects no known pod")
        for i, rule in enumerate(p["spec"].get("ingress", [])):
            for port in rule.get("ports", []):
                missing = [x.name for x in selected if not port_exists(port["port"], x)]
                r.check("netpol-ports", f"{subject}/ingress[{i}]:{port['port']}", not missing and sel != {},
                        f"allowed port not exposed by {missing or 'every pod'}")
        for i, rule in enumerate(p["spec"].get("egress", [])):
            for peer in rule.get("to", []):
                if "namespaceSelector" in peer or "ipBlock" in peer:
                    continue  # outside this manifest set
                dest = [x for x in pods if selects(peer["podSelector"], x.labels)]
                ok = bool(dest) and all(port_exists(pt["port"], x) for x in dest for pt in rule.get("ports", []))
                r.check("netpol-ports", f"{subject}/egress[{i}]", ok,
                        f"destination {peer['podSelector']} must exist and expose {[pt['port'] for pt in rule.get('ports', [])]}")
    # Invariant (ARCHITECTURE.md): query-api never talks to Kafka.
    kafka = [x for x in pods if x.kind == "Kafka"]
    # A managed Kafka is outside the cluster: there, any rule to addresses outside (ipBlock) on a
    # broker port (or on every port) would let query-api reach it.
    cm = config(docs)
    broker_ports = {int(b.rsplit(":", 1)[1]) for b in cm.get("CC_KAFKA__BOOTSTRAP_SERVERS", "").split(",") if ":" in b}
    leaks = [name(p) for p in pols for x in pods if x.name == "query-api" and selects_pod(p, x)
             for rule in p["spec"].get("egress", []) if egress_reaches(rule, kafka) or egress_leaves(rule, broker_ports)]
    r.check("query-api-no-kafka", overlay, not leaks, f"policies letting query-api reach Kafka: {leaks}")
    check_notifier_egress(r, overlay, pols, pods, broker_ports)


def check_notifier_egress(r: Report, overlay, pols, pods, broker_ports: set) -> None:
    """The notifier leaves the cluster for the SMTP relay (587/465, any address: the relay's are
    its provider's) and, where they are managed services, for PostgreSQL and Kafka at their
    network only; never on another port, nor on every port."""
    notifier = next((x for x in pods if x.kind == "Deployment" and x.name == "notifier"), None)
    r.check("notifier-egress", f"{overlay}/notifier", notifier is not None, "every overlay runs the notifier")
    if notifier is None:
        return
    smtp = False
    for p in pols:
        if not selects_pod(p, notifier):
            continue
        for i, rule in enumerate(p["spec"].get("egress", [])):
            peers = rule.get("to") or [{}]  # no `to`: every destination
            anywhere = any(not peer for peer in peers)
            if not anywhere and not any("ipBlock" in peer for peer in peers):
                continue  # pods and namespaces of this cluster: netpol-ports checks those
            ports = {pt.get("port") for pt in rule.get("ports") or []}
            ok = bool(ports) and (ports <= SMTP_PORTS or (not anywhere and ports <= {5432} | broker_ports))
            r.check("notifier-egress", f"{overlay}/NetworkPolicy/{name(p)}/egress[{i}]", ok,
                    f"out of the cluster on {sorted(ports) or 'every port'}{' to anywhere' if anywhere else ''}: "
                    f"only {sorted(SMTP_PORTS)} anywhere, PostgreSQL and Kafka at their network")
            smtp = smtp or bool(ports & SMTP_PORTS)
    r.check("notifier-egress", f"{overlay}/notifier/smtp", smtp, f"no egress to an SMTP relay on {sorted(SMTP_PORTS)}")


def selects_pod(policy, pods: Pods) -> bool:
    sel = policy["spec"].get("podSelector", {})
    return sel == {} or selects(sel, pods.labels)


def egress_reaches(rule, targets: list[Pods]) -> bool:
    """Whether an egress rule lets traffic reach any of `targets` on one of their ports."""
    ports = [pt["port"] for pt in rule.get("ports", [])]
    for t in targets:
        port_ok = not ports or any(port_exists(pt, t) for pt in ports)
        peers = rule.get("to") or [{}]  # no `to`: every destination
        for peer in peers:
            if "namespaceSelector" in peer:
                continue  # another namespace (kube-system DNS, ...)
            if (not peer or "ipBlock" in peer or selects(peer.get("podSelector"), t.labels)) and port_ok:
                return True
    return False


def egress_leaves(rule, ports: set) -> bool:
    """Whether an egress rule lets traffic out of the cluster (ipBlock, or no `to`) on one of `ports`."""
    outside = any("ipBlock" in peer for peer in rule.get("to") or [{"ipBlock": {}}])
    allowed = [pt.get("port") for pt in rule.get("ports") or []]
    return outside and (not allowed or any(pt in ports for pt in allowed))


def check_secrets(r: Report, overlay, docs) -> None:
    r.check("no-secret-objects", overlay, not of_kind(docs, "Secret"), "secrets are created out of band, never rendered")
    for d in of_kind(docs, "Deployment") + of_kind(docs, "Job"):
        for c in containers(d["spec"]["template"]):
            for e in c.get("env", []):
                v = e.get("value")
                if v is None:
                    continue
                secretish = re.search(r"(PASSWORD|SECRET|TOKEN|PRIVATE_KEY|SIGNING_KEYS|FINGERPRINT_KEY|MASTER_KEY)$",
                                      e["name"]) is not None
                inline_cred = re.search(r"://[^/:@\s]+:(?!\$\()[^@\s]+@", v) is not None
                r.check("no-inline-secrets", f"{overlay}/{name(d)}/{c['name']}/{e['name']}", not secretish and not inline_cred,
                        "secrets come from secretKeyRef; URLs interpolate $(VARS) from secrets")
    # The relay's address names its login (SES's is an access key id): both from one Secret.
    for d in of_kind(docs, "Deployment"):
        if name(d) == "notifier":
            refs = {e["name"]: ((e.get("valueFrom") or {}).get("secretKeyRef") or {}).get("name")
                    for c in containers(d["spec"]["template"]) for e in c.get("env", [])}
            smtp = {refs.get("CC_SMTP__URL"), refs.get("CC_SMTP__PASSWORD")}
            r.check("smtp-from-secret", f"{overlay}/{name(d)}", len(smtp) == 1 and None not in smtp,
                    f"CC_SMTP__URL and CC_SMTP__PASSWORD from one Secret (cc-smtp), found {refs.get('CC_SMTP__URL')!r}, "
                    f"{refs.get('CC_SMTP__PASSWORD')!r}")
    # The read side verifies tokens with public keys; a signing key there could mint an admin.
    for d in of_kind(docs, "Deployment"):
        if name(d) == "query-api":
            names = {e["name"] for c in containers(d["spec"]["template"]) for e in c.get("env", [])}
            r.check("query-api-no-signing-key", f"{overlay}/{name(d)}", "CC_AUTH__SIGNING_KEYS" not in names,
                    "query-api holds public keys (CC_AUTH__JWKS) only")
    check_master_key(r, overlay, docs)


def _secret_refs(template) -> set[str]:
    """Every Secret a pod template reads: env, envFrom and volumes."""
    refs = set()
    for c in containers(template):
        refs |= {((e.get("valueFrom") or {}).get("secretKeyRef") or {}).get("name") for e in c.get("env", [])}
        refs |= {(s.get("secretRef") or {}).get("name") for s in c.get("envFrom", [])}
    refs |= {(v.get("secret") or {}).get("secretName") for v in template["spec"].get("volumes", [])}
    return refs - {None}


def check_master_key(r: Report, overlay, docs) -> None:
    """Each holder reads the master key from a Secret, not optionally; all from the same Secret and
    key (another value would leave their personal fields unreadable); no other Deployment reads it,
    nor anything from that Secret. Jobs likewise, but for the operator Jobs of MASTER_KEY_JOBS
    where k8s/jobs is rendered: those read it as the holders do, from the same Secret and key."""
    deployments = {name(d): d for d in of_kind(docs, "Deployment")}
    sources = {}
    for holder in MASTER_KEY_HOLDERS:
        d = deployments.get(holder)
        env = [e for c in containers(d["spec"]["template"]) for e in c.get("env", []) if e["name"] == MASTER_KEY_ENV] if d else []
        ref = ((env[0].get("valueFrom") or {}).get("secretKeyRef") or {}) if len(env) == 1 else {}
        ok = d is not None and bool(ref.get("name")) and bool(ref.get("key")) and not ref.get("optional")
        r.check("personal-data-key", f"{overlay}/{holder}", ok,
                f"{MASTER_KEY_ENV} once, from a secretKeyRef that is not optional, found {env}")
        if ok:
            sources[holder] = (ref["name"], ref["key"])
    r.check("personal-data-key", overlay, len(set(sources.values())) == 1,
            f"{', '.join(MASTER_KEY_HOLDERS)} read {MASTER_KEY_ENV} from one Secret and key, found {sources}")
    secrets = {s for s, _ in sources.values()}
    for n, d in deployments.items():
        if n in MASTER_KEY_HOLDERS:
            continue
        names = {e["name"] for c in containers(d["spec"]["template"]) for e in c.get("env", [])}
        leaked = secrets & _secret_refs(d["spec"]["template"])
        r.check("personal-data-key", f"{overlay}/{n}", MASTER_KEY_ENV not in names and not leaked,
                f"only {', '.join(MASTER_KEY_HOLDERS)} hold the master key; {n} reads {sorted(leaked) or MASTER_KEY_ENV}")
    for j in of_kind(docs, "Job"):
        n, t = name(j), j["spec"]["template"]
        subject = f"{overlay}/Job/{n}"
        env = [e for c in containers(t) for e in c.get("env", []) if e["name"] == MASTER_KEY_ENV]
        operator_job = (n in MASTER_KEY_JOBS and overlay in WITH_JOBS
                        and j["metadata"].get("labels", {}).get("app.kubernetes.io/component") == "operations")
        if operator_job:
            ref = ((env[0].get("valueFrom") or {}).get("secretKeyRef") or {}) if len(env) == 1 else {}
            # The Secret through that one secretKeyRef only: no envFrom or volume of it besides.
            other = {(s.get("secretRef") or {}).get("name") for c in containers(t) for s in c.get("envFrom", [])}
            other |= {(v.get("secret") or {}).get("secretName") for v in t["spec"].get("volumes", [])}
            ok = (len(set(sources.values())) == 1 and (ref.get("name"), ref.get("key")) in sources.values()
                  and not ref.get("optional") and ref.get("name") not in other)
            r.check("personal-data-key", subject, ok,
                    f"an operator Job reads {MASTER_KEY_ENV} once, from the holders' Secret and key {sorted(set(sources.values()))}, "
                    f"not optional, nothing else of that Secret; found {env}")
            continue
        names = {e["name"] for c in containers(t) for e in c.get("env", [])}
        leaked = secrets & _secret_refs(t)
        r.check("personal-data-key", subject, MASTER_KEY_ENV not in names and not leaked,
                f"only {', '.join(MASTER_KEY_JOBS)} (k8s/jobs, component operations) of the Jobs hold the master key; "
                f"{n} reads {sorted(leaked) or MASTER_KEY_ENV}")


def check_platform(r: Report, overlay, docs) -> None:
    cm = config(docs)
    partitions = int(cm.get("CC_KAFKA__PARTITIONS", "6"))
    topics = {t["spec"].get("topicName", name(t)): t for t in of_kind(docs, "KafkaTopic")}
    # Topics on a managed Kafka are infra/<cloud>'s (check_infra.py holds them to the same rule).
    for key in ("CC_KAFKA__USER_TOPIC", "CC_KAFKA__PRODUCT_TOPIC") if PLATFORM.get(overlay, ("strimzi",))[0] == "strimzi" else ():
        t = topics.get(cm.get(key))
        r.check("kafka-topics", f"{overlay}/{key}", t is not None and t["spec"]["partitions"] == partitions
                and str(t["spec"].get("config", {}).get("retention.ms")) == "-1",
                f"{cm.get(key)} must be a KafkaTopic with {partitions} partitions and retention.ms -1")
    if PLATFORM.get(overlay, ("strimzi",))[0] == "strimzi":
        dead = cm.get("CC_NOTIFIER__DEAD_LETTER_TOPIC")
        r.check("kafka-topics", f"{overlay}/CC_NOTIFIER__DEAD_LETTER_TOPIC", dead in topics and cm.get("CC_NOTIFIER__CREATE_TOPICS") == "false",
                f"{dead} must be a KafkaTopic, and the notifier must not create topics (CC_NOTIFIER__CREATE_TOPICS false)")
    for s in of_kind(docs, "ScaledObject"):
        mx = s["spec"].get("maxReplicaCount", 100)
        r.check("keda-max-partitions", f"{overlay}/ScaledObject/{name(s)}",
                mx == partitions if overlay in HIGHLY_AVAILABLE else mx <= partitions,
                f"maxReplicaCount {mx} vs {partitions} partitions")
    kafka, postgres = PLATFORM.get(overlay, (None, None))
    r.check("platform-declared", overlay, kafka is not None, "add the overlay to PLATFORM: where its Kafka and PostgreSQL run")
    if kafka == "strimzi":
        check_strimzi(r, overlay, docs, cm, topics)
    if postgres == "cnpg" and overlay in HIGHLY_AVAILABLE:
        pg = of_kind(docs, "Cluster")[0]["spec"] if of_kind(docs, "Cluster") else {"instances": 0}
        roles = {x["name"] for x in pg.get("managed", {}).get("roles", [])}
        r.check("postgres-ha", overlay, pg["instances"] >= 3 and set(SERVICE_ROLES) <= roles
                and any(p.get("isWALArchiver") for p in pg.get("plugins", [])), f"3 instances, the roles {SERVICE_ROLES}, WAL archiving")
    # A managed service replaces the operator entirely: nothing of it may linger, and the
    # services must be pointed away from its in-cluster names.
    if kafka == "msk":
        r.check("managed-kafka", overlay, not any(of_kind(docs, k) for k in ("Kafka", "KafkaNodePool", "KafkaTopic", "KafkaUser"))
                and "cc-kafka" not in cm.get("CC_KAFKA__BOOTSTRAP_SERVERS", "cc-kafka"),
                "no Strimzi resources, and CC_KAFKA__BOOTSTRAP_SERVERS names the managed brokers")
    if postgres == "managed":
        hosts = [cm.get("DB_PRIMARY_HOST", "cc-pg-rw"), cm.get("DB_REPLICA_HOST", "cc-pg-r")]
        jobs = [j for j in of_kind(docs, "Job") if name(j) == "cc-migrate"]
        env = {e["name"] for j in jobs for c in containers(j["spec"]["template"]) for e in c.get("env", [])}
        provision = {f"CC_MIGRATE__{role.removeprefix('cc_').upper()}_PASSWORD" for role in SERVICE_ROLES}
        r.check("managed-postgres", overlay, not of_kind(docs, "Cluster") and not any(h.startswith("cc-pg") for h in hosts)
                and provision <= env, "no CNPG Cluster, DB_*_HOST name the managed server, the migration creates the roles")
    # Every connection to PostgreSQL checks the server's certificate, whoever runs it.
    r.check("db-tls", overlay, cm.get("CC_DATABASE__SSLMODE") in ("verify-full", "verify-ca") and bool(cm.get("CC_DATABASE__SSLROOTCERT")),
            f"CC_DATABASE__SSLMODE {cm.get('CC_DATABASE__SSLMODE')!r} must be verify-full (or verify-ca) with a CA")
    rules = " ".join(rule["expr"] for p in of_kind(docs, "PrometheusRule") for g in p["spec"]["groups"] for rule in g["rules"])
    missing = [m for m in ALERT_METRICS if m not in rules]
    r.check("alerts-metrics", overlay, not missing, f"alert rules miss {missing}")
    boards = [c for c in of_kind(docs, "ConfigMap") if c["metadata"].get("labels", {}).get("grafana_dashboard")]
    exprs = ""
    try:
        for b in boards:
            for v in b["data"].values():
                exprs += " ".join(t.get("expr", "") for p in json.loads(v)["panels"] for t in p.get("targets", []))
    except (ValueError, KeyError) as e:
        exprs = f"invalid dashboard JSON: {e}"
    missing = [m for m in DASHBOARD_METRICS if m not in exprs]
    r.check("dashboard-metrics", overlay, bool(boards) and not missing, f"dashboard misses {missing}")


def check_strimzi(r: Report, overlay, docs, cm, topics) -> None:
    users = {name(u): u for u in of_kind(docs, "KafkaUser")}
    group = cm.get("CC_PROJECTOR__GROUP_ID", "cloudcommerce-projector")
    acls = [(a["resource"].get("name"), a["resource"].get("patternType", "literal"))
            for a in users.get("cc-projector", {}).get("spec", {}).get("authorization", {}).get("acls", [])
            if a["resource"]["type"] == "group"]
    r.check("kafka-acls", overlay, (group, "literal") in acls and (f"{group}-rebuild-", "prefix") in acls
            and not any("query" in u for u in users), "projector groups (live + rebuild prefix); no Kafka user for query-api")
    acls = [(a["resource"]["type"], a["resource"].get("name"), a["resource"].get("patternType", "literal"), op)
            for a in users.get("cc-notifier", {}).get("spec", {}).get("authorization", {}).get("acls", [])
            for op in a.get("operations", [])]
    r.check("kafka-acls", f"{overlay}/cc-notifier", notifier_acls_ok(acls, cm, "literal", "prefix"),
            "cc-notifier: Read on the user topic, its group (prefix), Write on the dead-letter topic, nothing else")
    if overlay in HIGHLY_AVAILABLE:
        pools = of_kind(docs, "KafkaNodePool")
        kafka_cfg = of_kind(docs, "Kafka")[0]["spec"]["kafka"]["config"] if of_kind(docs, "Kafka") else {}
        r.check("kafka-ha", overlay, sum(p["spec"]["replicas"] for p in pools) >= 3 and kafka_cfg.get("min.insync.replicas") == 2
                and all(t["spec"]["replicas"] == 3 for t in topics.values()), "3 brokers, RF 3, min ISR 2")


def notifier_acls_ok(acls, cm, literal: str, prefix: str) -> bool:
    """Whether the notifier's ACLs, as (resource type in any case, name, pattern, operation), are
    exactly what it needs: read the user topic under its group, write its dead letters, Describe
    on each. `literal`/`prefix` are the pattern names of the dialect (Strimzi's, or the Kafka
    provider's on MSK: check_infra.py)."""
    user, dead = cm.get("CC_KAFKA__USER_TOPIC"), cm.get("CC_NOTIFIER__DEAD_LETTER_TOPIC")
    group = cm.get("CC_NOTIFIER__GROUP_ID", "cloudcommerce-notifier")
    allowed = {("topic", user, literal, op) for op in ("Read", "Describe")}
    allowed |= {("topic", dead, literal, op) for op in ("Write", "Describe")}
    allowed |= {("group", group, pattern, op) for pattern in (literal, prefix) for op in ("Read", "Describe")}
    granted = {(t.lower(), n, p, op) for t, n, p, op in acls}
    needed = {("topic", user, literal, "Read"), ("topic", dead, literal, "Write")}
    return needed <= granted <= allowed and any(t == "group" and op == "Read" for t, _, _, op in granted)


def run_checks(overlay: str, docs) -> Report:
    r = Report()
    pods = pod_sets(docs)
    check_api_versions(r, overlay, docs)
    check_workloads(r, overlay, docs)
    check_services(r, overlay, docs, pods)
    check_network(r, overlay, docs, pods)
    check_secrets(r, overlay, docs)
    check_platform(r, overlay, docs)
    check_routes(r, overlay, docs, required=overlay in BY_HAND)
    if overlay in BY_HAND:
        check_cloud_overlay(r, overlay, docs, BY_HAND[overlay], PLACEHOLDERS)
    return r


def main(argv: list[str]) -> int:
    rendered = {}
    if argv:
        for arg in argv:
            overlay, _, path = arg.partition("=")
            rendered[overlay] = Path(path).read_text()
    else:
        for overlay in sorted((ROOT / "k8s" / "overlays").iterdir()):
            rendered[overlay.name] = render(overlay)
    total = Report()
    for overlay, text in rendered.items():
        report = run_checks(overlay, load(text))
        total.results += report.results
        print(f"{overlay}: {len(report.results)} checks, {len(report.failures())} failed")
    sources = Report()
    check_sources(sources, ROOT / "k8s")
    total.results += sources.results
    print(f"k8s/ as written: {len(sources.results)} checks, {len(sources.failures())} failed")
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from check_manifests_selftest import CLOUD_MUTATIONS, JOBS_MUTATIONS, self_test  # noqa: E402  (needs run_checks above)

    if "prod" in rendered:
        total.results += self_test(load(rendered["prod"]), run_checks, copy.deepcopy)
    if "aws" in rendered:
        total.results += self_test(load(rendered["aws"]), run_checks, copy.deepcopy, "aws", CLOUD_MUTATIONS)
    for overlay in sorted(WITH_JOBS & rendered.keys()):
        total.results += self_test(load(rendered[overlay]), run_checks, copy.deepcopy, overlay, JOBS_MUTATIONS)
    for check, subject, ok, detail in total.failures():
        print(f"FAIL [{check}] {subject}: {detail}")
    failed = len(total.failures())
    print(f"{len(total.results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
