#!/usr/bin/env python3
"""Offline checks of the infrastructure code (infra/aws, infra/gcp, infra/azure) and of its
agreement with the cloud overlays (k8s/overlays/<cloud>).

Usage:
    check_infra.py CLOUD=RENDERED_OVERLAY.yaml ...

No provider can be downloaded here, so `tofu validate` and `plan` cannot run; what can be known
without them is checked (infra/README.md says what is and is not verified):
- every .tf file parses (python-hcl2, the parser checkov uses);
- OpenTofu/Terraform and every provider are pinned (required_version, `~>` constraints);
- the overlay gets what it needs: every key of its cloud.env is an output of the module, every
  secret its ExternalSecrets read is created (or named for the operator) by the module, and the
  workload identity the module trusts is the overlay's ServiceAccount;
- what the managed services promise, as written: PostgreSQL private, TLS-only, backed up, HA
  across zones; on AWS the MSK cluster (3 brokers, SCRAM over TLS, min ISR 2, no access without an
  ACL) and its topics and ACLs matching the overlay's topic names, partitions and consumer groups
  (the notifier's too: read the user topic, write its dead letters); a cluster that enforces
  NetworkPolicy and has workload identity; on AWS mail through SES from a DKIM-verified domain,
  by an SMTP login that may send from that domain and do nothing else, over TLS;
- the personal-data master key's secret (the one the overlay's cc-personal-data reads) is
  protected against deletion and gets no value from Terraform, so the key is never in state.
checkov's Terraform policies run beside this (ci/static-checks.sh). After the real checks, mutation
self-tests break a copy of each parsed module in known ways and pass only if a check then fails.
"""
from __future__ import annotations

import copy
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import hcl2
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "infra"))
from outputs_to_env import overlay_keys  # noqa: E402  (infra/ is not a package)

from check_manifests import config, notifier_acls_ok  # noqa: E402
CLOUDS = ("aws", "gcp", "azure")
ESO_ACCOUNT = ("cloudcommerce", "cc-external-secrets")
# The Kubernetes Secret of the personal-data master key (k8s/README.md): losing its source in the
# cloud's store makes every sealed personal field unreadable.
MASTER_KEY_SECRET = "cc-personal-data"


@dataclass
class Report:
    results: list = field(default_factory=list)

    def check(self, check: str, subject: str, ok: bool, detail: str = "") -> None:
        self.results.append((check, subject, bool(ok), detail))


@dataclass
class Module:
    """One cloud's HCL, parsed: blocks by kind, plus the raw text for literal searches."""
    cloud: str
    files: dict  # relative path -> parsed dict (or None when it did not parse)
    text: str  # the parsed files as JSON: strings and names, never comments

    def blocks(self, kind: str, under: str = "") -> list[dict]:
        found = []
        for rel, parsed in self.files.items():
            if parsed and rel.startswith(under):
                found += parsed.get(kind, [])
        return found

    def resources(self, rtype: str, kind: str = "resource") -> list[tuple[str, dict]]:
        return [(n, body) for block in self.blocks(kind) for t, named in block.items() if t == rtype
                for n, body in named.items()]

    def outputs(self, root_only: bool = True) -> set[str]:
        return {n for rel, parsed in self.files.items() if parsed and ("/" not in rel or not root_only)
                for block in parsed.get("output", []) for n in block}


def one(value):
    """python-hcl2 wraps attribute values and blocks in lists; take the first element."""
    while isinstance(value, list):
        value = value[0] if value else None
    return value


def attr(body: dict, path: str, default=None):
    """`a.b.c` through nested blocks (the first of each), unwrapped. A list attribute's first
    element only: for the single-valued settings these checks read."""
    value = body
    for key in path.split("."):
        value = one(value)
        if not isinstance(value, dict) or key not in value:
            return default
        value = value[key]
    return one(value)


def load(cloud: str) -> Module:
    base = ROOT / "infra" / cloud
    files = {}
    for path in sorted(base.rglob("*.tf")):
        rel = path.relative_to(base).as_posix()
        try:
            files[rel] = hcl2.loads(path.read_text())
        except Exception as error:  # noqa: BLE001 (any parser failure is the finding)
            files[rel] = None
            print(f"{cloud}/{rel}: does not parse: {error}")
    # Literal searches go through what the parser read, so a comment never satisfies them.
    text = json.dumps([parsed for parsed in files.values() if parsed])
    return Module(cloud, files, text)


def cloud_env(cloud: str) -> dict:
    values = {}
    for line in (ROOT / "k8s" / "overlays" / cloud / "cloud.env").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def check_module(r: Report, m: Module, overlay_docs: list[dict]) -> None:
    c = m.cloud
    for rel, parsed in m.files.items():
        r.check("hcl-parses", f"{c}/{rel}", parsed is not None)
    r.check("hcl-parses", c, bool(m.files), "the module has .tf files")
    # Each directory is a root module of its own (infra/aws/kafka beside infra/aws).
    for directory in sorted({rel.rsplit("/", 1)[0] if "/" in rel else "." for rel in m.files}):
        terraform = [t for rel, parsed in m.files.items() if parsed and (rel.rsplit("/", 1)[0] if "/" in rel else ".") == directory
                     for t in parsed.get("terraform", [])]
        providers = {n: one(v) for t in terraform for block in t.get("required_providers", []) for n, v in block.items()}
        pinned = bool(terraform) and any(attr(t, "required_version") for t in terraform) and bool(providers) and all(
            isinstance(p, dict) and str(p.get("version", "")).startswith("~>") for p in providers.values())
        r.check("providers-pinned", f"{c}/{directory}", pinned, f"required_version and `~>` on every provider, found {providers}")

    outputs = m.outputs()
    read = overlay_keys(c)
    r.check("overlay-outputs", f"{c}/cloud.env", sorted(read) == sorted(cloud_env(c)),
            f"cloud.env must hold exactly the keys the overlay's replacements read: {sorted(read)}")
    for key in read:
        r.check("overlay-outputs", f"{c}/{key}", key.lower() in outputs, f"cloud.env's {key} must be an output of infra/{c}")
    # The ExternalSecrets' keys are the module's secrets (those from cloud.env are outputs).
    from_env = set(cloud_env(c).values())
    for d in overlay_docs:
        if d.get("kind") != "ExternalSecret":
            continue
        for key in _external_keys(d):
            r.check("overlay-secrets", f"{c}/{d['metadata']['name']}/{key}",
                    key in from_env or re.search(rf"""(?:["'/]|\\"){re.escape(key)}(?:["']|\\")""", m.text) is not None,
                    f"secret {key!r} is neither created nor named by infra/{c}")
    check_master_key(r, m, overlay_docs)
    namespace, account = ESO_ACCOUNT
    subject = f"system:serviceaccount:{namespace}:{account}" if c != "gcp" else f"[{namespace}/{account}]"
    stores = [d for d in overlay_docs if d.get("kind") == "SecretStore"]
    uses = any(account in str(s["spec"]) for s in stores)
    r.check("workload-identity", c, subject in m.text and uses,
            f"infra/{c} trusts {subject} and the overlay's SecretStore authenticates as {account}")
    {"aws": check_aws, "gcp": check_gcp, "azure": check_azure}[c](r, m, overlay_docs)


def _external_keys(d: dict) -> list[str]:
    """The keys in the cloud's store an ExternalSecret reads."""
    return [x["remoteRef"]["key"] for x in d["spec"].get("data", [])] + [x["extract"]["key"] for x in d["spec"].get("dataFrom", [])]


def check_master_key(r: Report, m: Module, docs) -> None:
    """The secret holding the personal-data master key: deletion-protected, and only a container
    (the operator adds the value; a value written by Terraform would sit in state)."""
    c = m.cloud
    keys = {key for d in docs if d.get("kind") == "ExternalSecret"
            and (d["spec"].get("target") or {}).get("name", d["metadata"]["name"]) == MASTER_KEY_SECRET for key in _external_keys(d)}
    r.check("master-key-secret", c, bool(keys), f"the overlay reads {MASTER_KEY_SECRET} through an ExternalSecret")
    for key in sorted(keys):
        if c == "aws":
            found = [(n, b) for n, b in m.resources("aws_secretsmanager_secret") if attr(b, "name") == key]
            written = json.dumps([b for _, b in m.resources("aws_secretsmanager_secret_version")] + m.blocks("locals"))
            ok = len(found) == 1 and all("aws_kms_key." in str(attr(b, "kms_key_id")) and _truthy(attr(b, "lifecycle.prevent_destroy"))
                                         and f"aws_secretsmanager_secret.{n}." not in written for n, b in found)
            detail = "one aws_secretsmanager_secret under the module's KMS key, with prevent_destroy, and no secret version"
        elif c == "gcp":
            found = [(n, b) for n, b in m.resources("google_secret_manager_secret") if attr(b, "secret_id") == key]
            written = json.dumps([b for _, b in m.resources("google_secret_manager_secret_version")])
            ok = len(found) == 1 and all(_truthy(attr(b, "deletion_protection")) and f"google_secret_manager_secret.{n}." not in written
                                         for n, b in found)
            detail = "one google_secret_manager_secret with deletion_protection, and no secret version"
        else:
            vaults = m.resources("azurerm_key_vault")
            ok = bool(vaults) and all(_truthy(attr(b, "purge_protection_enabled")) for _, b in vaults) and not any(
                attr(b, "name") == key for _, b in m.resources("azurerm_key_vault_secret"))
            detail = "a vault with purge protection, and no azurerm_key_vault_secret (the operator sets it)"
        r.check("master-key-secret", f"{c}/{key}", ok, f"{key}: {detail}")


def _operations(acl: dict) -> list[str]:
    """A kafka_acl's operations: its acl_operation, or each of its for_each set's elements when
    the operation is `each.value`."""
    operation = str(attr(acl, "acl_operation"))
    if "each.value" not in operation:
        return [operation]
    return re.findall(r"""['"]([A-Za-z]+)['"]""", str(attr(acl, "for_each", "")))


def _truthy(value) -> bool:
    return value is True or str(value).lower() == "true"


def check_aws(r: Report, m: Module, docs) -> None:
    dbs = m.resources("aws_db_instance")
    r.check("database", "aws/rds", bool(dbs) and all(
        _truthy(attr(b, "multi_az")) and attr(b, "publicly_accessible") is False and _truthy(attr(b, "storage_encrypted"))
        and int(attr(b, "backup_retention_period", 0)) >= 7 and _truthy(attr(b, "deletion_protection"))
        and _truthy(attr(b, "manage_master_user_password")) for _, b in dbs),
        "RDS: Multi-AZ, private, encrypted, backups >= 7 days, deletion protection, RDS-managed admin password")
    forcing = {n for n, g in m.resources("aws_db_parameter_group")
               if any(attr(p, "name") == "rds.force_ssl" and str(attr(p, "value")) == "1" for p in g.get("parameter", []))}
    r.check("database-tls", "aws/rds", bool(dbs) and all(
        any(f"aws_db_parameter_group.{n}." in str(attr(b, "parameter_group_name")) for n in forcing) for _, b in dbs),
        "every instance uses a parameter group with rds.force_ssl = 1")
    clusters = m.resources("aws_msk_cluster")
    r.check("kafka", "aws/msk", bool(clusters) and all(
        int(attr(b, "number_of_broker_nodes", 0)) >= 3 and _truthy(attr(b, "client_authentication.sasl.scram"))
        and attr(b, "encryption_info.encryption_in_transit.client_broker") == "TLS" for _, b in clusters),
        "MSK: 3+ brokers, SASL/SCRAM, TLS between clients and brokers")
    props = " ".join(str(attr(b, "server_properties", "")) for _, b in m.resources("aws_msk_configuration"))
    wanted = ["auto.create.topics.enable=false", "default.replication.factor=3", "min.insync.replicas=2",
              "allow.everyone.if.no.acl.found=false"]
    r.check("kafka", "aws/msk-configuration", all(w in props for w in wanted), f"server_properties must hold {wanted}")
    cm = config(docs)
    partitions = int(cm.get("CC_KAFKA__PARTITIONS", "6"))
    topics = {attr(b, "name"): b for _, b in m.resources("kafka_topic")}
    for key in ("CC_KAFKA__USER_TOPIC", "CC_KAFKA__PRODUCT_TOPIC"):
        t = topics.get(cm.get(key))
        r.check("kafka-topics", f"aws/{key}", t is not None and int(attr(t, "partitions", 0)) == partitions
                and int(attr(t, "replication_factor", 0)) == 3
                and isinstance(attr(t, "config"), dict) and str(attr(t, "config").get("retention.ms")) == "-1",
                f"{cm.get(key)} must be a kafka_topic with {partitions} partitions, RF 3, retention.ms -1")
    dead = topics.get(cm.get("CC_NOTIFIER__DEAD_LETTER_TOPIC"))
    r.check("kafka-topics", "aws/CC_NOTIFIER__DEAD_LETTER_TOPIC", dead is not None and int(attr(dead, "replication_factor", 0)) == 3
            and cm.get("CC_NOTIFIER__CREATE_TOPICS") == "false",
            f"{cm.get('CC_NOTIFIER__DEAD_LETTER_TOPIC')} must be a kafka_topic with RF 3, and the notifier must not create topics")
    acls = [(attr(b, "acl_principal"), attr(b, "resource_type"), attr(b, "resource_name"), attr(b, "resource_pattern_type_filter"))
            for _, b in m.resources("kafka_acl")]
    group = cm.get("CC_PROJECTOR__GROUP_ID", "cloudcommerce-projector")
    projector = {(t, n, p) for who, t, n, p in acls if who == "User:cc-projector" and t == "Group"}
    r.check("kafka-acls", "aws", ("Group", group, "Literal") in projector and ("Group", f"{group}-rebuild-", "Prefixed") in projector
            and not any("query" in str(who) for who, *_ in acls), "projector groups (live + rebuild prefix); no ACL for query-api")
    notifier = [(attr(b, "resource_type"), attr(b, "resource_name"), attr(b, "resource_pattern_type_filter"), op)
                for _, b in m.resources("kafka_acl") if attr(b, "acl_principal") == "User:cc-notifier" for op in _operations(b)]
    r.check("kafka-acls", "aws/cc-notifier", notifier_acls_ok(notifier, cm, "Literal", "Prefixed"),
            "cc-notifier: Read on the user topic, its group (prefix), Write on the dead-letter topic, nothing else")
    check_aws_mail(r, m)
    addons = {attr(b, "addon_name"): b for _, b in m.resources("aws_eks_addon")}
    cni = str(attr(addons.get("vpc-cni", {}), "configuration_values", ""))
    r.check("cluster", "aws/eks", re.search(r"enableNetworkPolicy'?\"?\s*[:=]\s*'?\"?true", cni) is not None
            and bool(m.resources("aws_iam_openid_connect_provider")), "VPC CNI enforcing NetworkPolicy; an OIDC provider for IRSA")


def check_aws_mail(r: Report, m: Module) -> None:
    """SES: a domain identity signing with DKIM; an SMTP login that may only send, only from that
    domain; the secret the notifier reads names SES's submission port with TLS."""
    identities = m.resources("aws_sesv2_email_identity")
    r.check("mail", "aws/ses-identity", bool(identities) and all(
        attr(b, "dkim_signing_attributes") is not None for _, b in identities), "an SES domain identity with Easy DKIM")
    def actions(statement) -> set:
        value = statement.get("actions") or [[]]  # python-hcl2: [[...]] for a list attribute
        return set(value[0] if isinstance(value[0], list) else value)

    sending = [s for _, doc in m.resources("aws_iam_policy_document", "data") for s in doc.get("statement", [])
               if any(str(a).startswith("ses:") for a in actions(s))]
    r.check("mail", "aws/smtp-login", bool(sending) and all(
        actions(s) == {"ses:SendRawEmail"}
        and any(attr(c, "variable") == "ses:FromAddress" for c in s.get("condition", [])) for s in sending),
        "the SMTP user may only ses:SendRawEmail, from the mail domain's addresses (ses:FromAddress)")
    urls = " ".join(str(attr(b, "secret_string", "")) for _, b in m.resources("aws_secretsmanager_secret_version"))
    r.check("mail", "aws/smtp-secret", re.search(r"smtp://[^'\"]*:587\?tls=required|smtps://[^'\"]*:465", urls) is not None,
            "cloudcommerce/smtp names SES's submission port with TLS (smtp://...:587?tls=required or smtps://...:465)")


def check_gcp(r: Report, m: Module, docs) -> None:
    dbs = m.resources("google_sql_database_instance")
    r.check("database", "gcp/cloud-sql", bool(dbs) and all(
        attr(b, "settings.availability_type") == "REGIONAL" and attr(b, "settings.ip_configuration.ipv4_enabled") is False
        and _truthy(attr(b, "settings.backup_configuration.enabled"))
        and _truthy(attr(b, "settings.backup_configuration.point_in_time_recovery_enabled"))
        and _truthy(attr(b, "deletion_protection")) for _, b in dbs),
        "Cloud SQL: regional HA, no public IP, backups with PITR, deletion protection")
    r.check("database-tls", "gcp/cloud-sql", bool(dbs) and all(
        attr(b, "settings.ip_configuration.ssl_mode") == "ENCRYPTED_ONLY" for _, b in dbs),
        "ssl_mode ENCRYPTED_ONLY (client certificates, which the services do not present, would lock them out)")
    clusters = m.resources("google_container_cluster")
    r.check("cluster", "gcp/gke", bool(clusters) and all(
        attr(b, "datapath_provider") == "ADVANCED_DATAPATH" and attr(b, "workload_identity_config") is not None for _, b in clusters),
        "Dataplane V2 (enforces NetworkPolicy) and Workload Identity")


def check_azure(r: Report, m: Module, docs) -> None:
    dbs = m.resources("azurerm_postgresql_flexible_server")
    r.check("database", "azure/flexible-server", bool(dbs) and all(
        attr(b, "public_network_access_enabled") is False and attr(b, "delegated_subnet_id") is not None
        and attr(b, "high_availability.mode") == "ZoneRedundant" and int(attr(b, "backup_retention_days", 0)) >= 7
        for _, b in dbs), "Flexible Server: private (delegated subnet), zone-redundant HA, backups >= 7 days")
    secure = [b for _, b in m.resources("azurerm_postgresql_flexible_server_configuration")
              if attr(b, "name") == "require_secure_transport" and str(attr(b, "value")) == "on"]
    r.check("database-tls", "azure/flexible-server", bool(dbs) and all(
        any(f"azurerm_postgresql_flexible_server.{n}." in str(attr(s, "server_id")) for s in secure) for n, _ in dbs),
        "every server has require_secure_transport = on")
    clusters = m.resources("azurerm_kubernetes_cluster")
    r.check("cluster", "azure/aks", bool(clusters) and all(
        _truthy(attr(b, "oidc_issuer_enabled")) and _truthy(attr(b, "workload_identity_enabled"))
        and attr(b, "network_profile.network_policy") is not None for _, b in clusters),
        "OIDC issuer, workload identity, and a network policy engine")


def _set(m: Module, rtype: str, path: str, value) -> None:
    """Mutation helper: set `path` on every resource of `rtype`."""
    for _, body in m.resources(rtype):
        *parents, last = path.split(".")
        node = body
        for key in parents:
            node = one(node[key])
        node[last] = [value]


def _add_resource(m: Module, rtype: str, body: dict) -> None:
    """Mutation helper: one more resource of `rtype`."""
    next(p for p in m.files.values() if p and p.get("resource"))["resource"].append({rtype: {"mutation": body}})


def _named(m: Module, rtype: str, key: str, value: str) -> str:
    """Mutation helper: the name of the `rtype` resource whose `key` is `value`."""
    return next(n for n, b in m.resources(rtype) if attr(b, key) == value)


MUTATIONS = {
    "aws": [("database", lambda m: _set(m, "aws_db_instance", "multi_az", False)),
            ("database", lambda m: _set(m, "aws_db_instance", "publicly_accessible", True)),
            ("kafka", lambda m: _set(m, "aws_msk_configuration", "server_properties", "min.insync.replicas=1")),
            ("kafka-topics", lambda m: _set(m, "kafka_topic", "partitions", 12)),
            ("kafka-acls", lambda m: _set(m, "kafka_acl", "resource_pattern_type_filter", "Literal")),
            ("database-tls", lambda m: _set(m, "aws_db_instance", "parameter_group_name", "default.postgres17")),
            ("cluster", lambda m: _set(m, "aws_eks_addon", "configuration_values", '${jsonencode({"enableNetworkPolicy": "false"})}')),
            ("overlay-outputs", lambda m: [p.pop("output", None) for p in m.files.values() if p]),
            ("kafka-acls", lambda m: [_set(m, "kafka_acl", "for_each", "${toset(['Read', 'Write', 'Describe'])}")]),
            ("kafka-topics", lambda m: [p["resource"].remove(block) for p in m.files.values() if p for block in list(p.get("resource", []))
                                        if "notifier_dead_letters" in block.get("kafka_topic", {})]),
            ("mail", lambda m: [s.update(actions=[["ses:*"]]) for _, doc in m.resources("aws_iam_policy_document", "data")
                                for s in doc.get("statement", []) if "ses:SendRawEmail" in str(s.get("actions"))]),
            ("mail", lambda m: _set(m, "aws_secretsmanager_secret_version", "secret_string", "smtp://user@email-smtp:25")),
            ("overlay-secrets", lambda m: setattr(m, "text", m.text.replace("cloudcommerce/personal-data", "cloudcommerce/someone"))),
            ("master-key-secret", lambda m: _set(m, "aws_secretsmanager_secret", "lifecycle", {"prevent_destroy": [False]})),
            ("master-key-secret", lambda m: _add_resource(m, "aws_secretsmanager_secret_version", {
                "secret_id": [f"${{aws_secretsmanager_secret.{_named(m, 'aws_secretsmanager_secret', 'name', 'cloudcommerce/personal-data')}.id}}"],
                "secret_string": ["${jsonencode({'master-key': random_bytes.key.base64})}"]}))],
    "gcp": [("database", lambda m: _set(m, "google_sql_database_instance", "settings.availability_type", "ZONAL")),
            ("database-tls", lambda m: _set(m, "google_sql_database_instance", "settings.ip_configuration.ssl_mode",
                                            "ALLOW_UNENCRYPTED_AND_ENCRYPTED")),
            ("cluster", lambda m: _set(m, "google_container_cluster", "datapath_provider", "LEGACY_DATAPATH")),
            ("overlay-secrets", lambda m: setattr(m, "text", m.text.replace("cc-db-reader", "cc-db-someone"))),
            ("overlay-secrets", lambda m: setattr(m, "text", m.text.replace("cc-smtp", "cc-someone"))),
            ("overlay-secrets", lambda m: setattr(m, "text", m.text.replace("cc-personal-data", "cc-someone"))),
            ("master-key-secret", lambda m: _set(m, "google_secret_manager_secret", "deletion_protection", False)),
            ("master-key-secret", lambda m: _add_resource(m, "google_secret_manager_secret_version", {
                "secret": [f"${{google_secret_manager_secret.{_named(m, 'google_secret_manager_secret', 'secret_id', 'cc-personal-data')}.id}}"],
                "secret_data": ["${jsonencode({'master-key': random_bytes.key.base64})}"]}))],
    "azure": [("database", lambda m: _set(m, "azurerm_postgresql_flexible_server", "public_network_access_enabled", True)),
              ("database-tls", lambda m: _set(m, "azurerm_postgresql_flexible_server_configuration", "value", "off")),
              ("workload-identity", lambda m: setattr(m, "text", m.text.replace("cc-external-secrets", "someone-else"))),
              ("overlay-secrets", lambda m: setattr(m, "text", m.text.replace("cc-db-notifier", "cc-db-someone"))),
              ("overlay-secrets", lambda m: setattr(m, "text", m.text.replace("cc-personal-data", "cc-someone"))),
              ("master-key-secret", lambda m: _set(m, "azurerm_key_vault", "purge_protection_enabled", False)),
              ("master-key-secret", lambda m: _add_resource(m, "azurerm_key_vault_secret", {
                  "name": ["cc-personal-data"], "key_vault_id": ["${azurerm_key_vault.main.id}"],
                  "value": ["${jsonencode({'master-key': random_bytes.key.base64})}"]}))],
}


def self_test(r: Report, module: Module, docs) -> None:
    baseline = Report()
    check_module(baseline, module, docs)
    broken_before = {c for c, _, ok, _ in baseline.results if not ok}
    for check, mutate in MUTATIONS[module.cloud]:
        broken = copy.deepcopy(module)
        mutate(broken)
        after = Report()
        check_module(after, broken, docs)
        failed = {c for c, _, ok, _ in after.results if not ok}
        r.check("self-test", f"{module.cloud}: breaking it must fail {check}", check in failed and check not in broken_before,
                f"failed: {sorted(failed)}")


def main(argv: list[str]) -> int:
    total = Report()
    rendered = dict(arg.partition("=")[::2] for arg in argv)
    for cloud in CLOUDS:
        docs = [d for d in yaml.safe_load_all(Path(rendered[cloud]).read_text()) if isinstance(d, dict)] if cloud in rendered else []
        total.check("overlay-rendered", cloud, bool(docs), "pass CLOUD=rendered-overlay.yaml")
        module = load(cloud)
        report = Report()
        check_module(report, module, docs)
        self_test(report, module, docs)
        failed = [x for x in report.results if not x[2]]
        print(f"infra/{cloud}: {len(module.files)} files, {len(report.results)} checks, {len(failed)} failed")
        total.results += report.results
    failures = [x for x in total.results if not x[2]]
    for check, subject, _, detail in failures:
        print(f"FAIL [{check}] {subject}: {detail}")
    print(f"{len(total.results) - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
