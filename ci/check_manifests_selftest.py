"""Mutation self-tests for ci/check_manifests.py: prove that each check can fail.

Each mutation breaks a copy of the rendered prod manifests (CLOUD_MUTATIONS: of the aws overlay,
for the checks only cloud overlays meet; JOBS_MUTATIONS: of prod with k8s/jobs, for the operator
Jobs) in one known way; it passes only if the named check then reports a failure (and the
unbroken manifests passed it).
"""
from __future__ import annotations

import copy


def _find(docs, kind, name):
    return next(d for d in docs if d.get("kind") == kind and d["metadata"]["name"] == name)


def _container(docs, deployment):
    return _find(docs, "Deployment", deployment)["spec"]["template"]["spec"]["containers"][0]


def _pod(docs, deployment):
    return _find(docs, "Deployment", deployment)["spec"]["template"]["spec"]


def _drop_readiness(docs):
    del _container(docs, "command-api")["readinessProbe"]


def _liveness_wrong_path(docs):
    _container(docs, "projector")["livenessProbe"]["httpGet"]["path"] = "/healthz"


def _image_latest(docs):
    for d in docs:
        if d.get("kind") in ("Deployment", "Job"):
            for c in d["spec"]["template"]["spec"]["containers"]:
                c["image"] = c["image"].split(":")[0].split("@")[0] + ":latest"


def _image_untagged(docs):
    c = _container(docs, "query-api")
    c["image"] = c["image"].split(":")[0].split("@")[0]


def _no_limits(docs):
    del _container(docs, "query-api")["resources"]["limits"]


def _keep_capabilities(docs):
    _container(docs, "command-api")["securityContext"]["capabilities"]["drop"] = ["NET_RAW"]


def _run_as_root(docs):
    _pod(docs, "projector")["securityContext"]["runAsUser"] = 0
    _container(docs, "projector")["securityContext"]["runAsUser"] = 0


def _writable_root(docs):
    _container(docs, "query-api")["securityContext"]["readOnlyRootFilesystem"] = False


def _delete_pdb(docs):
    docs.remove(_find(docs, "PodDisruptionBudget", "query-api"))


def _pdb_wrong_selector(docs):
    _find(docs, "PodDisruptionBudget", "command-api")["spec"]["selector"]["matchLabels"] = {"app.kubernetes.io/name": "cmd-api"}


def _no_spread(docs):
    del _pod(docs, "projector")["topologySpreadConstraints"]


def _max_unavailable(docs):
    _find(docs, "Deployment", "command-api")["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] = 1


def _short_grace(docs):
    _pod(docs, "command-api")["terminationGracePeriodSeconds"] = 20


def _exec_prestop(docs):
    _container(docs, "query-api")["lifecycle"]["preStop"] = {"exec": {"command": ["sh", "-c", "sleep 5"]}}


def _netpol_wrong_port(docs):
    _find(docs, "NetworkPolicy", "projector")["spec"]["ingress"][0]["ports"][0]["port"] = 9191


def _netpol_egress_wrong_port(docs):
    _find(docs, "NetworkPolicy", "command-api")["spec"]["egress"][0]["ports"][0]["port"] = 5433


def _no_default_deny(docs):
    docs.remove(_find(docs, "NetworkPolicy", "default-deny-all"))


def _query_api_to_kafka(docs):
    egress = _find(docs, "NetworkPolicy", "query-api")["spec"]["egress"]
    egress.append({"to": [{"podSelector": {"matchLabels": {"strimzi.io/cluster": "cc-kafka"}}}],
                   "ports": [{"protocol": "TCP", "port": 9093}]})


def _literal_secret(docs):
    _container(docs, "command-api")["env"].append({"name": "CC_AUTH__SIGNING_KEYS", "value": "hunter2"})


def _signing_key_on_read_side(docs):
    _container(docs, "query-api")["env"].append(
        {"name": "CC_AUTH__SIGNING_KEYS", "valueFrom": {"secretKeyRef": {"name": "cc-auth", "key": "signing-keys"}}})


def _literal_master_key(docs):
    env = next(e for e in _container(docs, "projector")["env"] if e["name"] == "CC_PERSONAL_DATA__MASTER_KEY")
    env.pop("valueFrom")
    env["value"] = "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI="


def _master_key_on_read_side(docs):
    _container(docs, "query-api")["env"].append(
        {"name": "CC_PERSONAL_DATA__MASTER_KEY", "valueFrom": {"secretKeyRef": {"name": "cc-personal-data", "key": "master-key"}}})


def _read_side_mounts_master_key(docs):
    _container(docs, "query-api")["envFrom"].append({"secretRef": {"name": "cc-personal-data"}})


def _notifier_other_master_key(docs):
    env = next(e for e in _container(docs, "notifier")["env"] if e["name"] == "CC_PERSONAL_DATA__MASTER_KEY")
    env["valueFrom"]["secretKeyRef"]["name"] = "cc-notifier-personal-data"


def _projector_without_master_key(docs):
    c = _container(docs, "projector")
    c["env"] = [e for e in c["env"] if e["name"] != "CC_PERSONAL_DATA__MASTER_KEY"]


def _optional_master_key(docs):
    env = next(e for e in _container(docs, "command-api")["env"] if e["name"] == "CC_PERSONAL_DATA__MASTER_KEY")
    env["valueFrom"]["secretKeyRef"]["optional"] = True


def _job_container(docs, job):
    return _find(docs, "Job", job)["spec"]["template"]["spec"]["containers"][0]


_MASTER_KEY_REF = {"name": "CC_PERSONAL_DATA__MASTER_KEY",
                   "valueFrom": {"secretKeyRef": {"name": "cc-personal-data", "key": "master-key"}}}


def _migration_reads_master_key(docs):
    _job_container(docs, "cc-migrate")["env"].append(copy.deepcopy(_MASTER_KEY_REF))


def _sealing_job_outside_k8s_jobs(docs):
    # The operator Job's name and label on a Job of the overlay itself: allowed in k8s/jobs only.
    job = copy.deepcopy(_find(docs, "Job", "cc-migrate"))
    job["metadata"] = {"name": "cc-seal-personal-data", "labels": {"app.kubernetes.io/component": "operations"}}
    container = job["spec"]["template"]["spec"]["containers"][0]
    container["args"] = ["seal-personal-data", "--operator", "someone"]
    container["env"].append(copy.deepcopy(_MASTER_KEY_REF))
    docs.append(job)


def _inline_db_password(docs):
    env = _container(docs, "command-api")["env"]
    url = next(e for e in env if e["name"] == "CC_DATABASE__URL")
    url["value"] = "postgres://cc_writer:hunter2@cc-pg-rw:5432/cloudcommerce"


def _secret_object(docs):
    docs.append({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "oops"}, "stringData": {"k": "v"}})


def _prod_single_replica(docs):
    _find(docs, "HorizontalPodAutoscaler", "query-api")["spec"]["minReplicas"] = 1


def _replicas_and_hpa(docs):
    _find(docs, "Deployment", "command-api")["spec"]["replicas"] = 3


def _too_many_partitions(docs):
    _find(docs, "ScaledObject", "projector")["spec"]["maxReplicaCount"] = 12


def _topic_partitions(docs):
    _find(docs, "KafkaTopic", "cloudcommerce.user-events")["spec"]["partitions"] = 12


def _service_wrong_target(docs):
    _find(docs, "Service", "projector")["spec"]["ports"][0]["targetPort"] = "metrics"


def _no_migration_label(docs):
    del _find(docs, "Job", "cc-migrate")["metadata"]["labels"]["app.kubernetes.io/component"]


def _alert_metric_renamed(docs):
    for d in docs:
        if d.get("kind") == "PrometheusRule":
            for g in d["spec"]["groups"]:
                for rule in g["rules"]:
                    rule["expr"] = rule["expr"].replace("relay_outbox_backlog", "outbox_backlog")


def _no_automount_off(docs):
    del _pod(docs, "query-api")["automountServiceAccountToken"]


def _strimzi_v1beta2(docs):
    _find(docs, "Kafka", "cc-kafka")["apiVersion"] = "kafka.strimzi.io/v1beta2"


def _hpa_v2beta2(docs):
    _find(docs, "HorizontalPodAutoscaler", "command-api")["apiVersion"] = "autoscaling/v2beta2"



def _notifier_without_standby(docs):
    _find(docs, "Deployment", "notifier")["spec"]["replicas"] = 1


def _notifier_egress_anywhere(docs):
    _find(docs, "NetworkPolicy", "notifier")["spec"]["egress"].append({"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]})


def _notifier_smtp_on_25(docs):
    rule = next(rule for rule in _find(docs, "NetworkPolicy", "notifier")["spec"]["egress"] if "to" not in rule)
    rule["ports"] = [{"protocol": "TCP", "port": 25}]


def _smtp_url_inline(docs):
    env = _container(docs, "notifier")["env"]
    url = next(e for e in env if e["name"] == "CC_SMTP__URL")
    url.pop("valueFrom")
    url["value"] = "smtp://AKIAEXAMPLE@email-smtp.eu-west-1.amazonaws.com:587?tls=required"


def _notifier_writes_user_topic(docs):
    acls = _find(docs, "KafkaUser", "cc-notifier")["spec"]["authorization"]["acls"]
    acls[0]["operations"] = ["Read", "Describe", "Write"]


def _notifier_reads_any_group(docs):
    acls = _find(docs, "KafkaUser", "cc-notifier")["spec"]["authorization"]["acls"]
    next(a for a in acls if a["resource"]["type"] == "group")["resource"]["name"] = "cloudcommerce-"


def _no_dead_letter_topic(docs):
    docs.remove(_find(docs, "KafkaTopic", "cloudcommerce.notifier.dead-letters"))


def _no_notifier_role(docs):
    roles = _find(docs, "Cluster", "cc-pg")["spec"]["managed"]["roles"]
    roles.remove(next(r for r in roles if r["name"] == "cc_notifier"))


def _dead_letters_not_alerted(docs):
    for d in docs:
        if d.get("kind") == "PrometheusRule":
            for g in d["spec"]["groups"]:
                g["rules"] = [rule for rule in g["rules"] if "notifier_dead_letters_total" not in rule["expr"]]


MUTATIONS = [
    ("probes", _drop_readiness), ("probes", _liveness_wrong_path),
    ("image-pinned", _image_latest), ("image-pinned", _image_untagged),
    ("resources", _no_limits),
    ("security-context", _keep_capabilities), ("security-context", _run_as_root),
    ("security-context", _writable_root),
    ("pdb", _delete_pdb), ("pdb", _pdb_wrong_selector),
    ("topology-spread", _no_spread), ("rolling-update", _max_unavailable),
    ("graceful-shutdown", _short_grace), ("prestop-sleep", _exec_prestop),
    ("netpol-ports", _netpol_wrong_port), ("netpol-ports", _netpol_egress_wrong_port),
    ("netpol-default-deny", _no_default_deny), ("query-api-no-kafka", _query_api_to_kafka),
    ("no-inline-secrets", _literal_secret), ("no-inline-secrets", _inline_db_password),
    ("query-api-no-signing-key", _signing_key_on_read_side),
    ("no-inline-secrets", _literal_master_key), ("personal-data-key", _master_key_on_read_side),
    ("personal-data-key", _read_side_mounts_master_key), ("personal-data-key", _notifier_other_master_key),
    ("personal-data-key", _projector_without_master_key), ("personal-data-key", _optional_master_key),
    ("personal-data-key", _migration_reads_master_key), ("personal-data-key", _sealing_job_outside_k8s_jobs),
    ("no-secret-objects", _secret_object),
    ("replicas", _prod_single_replica), ("replicas", _replicas_and_hpa),
    ("keda-max-partitions", _too_many_partitions), ("kafka-topics", _topic_partitions),
    ("service-ports", _service_wrong_target), ("migration-job", _no_migration_label),
    ("alerts-metrics", _alert_metric_renamed), ("service-account", _no_automount_off),
    ("api-versions", _strimzi_v1beta2), ("api-versions", _hpa_v2beta2),
    ("replicas", _notifier_without_standby), ("notifier-egress", _notifier_egress_anywhere),
    ("notifier-egress", _notifier_smtp_on_25), ("smtp-from-secret", _smtp_url_inline),
    ("kafka-acls", _notifier_writes_user_topic), ("kafka-acls", _notifier_reads_any_group),
    ("kafka-topics", _no_dead_letter_topic), ("postgres-ha", _no_notifier_role),
    ("alerts-metrics", _dead_letters_not_alerted),
]


def _route_rule(docs, backend):
    route = _find(docs, "HTTPRoute", "cloudcommerce-api")
    return next(rule for rule in route["spec"]["rules"] if rule["backendRefs"][0]["name"] == backend and not rule.get("filters"))


def _writes_to_read_side(docs):
    _route_rule(docs, "command-api")["backendRefs"][0]["name"] = "query-api"


def _reads_shadowed(docs):
    # A longer prefix for every method sends GET /v1/products to command-api.
    _route_rule(docs, "command-api")["matches"].append({"path": {"type": "PathPrefix", "value": "/v1/products"}})


def _health_public(docs):
    _route_rule(docs, "query-api")["matches"].append({"path": {"type": "PathPrefix", "value": "/health"}, "method": "GET"})


def _unsectioned_health_route(docs):
    # No sectionName: attached to both listeners, plain HTTP included.
    docs.append({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": {"name": "extra"},
                 "spec": {"parentRefs": [{"name": "cloudcommerce"}], "hostnames": ["api.shop.example"],
                          "rules": [{"matches": [{"path": {"type": "PathPrefix", "value": "/health"}}],
                                     "backendRefs": [{"name": "command-api", "port": 8080}]}]}})


def _route_for_any_host(docs):
    del _find(docs, "HTTPRoute", "cloudcommerce-api")["spec"]["hostnames"]


def _no_routes(docs):
    for route in [d for d in docs if d.get("kind") == "HTTPRoute"]:
        docs.remove(route)


def _no_certificate(docs):
    del _find(docs, "Gateway", "cloudcommerce")["spec"]["listeners"][0]["tls"]["certificateRefs"]


def _plain_http_served(docs):
    route = _find(docs, "HTTPRoute", "cloudcommerce-https-redirect")
    route["spec"]["rules"] = [{"backendRefs": [{"name": "query-api", "port": 8080}]}]


def _placeholder_left(docs):
    _find(docs, "SecretStore", "cloud-secrets")["spec"]["provider"]["aws"]["region"] = "set-by-the-overlay"


def _secret_from_nowhere(docs):
    docs.remove(_find(docs, "ExternalSecret", "cc-auth"))


def _query_api_to_managed_kafka(docs):
    _find(docs, "NetworkPolicy", "query-api")["spec"]["egress"].append(
        {"to": [{"ipBlock": {"cidr": "10.40.0.0/16"}}], "ports": [{"protocol": "TCP", "port": 9096}]})


def _db_tls_unverified(docs):
    _find(docs, "ConfigMap", "cloudcommerce-config")["data"]["CC_DATABASE__SSLMODE"] = "require"


def _in_cluster_db_host(docs):
    _find(docs, "ConfigMap", "cloudcommerce-config")["data"]["DB_PRIMARY_HOST"] = "cc-pg-rw"


def _roles_not_provisioned(docs):
    env = _find(docs, "Job", "cc-migrate")["spec"]["template"]["spec"]["containers"][0]["env"]
    env.remove(next(e for e in env if e["name"] == "CC_MIGRATE__READER_PASSWORD"))



def _notifier_role_not_provisioned(docs):
    env = _find(docs, "Job", "cc-migrate")["spec"]["template"]["spec"]["containers"][0]["env"]
    env.remove(next(e for e in env if e["name"] == "CC_MIGRATE__NOTIFIER_PASSWORD"))


def _smtp_secret_from_nowhere(docs):
    docs.remove(_find(docs, "ExternalSecret", "cc-smtp"))


def _master_key_from_nowhere(docs):
    docs.remove(_find(docs, "ExternalSecret", "cc-personal-data"))


def _notifier_to_managed_kafka_anywhere(docs):
    # MSK's port, but to every address rather than the data subnets.
    _find(docs, "NetworkPolicy", "notifier")["spec"]["egress"].append({"ports": [{"protocol": "TCP", "port": 9096}]})


CLOUD_MUTATIONS = [
    ("front-door-routes", _writes_to_read_side), ("front-door-routes", _reads_shadowed),
    ("front-door-routes", _health_public), ("front-door-routes", _unsectioned_health_route),
    ("front-door-hosts", _route_for_any_host), ("front-door-routes", _no_routes),
    ("front-door-tls", _no_certificate),
    ("front-door-tls", _plain_http_served), ("cloud-values", _placeholder_left),
    ("secrets-sourced", _secret_from_nowhere), ("query-api-no-kafka", _query_api_to_managed_kafka),
    ("db-tls", _db_tls_unverified), ("managed-postgres", _in_cluster_db_host),
    ("managed-postgres", _roles_not_provisioned), ("managed-postgres", _notifier_role_not_provisioned),
    ("secrets-sourced", _smtp_secret_from_nowhere), ("notifier-egress", _notifier_to_managed_kafka_anywhere),
    ("secrets-sourced", _master_key_from_nowhere),
]


def _sealing_env(docs):
    container = _job_container(docs, "cc-seal-personal-data")
    return next(e for e in container["env"] if e["name"] == "CC_PERSONAL_DATA__MASTER_KEY")


def _republish_reads_master_key(docs):
    _job_container(docs, "cc-republish")["env"].append(copy.deepcopy(_MASTER_KEY_REF))


def _sealing_other_master_key(docs):
    _sealing_env(docs)["valueFrom"]["secretKeyRef"]["name"] = "cc-sealing-personal-data"


def _sealing_optional_master_key(docs):
    _sealing_env(docs)["valueFrom"]["secretKeyRef"]["optional"] = True


def _sealing_mounts_master_key(docs):
    pod = _find(docs, "Job", "cc-seal-personal-data")["spec"]["template"]["spec"]
    pod["volumes"].append({"name": "keys", "secret": {"secretName": "cc-personal-data"}})


def _sealing_not_an_operation(docs):
    del _find(docs, "Job", "cc-seal-personal-data")["metadata"]["labels"]["app.kubernetes.io/component"]


JOBS_MUTATIONS = [
    ("personal-data-key", _republish_reads_master_key), ("personal-data-key", _sealing_other_master_key),
    ("personal-data-key", _sealing_optional_master_key), ("personal-data-key", _sealing_mounts_master_key),
    ("personal-data-key", _sealing_not_an_operation),
]


def self_test(docs, run_checks, deepcopy, overlay="prod", mutations=MUTATIONS) -> list:
    """One result per mutation: passed when the expected check fails on the broken copy."""
    results = []
    baseline = {c for c, _, ok, _ in run_checks(overlay, docs).results if not ok}
    for check, mutate in mutations:
        broken = deepcopy(docs)
        mutate(broken)
        failed = {c for c, _, ok, _ in run_checks(overlay, broken).results if not ok}
        caught = check in failed and check not in baseline
        results.append(("self-test", f"{mutate.__name__.lstrip('_')} -> {check}", caught,
                        f"breaking the manifests this way must fail check {check!r}; failed: {sorted(failed)}"))
    return results
