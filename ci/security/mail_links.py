"""Attacks on what the notifier mails: asking for password resets to learn which addresses have
an account (by status, body, headers and time), a reset link used twice or after a newer one, a
session that outlives a reset, one account's verification link posted for another, a flood of
verification mails, and rights for an address nobody proved.

Each token is taken from the suite's SMTP sink, as its owner would take it from their mail.
"""

from __future__ import annotations

import random
import statistics
import time
import uuid

import forge
# The fault suite's mail.py, on the path harness.py adds.
from harness import PASSWORD, Finding, Target, code_of, home_network, mail, parallel, tally
from sessions import alive_on_both, ended_on_both

# Reset requests answered for addresses with and without an account, one request per address
# (each address may ask 3 times a window): the time comparison's samples on each side.
RESET_SAMPLES = 32
# Requests for one address of each kind, past that budget: the statuses must match too.
RESET_REPEATS = 6
# The least the medians of the two sides may differ by, however cheap an append: see
# `timing_verdict`.
TIMING_FLOOR_S = 0.0015
# Of the calibration: how many renames (one event appended while the caller waits).
APPEND_SAMPLES = 12
VERIFICATION_FLOOD = 20
NEW_PASSWORD = "a-password-set-by-mail"


def shape(answer) -> tuple:
    """What an answer shows besides its timing: status, header names, and the body (a refusal's
    code alone: its detail may name the seconds to wait, which differ from one to the next)."""
    body = answer.body if answer.status < 400 else code_of(answer)
    return answer.status, body, tuple(sorted(answer.headers))


def timed(call) -> tuple[object, float]:
    started = time.perf_counter()
    answer = call()
    return answer, time.perf_counter() - started


def append_cost(target: Target) -> float:
    """The median time of a request that appends one event while the caller waits (a rename):
    what a reset request for a real account would take longer if it recorded the request before
    answering."""
    email, user_id = target.sign_up("calibration")
    token = target.sign_in(email)["access_token"]
    renames = [timed(lambda n=n: target.commands.call(
        "PATCH", f"/v1/users/{user_id}", {"display_name": f"Calibration {n}"}, token=token))[1]
        for n in range(APPEND_SAMPLES)]
    cheap = [timed(lambda: target.commands.call("GET", "/v1/nowhere"))[1]
             for _ in range(APPEND_SAMPLES)]
    return statistics.median(renames) - statistics.median(cheap)


def timing_verdict(known: list[float], unknown: list[float], append_s: float) -> tuple[bool, str]:
    """Whether the two sides' medians differ by less than an inline append would make them.

    The leak to rule out is work done before the answer only when the address has an account:
    finding it and appending `user.password_reset_requested` (its cost measured in this run,
    `append_s`: 2.1-7.7 ms over 16 runs here), or worse, a hash or an SMTP round trip. The bound
    is half of that append, so such an implementation fails, and it scales with the machine's
    speed since both are measured together. Its floor, TIMING_FLOOR_S, is above the scheduling
    noise: in those runs the medians of the two sides, doing the same work, differed by 0.0-1.2
    ms (1.2 when the machine was busiest, with a bound of 3.8). A fixed bound such as 20 ms or 25%
    would pass an inline append that costs 3 ms. Medians, not means: one request held up by the
    machine (the notifier mailing, a hash elsewhere) moves a mean."""
    known_median, unknown_median = statistics.median(known), statistics.median(unknown)
    bound = max(TIMING_FLOOR_S, append_s / 2)
    difference = abs(known_median - unknown_median)
    return difference <= bound, (f"medians {known_median * 1000:.1f} ms (account) vs "
                                 f"{unknown_median * 1000:.1f} ms (none), difference "
                                 f"{difference * 1000:.1f} ms, bound {bound * 1000:.1f} ms "
                                 f"(an inline append costs {append_s * 1000:.1f} ms)")


def reset_enumeration(target: Target) -> Finding:
    finding = Finding("password-reset requests tell whether an address has an account",
                      "no password reset: a forgotten password was a lost account")
    run = uuid.uuid4().hex[:6]
    known = [target.sign_up(f"reset-known-{n}")[0] for n in range(RESET_SAMPLES + 1)]
    unknown = [f"reset-nobody-{run}-{n}@security.cloudcommerce.dev"
               for n in range(RESET_SAMPLES + 1)]
    repeated_account, _ = target.sign_up("reset-repeated")
    append_s = append_cost(target)

    def ask(email: str, network: str):
        return timed(lambda: target.commands.call("POST", "/v1/password-resets",
                                                  {"email": email}, network=network))

    # One warm-up each (connections, caches), then pairs in random order, one at a time: the
    # background work a request for an account leaves behind falls on either side alike.
    ask(known.pop(), "10.203.0.1")
    ask(unknown.pop(), "10.203.0.2")
    seen = {"account": [], "none": []}
    for n, pair in enumerate(zip(known, unknown)):
        sides = [("account", pair[0], f"10.201.{n}.1"), ("none", pair[1], f"10.202.{n}.1")]
        random.shuffle(sides)
        for side, email, network in sides:
            seen[side].append(ask(email, network))
    shapes = {side: {shape(a) for a, _ in answers} for side, answers in seen.items()}
    finding.expect(shapes["account"] == shapes["none"] and len(shapes["account"]) == 1,
                   f"the answers differ: {shapes}")
    finding.expect({a.status for a, _ in seen["account"]} == {202}, "a request was not 202")
    timing_ok, timing = timing_verdict([t for _, t in seen["account"]],
                                       [t for _, t in seen["none"]], append_s)
    finding.expect(timing_ok, f"the time to answer tells: {timing}")

    # Many requests for one address of each kind, past the per-address budget, each from a
    # network of its own (the per-network budget is not the subject here).
    nobody = f"reset-nobody-{run}-repeated@security.cloudcommerce.dev"
    repeated: dict[str, list] = {"account": [], "none": []}
    since = time.time()
    for n in range(RESET_REPEATS):
        for host, (side, email) in enumerate((("account", repeated_account), ("none", nobody))):
            repeated[side].append(target.commands.call(
                "POST", "/v1/password-resets", {"email": email}, network=f"10.204.{n}.{host + 1}"))
    statuses = {side: [a.status for a in answers] for side, answers in repeated.items()}
    bodies = {side: {shape(a) for a in answers} for side, answers in repeated.items()}
    finding.expect(statuses["account"] == statuses["none"],
                   f"repeated requests differ: {statuses}")
    finding.expect(bodies["account"] == bodies["none"], "repeated requests' answers differ")
    finding.expect(429 in statuses["account"], f"no budget per address: {statuses['account']}")
    finding.expect(all("retry-after" in a.headers for answers in repeated.values()
                       for a in answers if a.status == 429), "a 429 without Retry-After")
    # The account's mailbox: one mail per accepted request at most (the notifier may skip a
    # request that a newer token overtook), none for a refused one.
    accepted = statuses["account"].count(202)
    arrived = mail.arrived(target.mail_dir, repeated_account, mail.RESET_SUBJECT, after=since)
    time.sleep(2)  # any mail beyond the accepted ones would be on its way by now
    mailed = mail.count(target.mail_dir, repeated_account, mail.RESET_SUBJECT, after=since)
    finding.expect(arrived and 1 <= mailed <= accepted,
                   f"{mailed} reset mails for {accepted} accepted requests")
    finding.now = (f"{RESET_SAMPLES} addresses each side: {tally([a for a, _ in seen['account']])}"
                   f" and {tally([a for a, _ in seen['none']])}, the same body and headers; "
                   f"{timing}; {RESET_REPEATS} repeats each: {statuses['account']} for both; "
                   f"{mailed} reset mails reached the account")
    return finding


def reset_link_replayed(target: Target) -> Finding:
    finding = Finding("a reset link used twice, an older link after a newer one, sessions after "
                      "a reset", "no password reset")
    email, user_id = target.sign_up("reset-victim")
    phone = target.sign_in(email)
    tokens = []
    for n in range(2):
        since = time.time()
        asked = target.commands.call("POST", "/v1/password-resets", {"email": email},
                                     network=home_network(email))
        finding.expect(asked.status == 202, f"reset request {n + 1} answered {asked.status}")
        tokens.append(mail.token(target.mail_dir, email, mail.RESET_SUBJECT, after=since))
    older, newer = tokens
    finding.expect(older != newer, "two reset mails carried the same token")
    reset = target.commands.call("POST", f"/v1/password-resets/{newer}",
                                 {"password": NEW_PASSWORD})
    again = target.commands.call("POST", f"/v1/password-resets/{newer}",
                                 {"password": "yet-another-password-here"})
    stale = target.commands.call("POST", f"/v1/password-resets/{older}",
                                 {"password": "yet-another-password-here"})
    made_up = target.commands.call("POST", f"/v1/password-resets/{'A' * 43}",
                                   {"password": "yet-another-password-here"})
    finding.expect(reset.status == 200, f"the reset answered {reset.status}")
    for name, answer in (("the same link again", again), ("the older link", stale),
                         ("a made-up token", made_up)):
        finding.expect((answer.status, code_of(answer)) == (410, "token_invalid"),
                       f"{name}: {answer.status} {code_of(answer)}")
    after = alive_on_both(target, user_id, phone["access_token"])
    ended_on_both(finding, after, "a token from before the reset")
    refresh = target.refresh(phone["refresh_token"])
    finding.expect(refresh.status == 401, f"a refresh token from before answered {refresh.status}")
    old_password = target.commands.call("POST", "/v1/sessions",
                                        {"email": email, "password": PASSWORD},
                                        network=home_network(email))
    finding.expect(old_password.status == 401, f"the old password answered {old_password.status}")
    target.sign_in(email, NEW_PASSWORD)
    notice = mail.arrived(target.mail_dir, email, mail.CHANGED_SUBJECT)
    finding.expect(notice, f"no {mail.CHANGED_SUBJECT!r} mail")
    finding.now = (f"reset {reset.status}; again {again.status}, older link {stale.status}, "
                   f"made-up {made_up.status}; earlier tokens {after}, refresh {refresh.status}, "
                   f"old password {old_password.status}; notice {'sent' if notice else 'missing'}")
    return finding


def verification_link_of_another(target: Target) -> Finding:
    finding = Finding("one account's verification link posted for another",
                      "no verification: any address could be made a seller")
    email_a, user_a = target.sign_up("verify-a")
    _, user_b = target.sign_up("verify-b")
    token_a = mail.verification_token(target.mail_dir, email_a, user_a)
    path = "/v1/users/{}/email-verification"
    crossed = target.commands.call("POST", path.format(user_b), {"token": token_a})
    made_up = target.commands.call("POST", path.format(user_b), {"token": "B" * 43})
    admin = target.admin_token()
    promote_b = target.commands.call("PUT", f"/v1/users/{user_b}/role", {"role": "seller"},
                                     token=admin)
    own = target.commands.call("POST", path.format(user_a), {"token": token_a})
    reused = target.commands.call("POST", path.format(user_a), {"token": token_a})
    for name, answer in (("A's token for B", crossed), ("a made-up token", made_up),
                         ("A's token used again", reused)):
        finding.expect((answer.status, code_of(answer)) == (410, "token_invalid"),
                       f"{name}: {answer.status} {code_of(answer)}")
    finding.expect((promote_b.status, code_of(promote_b)) == (409, "email_not_verified"),
                   f"B was promoted after the crossed link: {promote_b.status}")
    finding.expect(own.status == 200, f"A's own link answered {own.status}")
    finding.now = (f"A's link for B {crossed.status}, made-up {made_up.status}; B's promotion "
                   f"{promote_b.status} {code_of(promote_b)}; A's link for A {own.status}, "
                   f"again {reused.status}")
    return finding


def verification_mail_flood(target: Target) -> Finding:
    finding = Finding(f"{VERIFICATION_FLOOD} parallel requests for another verification mail; a "
                      "stranger's requests first", "no such request")
    email, user_id = target.sign_up("flooded")
    stranger_email, _ = target.sign_up("stranger")
    stranger = target.sign_in(stranger_email)["access_token"]
    token = target.sign_in(email)["access_token"]
    path = f"/v1/users/{user_id}/email-verification-requests"
    # The registration's own mail first, so that the count below starts from it.
    mail.verification_token(target.mail_dir, email, user_id)
    strangers = [target.commands.call("POST", path, token=stranger) for _ in range(5)]
    finding.expect({a.status for a in strangers} == {403},
                   f"a stranger's requests: {tally(strangers)}")
    since = time.time()
    answers = parallel(VERIFICATION_FLOOD, lambda _: target.commands.call("POST", path,
                                                                          token=token))
    counts = tally(answers)
    accepted = counts.get(202, 0)
    finding.expect(set(counts) <= {202, 429}, f"answers other than 202 and 429: {counts}")
    finding.expect(accepted == 1, f"{accepted} accepted at once (one a minute)")
    finding.expect(all("retry-after" in a.headers for a in answers if a.status == 429),
                   "a 429 without Retry-After")
    if accepted:
        mail.arrived(target.mail_dir, email, mail.VERIFY_SUBJECT, after=since)
    time.sleep(2)  # any mail beyond the accepted ones would be on its way by now
    mailed = mail.count(target.mail_dir, email, mail.VERIFY_SUBJECT, after=since)
    finding.expect(mailed == accepted, f"{mailed} mails for {accepted} accepted requests")
    retry = next((a.headers["retry-after"] for a in answers if a.status == 429), "-")
    finding.now = (f"stranger {tally(strangers)}; {counts} (Retry-After {retry} s); "
                   f"{mailed} new mails")
    return finding


def unverified_promotion(target: Target) -> Finding:
    finding = Finding("an unverified address made a seller or an admin",
                      "any address could be made a seller or an admin")
    email, user_id = target.sign_up("unverified")
    admin = target.admin_token()
    seen = {}
    for role in ("seller", "admin"):
        answer = target.commands.call("PUT", f"/v1/users/{user_id}/role", {"role": role},
                                      token=admin)
        seen[role] = (answer.status, code_of(answer))
        finding.expect(seen[role] == (409, "email_not_verified"), f"to {role}: {seen[role]}")
    token = target.sign_in(email)["access_token"]
    finding.expect(forge.claims_of(token).get("role") == "customer", "the role changed")
    target.verify_email(email, user_id)
    after = target.commands.call("PUT", f"/v1/users/{user_id}/role", {"role": "seller"},
                                 token=admin)
    finding.expect(after.status == 200, f"once verified, the promotion answered {after.status}")
    finding.now = f"unverified: {seen}; verified: {after.status}"
    return finding


ATTACKS = [reset_enumeration, reset_link_replayed, verification_link_of_another,
           verification_mail_flood, unverified_promotion]
