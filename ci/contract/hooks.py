"""schemathesis hooks of the contract suite: every request is made by a signed-in caller of the
role under test, every command gets an Idempotency-Key of its own, and a listing cursor is one
the service issued.

Read from the environment (run.py sets them): CONTRACT_COMMAND_URL, CONTRACT_EMAIL,
CONTRACT_PASSWORD, CONTRACT_MAILED_TOKENS, CONTRACT_SEED.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import random
import re
import urllib.request
import uuid
from pathlib import Path

import schemathesis

COMMAND_URL = os.environ["CONTRACT_COMMAND_URL"]
EMAIL = os.environ["CONTRACT_EMAIL"]
PASSWORD = os.environ["CONTRACT_PASSWORD"]
# What the documents' Idempotency-Key pattern accepts.
VALID_KEY = re.compile(r"[!-~]{1,255}")
# Tokens the notifier mailed to accounts the runs act on (run.py took them from the mail):
# {"reset": [token], "verification": [{"id", "token"}]} of accounts nobody verified yet.
_mailed = Path(os.environ.get("CONTRACT_MAILED_TOKENS", "/nonexistent"))
MAILED_TOKENS = json.loads(_mailed.read_text()) if _mailed.is_file() else {}
# Seeded like the run, so that the same command sends the same requests again.
CHOICES = random.Random(os.environ.get("CONTRACT_SEED", "0"))


@schemathesis.auth()
class SignedInCaller:
    """Signs in as the caller under test. The token is fetched again after a 401 (the default of
    `retry_on`): the run itself may sign the caller out, and a real client signs in again then."""

    def get(self, case, context):
        request = urllib.request.Request(
            f"{COMMAND_URL}/v1/sessions",
            data=json.dumps({"email": EMAIL, "password": PASSWORD}).encode(),
            headers={"content-type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)["access_token"]

    def set(self, case, data, context):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"


@schemathesis.hook
def before_call(context, case, kwargs):
    """A valid Idempotency-Key is replaced by a fresh one: generators repeat simple values ("0")
    across different bodies, which the API rightly refuses as a reused key (422), while a client
    makes a new key per new request. Invalid keys stay as generated, to be refused."""
    headers = case.headers or {}
    for name in list(headers):
        value = headers[name]
        if name.lower() == "idempotency-key" and isinstance(value, str) \
                and VALID_KEY.fullmatch(value):
            headers[name] = f"contract-{uuid.uuid4()}"


def issued_cursor(value) -> bool:
    """Whether `value` could be a cursor the listing issued (base64url of a JSON object)."""
    try:
        padded = str(value) + "=" * (-len(str(value)) % 4)
        return isinstance(json.loads(base64.urlsafe_b64decode(padded)), dict)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return False


@schemathesis.hook("before_call")
def only_issued_cursors_count_as_valid(context, case, kwargs):
    """A cursor is opaque: it means "after the last item of the page that returned it", so one
    made up is refused (400 invalid_cursor) however well it matches the pattern, as a made-up
    Idempotency-Key reuse is. In requests meant to be valid, a made-up cursor is left out;
    cursors the stateful phase carries over from a page, and invalid ones, are sent as they are."""
    meta = case.meta
    positive = meta is not None and meta.generation.mode.is_positive
    if positive and case.query and "cursor" in case.query \
            and not issued_cursor(case.query["cursor"]):
        del case.query["cursor"]


@schemathesis.hook("before_call")
def some_requests_carry_a_mailed_token(context, case, kwargs):
    """A mailed token is one the notifier drew for that very account, which no generator can
    make up: in one of two requests meant to be valid, a reset carries a real reset token, and a
    verification a real (id, token) pair, so that their 200 is checked too. A token works once;
    after that it gets 410 like any spent one."""
    meta = case.meta
    positive = meta is not None and meta.generation.mode.is_positive
    if not positive or case.method.upper() != "POST" or CHOICES.random() >= 0.5:
        return
    if case.path == "/v1/password-resets/{token}" and MAILED_TOKENS.get("reset"):
        case.path_parameters["token"] = CHOICES.choice(MAILED_TOKENS["reset"])
    elif case.path == "/v1/users/{id}/email-verification" and MAILED_TOKENS.get("verification") \
            and isinstance(case.body, dict) and "token" in case.body:
        pair = CHOICES.choice(MAILED_TOKENS["verification"])
        case.path_parameters["id"] = pair["id"]
        case.body["token"] = pair["token"]
