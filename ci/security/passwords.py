"""Attacks on passwords: parallel guessing, guessing spread over networks (and the lock-out of a
known account that came with it), one network trying many accounts, sign-up floods, and what
the idempotency store keeps of a body with a password in it.

The suite's limits (run.py) are the defaults scaled down so each attack takes seconds: 5 attempts
per account and network, 20 per account from strange networks, 30 per network, 10 sign-ups per
network, 2 hashes waiting per core for at most 500 ms. Guesses that pass the budgets are sent 6 at
a time (2 hashing, 4 waiting), sign-ups 3 at a time (new passwords get half of the waiting
places), so that the hash queue's shedding (the flood's subject) does not blur the budgets' counts.
"""

from __future__ import annotations

import hashlib
import json
import time

from harness import PASSWORD, Finding, Target, code_of, parallel, tally

WRONG = "not-the-password-at-all"


def parallel_guessing(target: Target) -> Finding:
    finding = Finding("50 parallel wrong passwords, one account, one network",
                      "50 x 401, not one 429")
    email, _ = target.sign_up("guessed")
    answers = parallel(50, lambda _: target.commands.call(
        "POST", "/v1/sessions", {"email": email, "password": WRONG}, network="198.51.100.7"))
    counts = tally(answers)
    finding.now = f"{counts}"
    finding.expect(counts == {401: 5, 429: 45}, "not exactly the budget of 5 answered 401")
    finding.expect(all("retry-after" in a.headers for a in answers if a.status == 429),
                   "a 429 without Retry-After")
    return finding


def spread_guessing(target: Target) -> Finding:
    finding = Finding("30 networks guess one account; its owner signs in meanwhile",
                      "never throttled across networks; a per-address limit locked the owner out")
    email, _ = target.sign_up("spread", network="192.0.2.20")
    target.sign_in(email, network="192.0.2.20")  # the owner's own network, trusted from now on
    answers = parallel(30, lambda i: target.commands.call(
        "POST", "/v1/sessions", {"email": email, "password": WRONG}, network=f"10.{i}.0.1"),
        threads=6)
    counts = tally(answers)
    owner = target.commands.call("POST", "/v1/sessions", {"email": email, "password": PASSWORD},
                                 network="192.0.2.20")
    stranger = target.commands.call("POST", "/v1/sessions",
                                    {"email": email, "password": PASSWORD}, network="10.99.0.1")
    finding.now = f"guesses {counts}; owner's network {owner.status}; a new network {stranger.status}"
    # 20 attempts from networks the account had not signed in from: the owner's first sign-in
    # (before its network was trusted) and 19 guesses.
    finding.expect(counts == {401: 19, 429: 11}, "the per-account budget of 20 did not hold")
    finding.expect(owner.status == 200, "the owner was locked out")
    finding.expect(stranger.status == 429, "a new network was not held to the account's budget")
    return finding


def one_network_many_accounts(target: Target) -> Finding:
    finding = Finding("one network tries 40 accounts", "never throttled (the key was the address)")
    answers = parallel(40, lambda i: target.commands.call(
        "POST", "/v1/sessions", {"email": f"nobody-{i}@security.cloudcommerce.dev",
                                 "password": WRONG}, network="198.51.100.99"), threads=6)
    counts = tally(answers)
    finding.now = f"{counts}"
    finding.expect(counts == {401: 30, 429: 10}, "the per-network budget of 30 did not hold")
    return finding


def sign_ups_from_one_network(target: Target) -> Finding:
    finding = Finding("15 sign-ups from one network", "no limit")
    answers = parallel(15, lambda i: target.commands.call("POST", "/v1/users", {
        "email": f"many-{i}-{time.time_ns()}@security.cloudcommerce.dev", "password": PASSWORD,
        "display_name": "Many"}, network="198.51.100.150"), threads=3)
    counts = tally(answers)
    finding.now = f"{counts}"
    finding.expect(counts == {201: 10, 429: 5}, "the sign-up budget of 10 per network did not hold")
    return finding


def sign_up_flood(target: Target) -> Finding:
    finding = Finding("120 sign-ups from 120 networks, 24 at a time, and one sign-in meanwhile",
                      "queued without bound behind one argon2 hash per core")
    email, _ = target.sign_up("bystander", network="192.0.2.30")
    target.sign_in(email, network="192.0.2.30")
    flood_started = time.monotonic()
    sign_in: dict = {}

    def request(i: int):
        if i == 60:  # mid-flood
            started = time.monotonic()
            answer = target.commands.call("POST", "/v1/sessions",
                                          {"email": email, "password": PASSWORD},
                                          network="192.0.2.30")
            sign_in.update(status=answer.status, seconds=time.monotonic() - started)
        return target.commands.call("POST", "/v1/users", {
            "email": f"flood-{i}-{time.time_ns()}@security.cloudcommerce.dev",
            "password": PASSWORD, "display_name": "Flood"}, network=f"172.16.{i}.1")

    answers = parallel(120, request, threads=24)
    counts = tally(answers)
    shed = [a for a in answers if a.status == 503]
    finding.now = (f"{counts} in {time.monotonic() - flood_started:.1f} s; the sign-in: "
                   f"{sign_in.get('status')} after {sign_in.get('seconds', 0):.2f} s")
    finding.expect(set(counts) <= {201, 503}, "an answer other than 201 or 503")
    finding.expect(bool(shed), "nothing was shed: the queue bound did not act")
    finding.expect(all("retry-after" in a.headers and code_of(a) == "auth_busy" for a in shed),
                   "a shed sign-up without Retry-After or code auth_busy")
    # New passwords may take half of the waiting places: the sign-in has the other half.
    finding.expect(sign_in.get("status") == 200, "the sign-in of an existing user failed")
    return finding


def fingerprint_at_rest(target: Target) -> Finding:
    finding = Finding("what the idempotency store keeps of a sign-up body",
                      "an unsalted SHA-256 of the body with its plaintext password, for 24 h")
    password = f"fingerprint-password-{time.time_ns()}"
    body = {"email": f"fp-{time.time_ns()}@security.cloudcommerce.dev", "password": password,
            "display_name": "Fp"}
    key = f"security-fp-{time.time_ns()}"
    answer = target.commands.call("POST", "/v1/users", body, headers={"idempotency-key": key},
                                  network="192.0.2.40")
    finding.expect(answer.status == 201, f"sign-up answered {answer.status}")
    rows = target.stack.pg.psql(
        "SELECT encode(request_hash, 'hex'), encode(body, 'escape'), headers::text "
        f"FROM es.idempotency_keys WHERE key = '{key}'")
    finding.expect(len(rows) == 1, f"{len(rows)} records for the key")
    if rows:
        stored, response, headers = rows[0]
        sent = json.dumps(body).encode()
        plain = {hashlib.sha256(sent).hexdigest(), hashlib.sha256(password.encode()).hexdigest()}
        finding.expect(stored not in plain, "the fingerprint is a plain SHA-256")
        finding.expect(password not in response + headers, "the password is stored")
        finding.now = f"HMAC-SHA256 under a server key ({stored[:12]}...), no plain digest"
    return finding


ATTACKS = [parallel_guessing, spread_guessing, one_network_many_accounts,
           sign_ups_from_one_network, sign_up_flood, fingerprint_at_rest]
