"""Erasure as someone checking it would: a person who signed up, renamed themself, mistyped
their password, asked for a reset and was mailed, then had their personal data erased, must be
nowhere in clear afterwards: not in a dump of the whole database (bytea columns included, as
the bytes they hold), not in any service's log. Someone else may not erase them; the address may
sign up again.
"""

from __future__ import annotations

import subprocess
import time
import uuid

from harness import PASSWORD, Finding, Target, home_network

SETTLE_S = 30


def dump(target: Target) -> str:
    """The database's rows as pg_dump writes them: text as it is, bytea as hex."""
    result = subprocess.run([str(target.stack.pg.bin / "pg_dump"), target.stack.pg.url(),
                             "--data-only", "--no-owner"], capture_output=True, timeout=120,
                            check=True)
    return result.stdout.decode(errors="replace").lower()


def mentions(text: str, needles: list[str]) -> list[str]:
    return [needle for needle in needles if needle in text]


def settled(target: Target, user_id: str) -> bool:
    """The projector shows the account erased and the notifier forgot its address."""
    schema = target.stack.pg.scalar("SELECT schema FROM read_meta.active")
    shown = target.stack.pg.scalar(
        f"SELECT count(*) FROM {schema}.users WHERE id = '{user_id}' AND email IS NULL")
    remembered = target.stack.pg.scalar(
        f"SELECT count(*) FROM notifier.recipients WHERE user_id = '{user_id}'")
    return (shown, remembered) == ("1", "0")


def erased_person_everywhere(target: Target) -> Finding:
    finding = Finding("an erased person's address and name, anywhere in the database or a log",
                      "(new) events, topics, tables and logs kept them for good")
    email, user_id = target.sign_up("erasable")
    name = f"Erasable {uuid.uuid4().hex[:8]}"
    session = target.sign_in(email)["access_token"]
    renamed = target.commands.call("PATCH", f"/v1/users/{user_id}", {"display_name": name},
                                   token=session)
    finding.expect(renamed.status == 200, f"the rename answered {renamed.status}")
    for _ in range(2):
        target.commands.call("POST", "/v1/sessions",
                             {"email": email, "password": "not-the-password-at-all"},
                             network=home_network(email))
    reset = target.commands.call("POST", "/v1/password-resets", {"email": email},
                                 network=home_network(email))
    finding.expect(reset.status == 202, f"the reset request answered {reset.status}")
    # The search itself is not blind: before the erasure the address is there (its reservation,
    # the notifier's recipient row, the throttle windows).
    before = mentions(dump(target), [email.lower()])
    finding.expect(bool(before), "the dump shows no address even before the erasure")
    other, _ = target.sign_up("eraser")
    foreign = target.commands.call("DELETE", f"/v1/users/{user_id}/personal-data",
                                   {"current_password": PASSWORD},
                                   token=target.sign_in(other)["access_token"])
    finding.expect(foreign.status == 403, f"someone else erasing answered {foreign.status}")
    bare = target.commands.call("DELETE", f"/v1/users/{user_id}/personal-data", token=session)
    erased = target.commands.call("DELETE", f"/v1/users/{user_id}/personal-data",
                                  {"current_password": PASSWORD}, token=session)
    finding.expect((bare.status, erased.status) == (400, 200),
                   f"erasing without, with the password: {bare.status}, {erased.status}")
    deadline = time.monotonic() + SETTLE_S
    while not settled(target, user_id):
        if time.monotonic() > deadline:
            finding.expect(False, f"the read side had not forgotten after {SETTLE_S} s")
            break
        time.sleep(0.2)

    needles = [email.lower(), name.lower()]
    in_database = mentions(dump(target), needles + [email.encode().hex()])
    finding.expect(not in_database, f"the database still holds {in_database}")
    logs = sorted(target.stack.logs.glob("*.log"))
    in_logs = {log.name: found for log in logs
               if (found := mentions(log.read_text(errors="replace").lower(), needles))}
    finding.expect(not in_logs, f"logs mention the person: {in_logs}")
    again = target.commands.call("POST", "/v1/users", {
        "email": email, "password": PASSWORD, "display_name": "Someone new"},
        network=home_network(email))
    finding.expect(again.status == 201, f"the address signing up again answered {again.status}")
    finding.now = (f"someone else {foreign.status}; erased {erased.status}; the dump of every "
                   f"table and {len(logs)} logs mention neither address nor name; the address "
                   f"signs up again ({again.status})")
    return finding


ATTACKS = [erased_person_everywhere]
