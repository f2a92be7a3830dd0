"""The front door, checked against the API documents: every operation in openapi/*.json, sent to
the one public host, reaches the service that documents it, at the path it documents.

k8s/components/gateway routes by method and path on one host. A route added, removed or
reordered there, or an operation added to a service, could send a request to the wrong service
(a write to the read side answers 404 or 405, quietly). This evaluates the rendered HTTPRoutes as
Gateway API does (the most specific match wins: Exact before PathPrefix, then the longest prefix,
then a method match, then the most header matches; ties between routes, which these routes do
not have, are left in document order) for every documented (method, path), and applies the
matched rule's URLRewrite. `/health/*` must not be public at all, every route must answer for
the Gateway's one host, and plain HTTP may only redirect.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVICES = ("command-api", "query-api")
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
# Both services serve these; on the one host query-api keeps them and command-api's move under
# this prefix (k8s/components/gateway/routes.yaml).
MOVED_PREFIX = "/command-api"
SAMPLE_ID = "00000000-0000-4000-8000-000000000001"


def documented_operations() -> list[tuple[str, str, str]]:
    """(service, METHOD, concrete path) of every operation, path parameters filled in."""
    ops = []
    for service in SERVICES:
        document = json.loads((ROOT / "openapi" / f"{service}.json").read_text())
        for path, item in document["paths"].items():
            for method in item:
                if method in METHODS:
                    ops.append((service, method.upper(), re.sub(r"\{[^}]+\}", SAMPLE_ID, path)))
    return ops


def _prefix_matches(prefix: str, path: str) -> bool:
    prefix = prefix.rstrip("/") or "/"
    return prefix == "/" or path == prefix or path.startswith(prefix + "/")


def _candidates(routes, method: str, path: str):
    for route in routes:
        for index, rule in enumerate(route["spec"].get("rules", [])):
            for match in rule.get("matches") or [{"path": {"type": "PathPrefix", "value": "/"}}]:
                p = match.get("path") or {"type": "PathPrefix", "value": "/"}
                kind, value = p.get("type", "PathPrefix"), p.get("value", "/")
                if kind == "Exact":
                    hit = path == value
                elif kind == "PathPrefix":
                    hit = _prefix_matches(value, path)
                else:  # RegularExpression: implementation-specific, so not used on the front door
                    hit = False
                if hit and match.get("method", method) == method and not match.get("headers") and not match.get("queryParams"):
                    # Gateway API precedence: Exact, longest prefix, method, then header count.
                    key = (kind == "Exact", len(value.rstrip("/")), "method" in match)
                    yield key, route, index, rule, (kind, value)


def route(routes, method: str, path: str):
    """(service, port, path as the service receives it) of the winning rule, or None."""
    found = sorted(_candidates(routes, method, path), key=lambda c: c[0], reverse=True)
    if not found:
        return None
    _, _, _, rule, (kind, value) = found[0]
    backends = rule.get("backendRefs") or []
    if len(backends) != 1:
        return ("<redirect or split>", None, path)
    forwarded = path
    for f in rule.get("filters") or []:
        rewrite = (f.get("urlRewrite") or {}).get("path") if f.get("type") == "URLRewrite" else None
        if rewrite and rewrite.get("type") == "ReplaceFullPath":
            forwarded = rewrite["replaceFullPath"]
        elif rewrite and rewrite.get("type") == "ReplacePrefixMatch" and kind == "PathPrefix":
            rest = path[len(value.rstrip("/")):]
            forwarded = (rewrite["replacePrefixMatch"].rstrip("/") + rest) or "/"
    return (backends[0]["name"], backends[0].get("port"), forwarded)


def _attached(route, gateway: str, listener: str) -> bool:
    """Whether a route attaches to that listener (a parentRef without sectionName: to all)."""
    return any(p.get("name") == gateway and p.get("sectionName", listener) == listener
               for p in route["spec"].get("parentRefs", []))


def check_routes(r, overlay: str, docs, required: bool) -> None:
    routes = [d for d in docs if d.get("kind") == "HTTPRoute"]
    gateways = [d for d in docs if d.get("kind") == "Gateway"]
    if not required and not routes and not gateways:
        return  # an overlay without the front door (dev, prod: an ingress of the operator's choice)
    r.check("front-door-routes", overlay, len(gateways) == 1 and bool(routes), "one Gateway and its HTTPRoutes")
    if len(gateways) != 1:
        return
    gateway = gateways[0]["metadata"]["name"]
    https_routes = [x for x in routes if _attached(x, gateway, "https")]
    # Every route answers for exactly the Gateway's host: a route for another host, or for every
    # host, is a second front door nobody checked.
    hosts = {li.get("hostname") for li in gateways[0]["spec"].get("listeners", [])}
    for x in routes:
        r.check("front-door-hosts", f"{overlay}/HTTPRoute/{x['metadata']['name']}",
                len(hosts) == 1 and x["spec"].get("hostnames") == list(hosts) and all(
                    p.get("name") == gateway for p in x["spec"].get("parentRefs", [])),
                f"hostnames {x['spec'].get('hostnames')} and parents must be the Gateway {gateway!r} and its host {hosts}")
    services = {d["metadata"]["name"]: {p["port"] for p in d["spec"]["ports"]} for d in docs if d.get("kind") == "Service"}
    operations = documented_operations()
    both = {(m, p) for s, m, p in operations if s == "command-api"} & {(m, p) for s, m, p in operations if s == "query-api"}
    requests = []
    for service, method, path in operations:
        if path.startswith("/health/"):
            requests.append((None, method, path, None))
            continue
        public = MOVED_PREFIX + path if (method, path) in both and service == "command-api" else path
        requests.append((service, method, public, path))
        if path == "/docs":  # the page's assets, loaded relative to it
            requests.append((service, "GET", public + "/swagger-ui.0123456789ab.css", "/docs/swagger-ui.0123456789ab.css"))
    for service, method, public, path in requests:
        got = route(https_routes, method, public)
        if service is None:
            r.check("front-door-routes", f"{overlay}/{method} {public}", got is None, f"must not be public, routed to {got}")
            continue
        ok = got is not None and got[0] == service and got[2] == path and got[1] in services.get(service, set())
        r.check("front-door-routes", f"{overlay}/{method} {public}", ok,
                f"documented by {service} as {path}; the routes send it to {got}")
    # HTTPS with a certificate cert-manager issues, and plain HTTP only redirects there.
    for g in gateways:
        listeners = {li["name"]: li for li in g["spec"].get("listeners", [])}
        https = listeners.get("https", {})
        r.check("front-door-tls", f"{overlay}/Gateway/{g['metadata']['name']}",
                https.get("protocol") == "HTTPS" and bool((https.get("tls") or {}).get("certificateRefs"))
                and any(k.startswith("cert-manager.io/") for k in (g["metadata"].get("annotations") or {})),
                "an HTTPS listener with certificateRefs, issued by cert-manager (annotation)")
    plain = [x for x in routes if _attached(x, gateway, "http")]
    r.check("front-door-tls", f"{overlay}/http", bool(plain) and all(
        not rule.get("backendRefs") and any(f.get("type") == "RequestRedirect" and f["requestRedirect"].get("scheme") == "https"
                                            for f in rule.get("filters", []))
        for x in plain for rule in x["spec"]["rules"]), "plain HTTP only redirects to HTTPS")
