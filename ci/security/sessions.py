"""Attacks on tokens and sessions: minting a token on the read side, forging one, using one after
the session behind it should have ended (sign-out, refresh-token reuse, a password, role or
status change), and forging an admin snapshot as the writer role.
"""

from __future__ import annotations

import json
from pathlib import Path

import forge
from harness import PASSWORD, Finding, Target


def alive_on_both(target: Target, user_id: str, token: str) -> tuple[int, int]:
    """(command-api, query-api) statuses of one personal request each with `token`: the user
    renames themself, and reads their own account."""
    command = target.commands.call("PATCH", f"/v1/users/{user_id}",
                                   {"display_name": "Still here"}, token=token)
    query = target.queries.call("GET", "/v1/users/me", token=token)
    return command.status, query.status


def ended_on_both(finding: Finding, statuses: tuple[int, int], what: str) -> None:
    finding.expect(statuses == (401, 401), f"{what}: {statuses}, not 401 on both APIs")


def read_side_cannot_mint(target: Target) -> Finding:
    finding = Finding("the read side mints or forges a token",
                      "query-api held the HS256 secret; no kid")
    environ = Path(f"/proc/{target.stack.query.pid}/environ").read_bytes().split(b"\0")
    names = {entry.split(b"=", 1)[0].decode() for entry in environ if b"=" in entry}
    finding.expect("CC_AUTH__SIGNING_KEYS" not in names, "query-api has the signing keys")
    finding.expect("CC_AUTH__JWKS" in names, "query-api has no public key set")
    jwks = target.commands.call("GET", "/.well-known/jwks.json").json()
    keys = jwks.get("keys", []) if isinstance(jwks, dict) else []
    finding.expect(bool(keys) and all(k.get("kty") == "OKP" and k.get("crv") == "Ed25519"
                                      and k.get("kid") and "d" not in k for k in keys),
                   f"the JWK set is not public Ed25519 keys with kids: {jwks}")
    email, user_id = target.sign_up("forger")
    real = target.sign_in(email)["access_token"]
    header = json.loads(forge.unb64url(real.split(".")[0]))
    finding.expect(header.get("alg") == "EdDSA" and bool(header.get("kid")),
                   f"a real token's header is {header}")
    kid = header.get("kid", "")
    claims = forge.admin_claims(user_id)
    x = keys[0]["x"] if keys else ""
    forged = {
        "alg none": forge.unsigned(claims, kid),
        "HS256 keyed with the public key": forge.hs256(claims, kid, x.encode()),
        "HS256 keyed with its bytes": forge.hs256(claims, kid, forge.unb64url(x) if x else b""),
    }
    seen = {}
    for name, token in forged.items():
        audit = target.queries.call("GET", f"/v1/audit/users/{user_id}/events", token=token)
        promote = target.commands.call("PUT", f"/v1/users/{user_id}/role", {"role": "admin"},
                                       token=token)
        seen[name] = (audit.status, promote.status)
        finding.expect(seen[name] == (401, 401), f"{name}: {seen[name]}")
    finding.now = (f"query-api has the JWK set only; tokens EdDSA with kid {kid[:8]}...; "
                   f"forged admin tokens {sorted(set(seen.values()))}")
    return finding


def refresh_reuse_and_sign_out(target: Target) -> Finding:
    finding = Finding("a stolen refresh token replayed; a token used after sign-out",
                      "no refresh, no sign-out: a token lived its 15 minutes whatever happened")
    email, user_id = target.sign_up("sessions")
    phone = target.sign_in(email)
    finding.expect(phone.get("expires_in") == 900, f"access tokens live {phone.get('expires_in')} s")
    rotated = target.refresh(phone["refresh_token"])
    finding.expect(rotated.status == 200, f"a refresh answered {rotated.status}")
    fresh = rotated.json() or {}
    replay = target.refresh(phone["refresh_token"])
    after_replay = alive_on_both(target, user_id, fresh.get("access_token", ""))
    successor = target.refresh(fresh.get("refresh_token", ""))
    finding.expect(replay.status == 401, f"the replayed refresh token answered {replay.status}")
    ended_on_both(finding, after_replay, "the rotated access token after the replay")
    finding.expect(successor.status == 401, "the rotated refresh token survived the replay")

    laptop = target.sign_in(email)
    before = alive_on_both(target, user_id, laptop["access_token"])
    finding.expect(401 not in before, f"a live session was refused: {before}")
    out = target.commands.call("DELETE", "/v1/sessions/current", token=laptop["access_token"])
    after = alive_on_both(target, user_id, laptop["access_token"])
    refresh = target.refresh(laptop["refresh_token"])
    finding.expect(out.status == 204, f"sign-out answered {out.status}")
    ended_on_both(finding, after, "the access token after sign-out")
    finding.expect(refresh.status == 401, "the refresh token survived sign-out")
    finding.now = (f"replay {replay.status}, then the family {after_replay}; sign-out {out.status},"
                   f" then {after} and refresh {refresh.status}")
    return finding


def changes_end_sessions(target: Target) -> Finding:
    finding = Finding("tokens after a password change, a role change, a deactivation",
                      "tokens survived a password change")
    admin = target.admin_token()
    seen = []

    email, user_id = target.sign_up("password")
    phone, laptop = target.sign_in(email), target.sign_in(email)
    change = target.commands.call("PATCH", f"/v1/users/{user_id}", {
        "password": "a-brand-new-password", "current_password": PASSWORD},
        token=laptop["access_token"])
    finding.expect(change.status == 200, f"the password change answered {change.status}")
    for session in (phone, laptop):
        statuses = alive_on_both(target, user_id, session["access_token"])
        ended_on_both(finding, statuses, "a token after the password change")
        seen.append(statuses)
    target.sign_in(email, "a-brand-new-password")

    email, user_id = target.sign_up("promoted")
    target.verify_email(email, user_id)
    before = target.sign_in(email)
    role = target.commands.call("PUT", f"/v1/users/{user_id}/role", {"role": "seller"},
                                token=admin)
    finding.expect(role.status == 200, f"the role change answered {role.status}")
    statuses = alive_on_both(target, user_id, before["access_token"])
    ended_on_both(finding, statuses, "a token after the role change")
    seen.append(statuses)
    after = target.sign_in(email)
    finding.expect(forge.claims_of(after["access_token"]).get("role") == "seller",
                   "a sign-in after the role change has not the new role")

    email, user_id = target.sign_up("leaving")
    session = target.sign_in(email)
    path = f"/v1/users/{user_id}"
    bare = target.commands.call("DELETE", path, token=session["access_token"])
    wrong = target.commands.call("DELETE", path, {"current_password": "not-my-password-at-all"},
                                 token=session["access_token"])
    right = target.commands.call("DELETE", path, {"current_password": PASSWORD},
                                 token=session["access_token"])
    finding.expect((bare.status, wrong.status, right.status) == (400, 403, 200),
                   f"deactivation without, with a wrong, with the right current password: "
                   f"{bare.status}, {wrong.status}, {right.status}")
    statuses = alive_on_both(target, user_id, session["access_token"])
    ended_on_both(finding, statuses, "a token after the deactivation")
    seen.append(statuses)
    finding.now = (f"every earlier token {sorted(set(seen))}; deactivation needs the password "
                   f"({bare.status} without, {wrong.status} wrong)")
    return finding


def forged_snapshot(target: Target) -> Finding:
    finding = Finding("an admin snapshot forged as the writer role",
                      "trusted when resolving the caller's role: admin without an event")
    email, mallory = target.sign_up("mallory")
    _, victim = target.sign_up("victim")
    token = target.sign_in(email)["access_token"]
    # A long enough stream for the service to write a real snapshot (every 100 events)...
    for i in range(100):
        answer = target.commands.call("PATCH", f"/v1/users/{mallory}",
                                      {"display_name": f"Mallory {i}"}, token=token)
        if answer.status != 200:
            raise RuntimeError(f"rename {i}: {answer.status} {answer.body[:200]!r}")
    # ...which Mallory, holding the writer role's password, turns into an admin's.
    forged = target.sql_as("cc_writer", "UPDATE es.snapshots SET state = jsonb_set(state, "
                           f"'{{role}}', '\"admin\"') WHERE stream_id = '{mallory}'")
    finding.expect(forged.returncode == 0, f"the writer role could not write: {forged.stderr}")
    count = target.stack.pg.scalar(
        f"SELECT count(*) FROM es.snapshots WHERE stream_id = '{mallory}' "
        "AND state->>'role' = 'admin'")
    finding.expect(count == "1", "no forged snapshot is in place")
    token = target.sign_in(email)["access_token"]
    role_claim = forge.claims_of(token).get("role")
    promote = target.commands.call("PUT", f"/v1/users/{victim}/role", {"role": "admin"},
                                   token=token)
    audit = target.queries.call("GET", f"/v1/audit/users/{victim}/events", token=token)
    finding.expect(role_claim == "customer", f"the token says {role_claim}")
    finding.expect(promote.status == 403, f"promoting someone answered {promote.status}")
    finding.expect(audit.status == 403, f"someone else's audit trail answered {audit.status}")
    finding.now = (f"token role {role_claim}; promoting someone {promote.status}; "
                   f"their audit trail {audit.status}")
    return finding


ATTACKS = [read_side_cannot_mint, refresh_reuse_and_sign_out, changes_end_sessions,
           forged_snapshot]
