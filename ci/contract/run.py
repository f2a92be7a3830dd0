#!/usr/bin/env python3
"""The contract suite: schemathesis against both running services, from the OpenAPI documents
they serve, with every check and every phase (examples, coverage, fuzzing, stateful), once per
role (admin, seller, customer). Any failure fails the suite. `ci/test.sh` runs it through
`run.sh`.

The stack is the fault suite's (ci/faults/stack.py) under .dev/contract: its own PostgreSQL
cluster, in-memory broker and SMTP sink, command-api, projector, query-api and notifier from
target/debug, each as its production database role. The seller verifies its address with the
token the notifier mailed before the admin promotes it, as a person would. command-api's `Location` names query-api (CC_HTTP__READ_API_URL), and
the sign-in budgets are lifted: a fuzzer signs in with made-up addresses by the hundred, and the
caller under test must still be able to sign in again after the run signs it out.

    bash ci/contract/run.sh                  # build, then this
    CONTRACT_EXAMPLES=100 CONTRACT_SEED=7 bash ci/contract/run.sh
    CONTRACT_ONLY=query-api:seller bash ci/contract/run.sh     # one service and role

Each run's full output is in .dev/contract/logs/<service>-<role>.log.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "faults"))

import mail  # noqa: E402  (the fault suite's modules, shared)
from client import Client  # noqa: E402
from stack import LIFTED_AUTH_BUDGETS, Stack  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent.parent
HERE = Path(__file__).resolve().parent
PASSWORD = "contract-suite-password"
EXAMPLES = int(os.environ.get("CONTRACT_EXAMPLES", "40"))
# Fixed by default, so a failure found in CI is found again by the same command; any other
# seed explores other inputs.
SEED = os.environ.get("CONTRACT_SEED", "20261203")
RUN_TIMEOUT_S = 1200
ONLY = os.environ.get("CONTRACT_ONLY", "")
# Mailed tokens that hooks.py puts in some requests: {"reset": [token], "verification":
# [{"id", "token"}]}.
MAILED_TOKENS = ROOT / ".dev" / "contract" / "mailed_tokens.json"


def interrupt(signum, _frame):
    raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")


def call(port: int, method: str, path: str, body=None, token: str | None = None):
    client = Client(port, 30.0)
    try:
        return client.request(method, path, body, token)
    finally:
        client.close()


def expect(answer, status: int, what: str):
    if answer.status != status:
        raise RuntimeError(f"{what}: {answer.status} {answer.body[:300]!r}")
    return answer


def sign_in(stack: Stack, email: str, password: str) -> str:
    answer = expect(call(stack.command.port, "POST", "/v1/sessions",
                         {"email": email, "password": password}), 200, f"signing in {email}")
    return answer.json()["access_token"]


def verify_email(stack: Stack, email: str, user_id: str) -> None:
    """With the token of the account's verification mail: only a verified address may be made a
    seller or an admin."""
    token = mail.verification_token(stack.mail_dir, email, user_id)
    expect(call(stack.command.port, "POST", f"/v1/users/{user_id}/email-verification",
                {"token": token}), 200, f"verifying {email}")


def callers(stack: Stack) -> dict[str, tuple[str, str]]:
    """An account of each role, by role: (email, password). The seller also gets products (half
    of them published) and a few other accounts are signed up: their ids go to the dictionaries
    schemathesis.toml names, so the runs act on things that exist. Half of those have a verified
    address, so that a role change on them can succeed as well as be refused; the tokens mailed
    to them go to the runs too (`mailed_tokens`)."""
    admin = sign_in(stack, stack.admin_email, stack.admin_password)
    accounts = {"admin": (stack.admin_email, stack.admin_password)}
    for role in ("seller", "customer"):
        email = f"contract-{role}-{uuid.uuid4().hex[:8]}@contract.cloudcommerce.dev"
        created = expect(call(stack.command.port, "POST", "/v1/users", {
            "email": email, "password": PASSWORD, "display_name": f"Contract {role}"}),
            201, f"signing up the {role}")
        if role != "customer":
            user_id = created.json()["id"]
            verify_email(stack, email, user_id)
            expect(call(stack.command.port, "PUT", f"/v1/users/{user_id}/role",
                        {"role": role}, admin), 200, f"making the {role}")
        accounts[role] = (email, PASSWORD)
    seller = sign_in(stack, *accounts["seller"])
    products = []
    for n in range(1, 7):
        product = expect(call(stack.command.port, "POST", "/v1/products", {
            "sku": f"CONTRACT-{n}", "name": f"Contract kettle {n}", "category": "kitchen",
            "price": {"amount_minor": 2500 + n, "currency": "EUR"}, "stock": 5 * n}, seller),
            201, "creating the seller's products").json()["id"]
        if n % 2:
            expect(call(stack.command.port, "POST", f"/v1/products/{product}/publish", None,
                        seller), 200, "publishing one")
        products.append(product)
    # Accounts the runs may change, deactivate or promote: never the callers themselves.
    targets = []
    for n in range(1, 5):
        email = f"contract-target-{n}-{uuid.uuid4().hex[:8]}@contract.cloudcommerce.dev"
        user_id = expect(call(stack.command.port, "POST", "/v1/users", {
            "email": email, "password": PASSWORD, "display_name": f"Target {n}"}),
            201, "signing up the accounts to act on").json()["id"]
        targets.append((email, user_id, bool(n % 2)))
        if n % 2:
            verify_email(stack, email, user_id)
    users = [user_id for _, user_id, _ in targets]
    for name, ids in (("products", products), ("users", users)):
        (stack.home / f"{name}.dict").write_text("".join(f'"{i}"\n' for i in ids))
    mailed_tokens(stack, targets)
    return accounts


def mailed_tokens(stack: Stack, targets: list[tuple[str, str, bool]]) -> None:
    """Tokens the notifier mailed to the accounts to act on, so that the operations that take
    one succeed too, and their 200 is held to the document (hooks.py puts them in some
    requests): a reset token of each, for POST /v1/password-resets/{token}, and the verification
    token of each that is not verified yet, with its id, for POST /v1/users/{id}/email-
    verification. Each works once; after that the runs see 410."""
    reset_tokens, pairs = [], []
    for email, user_id, verified in targets:
        since = time.time()
        expect(call(stack.command.port, "POST", "/v1/password-resets", {"email": email}), 202,
               f"asking for a reset mail for {email}")
        reset_tokens.append(mail.token(stack.mail_dir, email, mail.RESET_SUBJECT, after=since))
        if not verified:
            pairs.append({"id": user_id,
                          "token": mail.verification_token(stack.mail_dir, email, user_id)})
    MAILED_TOKENS.write_text(json.dumps({"reset": reset_tokens, "verification": pairs}))


def schemathesis(stack: Stack, service: str, port: int, role: str, account: tuple[str, str],
                 log: Path) -> tuple[bool, str]:
    """One schemathesis run; returns whether it passed and its summary line."""
    email, password = account
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CC_")},
        "CONTRACT_COMMAND_URL": f"http://127.0.0.1:{stack.command.port}",
        "CONTRACT_EMAIL": email,
        "CONTRACT_PASSWORD": password,
        "CONTRACT_MAILED_TOKENS": str(MAILED_TOKENS),
        "CONTRACT_SEED": SEED,
        "SCHEMATHESIS_HOOKS": "hooks",
        "PYTHONPATH": str(HERE),
        "NO_COLOR": "1",
    }
    argv = [
        str(Path(sys.executable).parent / "schemathesis"),
        "--config-file", str(HERE / "schemathesis.toml"),
        "run", f"http://127.0.0.1:{port}/openapi.json",
        "--checks", "all", "--max-examples", str(EXAMPLES), "--seed", SEED,
        "--no-color",
    ]
    with log.open("w") as out:
        result = subprocess.run(argv, env=env, stdout=out, stderr=subprocess.STDOUT,
                                timeout=RUN_TIMEOUT_S, cwd=HERE)
    text = log.read_text(errors="replace")
    # schemathesis ends with one line framed in `=`: "2 warnings in 23.69s", "No issues found in
    # 13.83s", "1 failure, 1 warning in 6.11s".
    summary = next((line.strip("= ") for line in reversed(text.splitlines())
                    if line.startswith("=") and re.search(r" in [0-9.]+s ", line)),
                   "no summary")
    return result.returncode == 0, f"{service} as {role}: {summary}"


def main() -> int:
    signal.signal(signal.SIGTERM, interrupt)
    stack = Stack(ROOT, suite="contract", command_env=dict(LIFTED_AUTH_BUDGETS),
                  least_privilege=True)
    # Known once the ports are chosen: a created resource's Location names query-api.
    stack.command.env["CC_HTTP__READ_API_URL"] = f"http://127.0.0.1:{stack.query.port}"
    outcomes: list[tuple[bool, str]] = []
    started = time.monotonic()
    try:
        print("contract: starting PostgreSQL, the broker, the mail sink and the four services",
              flush=True)
        stack.start()
        accounts = callers(stack)
        for service, port in (("command-api", stack.command.port),
                              ("query-api", stack.query.port)):
            for role, account in accounts.items():
                if ONLY and ONLY not in (service, f"{service}:{role}"):
                    continue
                stack.watch()
                log = stack.logs / f"{service}-{role}.log"
                run_started = time.monotonic()
                passed, summary = schemathesis(stack, service, port, role, account, log)
                outcomes.append((passed, summary))
                print(f"{'ok  ' if passed else 'FAIL'} {summary} "
                      f"({time.monotonic() - run_started:.0f} s)", flush=True)
                if not passed:
                    print(f"     failures: {log}", flush=True)
                    failures = log.read_text(errors="replace")
                    start = failures.find("FAILURES")
                    print(failures[start:start + 6000] if start >= 0 else failures[-3000:],
                          flush=True)
        stack.watch()
    except KeyboardInterrupt as stop:
        print(f"contract: interrupted ({stop})", flush=True)
        return 1
    except Exception as error:
        print(f"contract: the harness failed: {error!r}", flush=True)
        return 1
    finally:
        stack.close()
    failed = [summary for passed, summary in outcomes if not passed]
    print(f"contract: {len(outcomes) - len(failed)} of {len(outcomes)} runs without a failure, "
          f"{EXAMPLES} examples per operation, seed {SEED}, "
          f"{time.monotonic() - started:.0f} s", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
