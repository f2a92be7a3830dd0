"""Attacks on what the services expose: `Consistency-Token` as an oracle and a load amplifier,
operators' endpoints and headers on the public ports, cross-origin requests, each database role
beyond its job; and last, whether the metrics said what happened.
"""

from __future__ import annotations

import re
import time
import uuid

from harness import Finding, Target, code_of, parallel

# The suite's query-api lets at most this many requests wait for the projection at once.
MAX_WAITERS = 8
# The 2 s consistency wait, plus the second PostgreSQL's statistics may lag by.
WAIT_WINDOW_S = 3.5


def transactions(target: Target) -> int:
    """Transactions committed in the stack's database so far (PostgreSQL's statistics lag by up
    to a second; callers wait that long)."""
    return int(target.stack.pg.scalar(
        "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"))


def consistency_token_oracle(target: Target) -> Finding:
    finding = Finding("Consistency-Token naming someone else's account, a pending write, an "
                      "unknown stream", "503 whose detail named that stream's version; ~130 "
                      "database polls each")
    _, victim = target.sign_up("oracle-victim")
    _, other = target.sign_up("oracle-other")
    shapes = {}
    unknown_started = 0.0
    for name, stream in (("foreign", victim), ("other", other), ("unknown", str(uuid.uuid4()))):
        started = time.monotonic()
        answer = target.queries.call("GET", "/v1/products?limit=1",
                                     headers={"consistency-token": f"{stream}:999999"})
        if name == "unknown":
            unknown_started = time.monotonic() - started
        body = answer.json() if isinstance(answer.json(), dict) else {}
        text = re.sub(r"[0-9a-f-]{36}", "<id>", str(sorted(body.items())))
        shapes[name] = (answer.status, answer.headers.get("retry-after"), text)
    # Of other people's accounts nothing is told: the same wait and 503 as a pending write.
    finding.expect(shapes["foreign"] == shapes["other"], f"the answers differ: {shapes}")
    finding.expect(shapes["foreign"][0] == 503 and shapes["foreign"][1],
                   "not 503 with Retry-After")
    # A stream that does not exist: 412 at once, holding no waiter.
    finding.expect(shapes["unknown"][0] == 412 and unknown_started < 1.0,
                   f"an unknown stream: {shapes['unknown'][0]} after {unknown_started:.1f} s")
    finding.expect(all("999999" not in s[2] and ":1" not in s[2] for s in shapes.values()),
                   "a version shows in the answer")

    # What the stack commits anyway (the projector's freshness samples, pool checks), over as
    # long a window as the waiting requests will take.
    time.sleep(1.5)
    idle_from = transactions(target)
    time.sleep(WAIT_WINDOW_S)
    idle = transactions(target) - idle_from
    before = transactions(target)
    started = time.monotonic()
    answers = parallel(24, lambda _: target.queries.call(
        "GET", "/v1/products?limit=1", headers={"consistency-token": f"{victim}:999999"}))
    time.sleep(max(0.0, WAIT_WINDOW_S - (time.monotonic() - started)))
    busy = transactions(target) - before
    codes = [code_of(a) for a in answers]
    waited, refused = codes.count("not_yet_consistent"), codes.count("too_many_waiting")
    finding.expect(waited + refused == 24, f"other answers: {codes}")
    finding.expect(waited <= MAX_WAITERS, f"{waited} waited at once, beyond {MAX_WAITERS}")
    finding.expect(refused >= 1, "the waiter cap refused nobody")
    # Polling would be ~130 statements per waiting request; a waiter, one lookup each.
    finding.expect(busy - idle < 24 * 10, f"{busy} transactions for 24 requests, {idle} idle")
    finding.now = (f"two accounts {shapes['foreign'][:2]}, an unknown stream "
                   f"{shapes['unknown'][0]} in {unknown_started:.2f} s; 24 at once: {waited} "
                   f"waited, {refused} refused; {busy} transactions meanwhile, {idle} in as long idle")
    return finding


def operators_endpoints_and_headers(target: Target) -> Finding:
    finding = Finding("/metrics, readiness details and headers on the public ports",
                      "/metrics on command-api's API port; no nosniff")
    seen = []
    for name, public, admin in (("command-api", target.commands, target.commands_admin),
                                ("query-api", target.queries, target.queries_admin)):
        metrics = (public.call("GET", "/metrics").status, admin.call("GET", "/metrics").status)
        finding.expect(metrics == (404, 200), f"{name} /metrics public, admin: {metrics}")
        ready = public.call("GET", "/health/ready").json()
        details = admin.call("GET", "/health/ready").json()
        finding.expect(isinstance(ready, dict) and set(ready) == {"status"},
                       f"{name}'s public readiness says {ready}")
        finding.expect(isinstance(details, dict) and "checks" in details,
                       f"{name}'s admin readiness has no checks")
        seen.append(f"{name} /metrics {metrics[0]} public, {metrics[1]} admin")

    email, _ = target.sign_up("headers")
    token = target.sign_in(email)["access_token"]
    answers = {
        "a 404": target.commands.call("GET", "/v1/nowhere"),
        "a 401": target.queries.call("GET", "/v1/users/me"),
        "a catalog page": target.queries.call("GET", "/v1/products?limit=1"),
        "the caller's account": target.queries.call("GET", "/v1/users/me", token=token),
        "a sign-in": target.commands.call("POST", "/v1/sessions",
                                          {"email": email, "password": "a-long-enough-password"}),
    }
    for name, answer in answers.items():
        headers = answer.headers
        finding.expect(headers.get("x-content-type-options") == "nosniff", f"{name}: no nosniff")
        finding.expect("frame-ancestors 'none'" in headers.get("content-security-policy", ""),
                       f"{name}: no frame-ancestors 'none'")
        finding.expect("referrer-policy" in headers, f"{name}: no Referrer-Policy")
    for name in ("the caller's account", "a sign-in"):
        finding.expect("no-store" in answers[name].headers.get("cache-control", ""),
                       f"{name}: not no-store")

    preflight = target.queries.call("OPTIONS", "/v1/products", headers={
        "origin": "https://evil.example", "access-control-request-method": "GET"})
    finding.expect("access-control-allow-origin" not in preflight.headers,
                   "a stranger's origin got a CORS answer")
    finding.now = (f"{'; '.join(seen)}; readiness reasons on admin only; nosniff, "
                   f"frame-ancestors, Referrer-Policy on every answer; no CORS for strangers")
    return finding


def least_privilege(target: Target) -> Finding:
    finding = Finding("each database role beyond its job",
                      "the projector ran CREATE SCHEMA that its documented grants did not allow")
    # A mailed token's hash, as whoever holds a role's password would plant it to verify an
    # address or reset a password without the mail: no role may insert one; the notifier has
    # tokens issued by es.issue_mailed_token, for requests the store recorded.
    planted = ("INSERT INTO es.{} (token_hash, user_id, expires_at) VALUES "
               "(sha256('planted'::bytea), gen_random_uuid(), now() + interval '10 minutes')")
    refused = {
        "cc_writer": ["UPDATE es.events SET payload = payload", "DELETE FROM es.events",
                      "CREATE SCHEMA writer_owned", "SELECT 1 FROM read_meta.active",
                      planted.format("email_verification_tokens"),
                      planted.format("password_reset_tokens"),
                      "SELECT 1 FROM notifier.recipients"],
        "cc_reader": ["SELECT 1 FROM es.events", "SELECT 1 FROM es.sessions",
                      "SELECT 1 FROM es.user_credentials", "DELETE FROM read_meta.active",
                      "CREATE SCHEMA reader_owned", "SELECT 1 FROM es.password_reset_tokens",
                      "SELECT 1 FROM notifier.recipients"],
        "cc_projector": ["SELECT 1 FROM es.events", "SELECT 1 FROM es.user_credentials",
                         "CREATE TABLE es.planted (id int)", "DROP SCHEMA es CASCADE",
                         "SELECT 1 FROM es.email_verification_tokens"],
        # The notifier has the tokens it draws issued and never reads one back, nor any other
        # account data than its own copy of the addresses.
        "cc_notifier": ["SELECT 1 FROM es.events", "SELECT 1 FROM es.user_credentials",
                        planted.format("email_verification_tokens"),
                        planted.format("password_reset_tokens"),
                        "SELECT token_hash FROM es.password_reset_tokens",
                        "SELECT token_hash FROM es.email_verification_tokens",
                        "DELETE FROM es.email_verification_tokens",
                        "UPDATE es.password_reset_tokens SET expires_at = now()",
                        "CREATE SCHEMA notifier_owned", "CREATE TABLE es.planted (id int)"],
    }
    for role, statements in refused.items():
        for sql in statements:
            result = target.sql_as(role, sql)
            refusal = "permission denied" in result.stderr or "must be owner" in result.stderr
            finding.expect(result.returncode != 0 and refusal,
                           f"{role} may: {sql} ({result.returncode}: {result.stderr.strip()})")
    minted = target.sql_as("cc_notifier", "SELECT es.issue_mailed_token(gen_random_uuid(), "
                           "gen_random_uuid(), sha256('planted'::bytea))")
    finding.expect(minted.returncode != 0 and "was recorded" in minted.stderr,
                   f"the notifier had a token issued for no request: {minted.stderr.strip()}")
    own = target.sql_as("cc_projector", "CREATE SCHEMA security_probe; DROP SCHEMA security_probe")
    finding.expect(own.returncode == 0, f"the projector cannot create its schemas: {own.stderr}")
    finding.now = (f"{sum(map(len, refused.values()))} statements refused, among them a planted "
                   "token as the writer and as the notifier, and a token for no request; every service ran as its own role all along, and the "
                   "projector created its schemas")
    return finding


def metrics_tell(target: Target) -> Finding:
    """After the attacks: each defence counted on command-api's admin port."""
    finding = Finding("the metrics after the attacks", "no throttle metrics")
    text = target.commands_admin.call("GET", "/metrics").body.decode()

    def total(name: str, label: str = "") -> float:
        pattern = rf"^{name}(\{{[^}}]*{re.escape(label)}[^}}]*\}})?\s+([0-9.e+]+)$"
        return sum(float(m.group(2)) for m in re.finditer(pattern, text, re.M))

    counts = {
        "login_throttled_total": total("login_throttled_total"),
        "password_hashes_shed_total": total("password_hashes_shed_total"),
        "sessions_ended_total{refresh_token_reused}":
            total("sessions_ended_total", 'reason="refresh_token_reused"'),
        "sessions_ended_total{password_changed}":
            total("sessions_ended_total", 'reason="password_changed"'),
        "sessions_ended_total{password_reset}":
            total("sessions_ended_total", 'reason="password_reset"'),
        "password_reset_requests_total{recorded}":
            total("password_reset_requests_total", 'outcome="recorded"'),
        "password_reset_requests_total{no_account}":
            total("password_reset_requests_total", 'outcome="no_account"'),
    }
    for name, value in counts.items():
        finding.expect(value > 0, f"{name} is {value}")
    finding.now = ", ".join(f"{k} {v:g}" for k, v in counts.items())
    return finding


ATTACKS = [consistency_token_oracle, operators_endpoints_and_headers, least_privilege]
