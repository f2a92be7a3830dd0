"""What every attack of the security suite uses: requests to one service (each on a connection of
its own, so parallel requests really are parallel), a client network to claim through
`X-Forwarded-For` (the suite's command-api believes one proxy hop), the mail the notifier sent
(the suite's SMTP sink, read by ci/faults/mail.py), SQL as a given database role, and the finding
an attack reports.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "faults"))

import mail  # noqa: E402  (the fault suite's modules, shared)
from client import Answer, Client  # noqa: E402
from stack import Stack  # noqa: E402

REQUEST_TIMEOUT_S = 30.0
PASSWORD = "a-long-enough-password"
T = TypeVar("T")


@dataclass
class Finding:
    """One attack: what the issue saw before, what this run saw, and whether it is defended."""
    attack: str
    before: str
    now: str = ""
    ok: bool = True
    problems: list[str] = field(default_factory=list)

    def expect(self, condition: bool, problem: str) -> None:
        if not condition:
            self.ok = False
            self.problems.append(problem)


class Api:
    """One service's port."""

    def __init__(self, port: int):
        self.port = port

    def call(self, method: str, path: str, body=None, token: str | None = None,
             network: str | None = None, headers: dict[str, str] | None = None) -> Answer:
        all_headers = dict(headers or {})
        if network:
            all_headers["x-forwarded-for"] = network
        client = Client(self.port, REQUEST_TIMEOUT_S)
        try:
            return client.request(method, path, body, token, all_headers)
        finally:
            client.close()


class Target:
    """The running stack, as the attacks reach it."""

    def __init__(self, stack: Stack):
        self.stack = stack
        self.commands = Api(stack.command.port)
        self.queries = Api(stack.query.port)
        self.commands_admin = Api(stack.command_admin_port)
        self.queries_admin = Api(stack.query_admin_port)
        self.mail_dir = stack.mail_dir

    def sign_up(self, prefix: str, network: str | None = None) -> tuple[str, str]:
        """A new account: (email, user id), signed up from its home network unless told."""
        email = f"{prefix}-{uuid.uuid4().hex[:10]}@security.cloudcommerce.dev"
        answer = self.commands.call("POST", "/v1/users", {
            "email": email, "password": PASSWORD, "display_name": prefix},
            network=network or home_network(email))
        if answer.status != 201:
            raise RuntimeError(f"sign-up of {email}: {answer.status} {answer.body[:300]!r}")
        return email, answer.json()["id"]

    def sign_in(self, email: str, password: str = PASSWORD, network: str | None = None) -> dict:
        """The answer of a sign-in that must succeed, from the account's home network unless
        told."""
        answer = self.commands.call("POST", "/v1/sessions", {"email": email, "password": password},
                                    network=network or home_network(email))
        if answer.status != 200:
            raise RuntimeError(f"sign-in of {email}: {answer.status} {answer.body[:300]!r}")
        return answer.json()

    def verify_email(self, email: str, user_id: str) -> None:
        """Verifies the account's address with the token of its verification mail, as its owner
        would: only a verified address may be made a seller or an admin."""
        token = mail.verification_token(self.mail_dir, email, user_id)
        answer = self.commands.call("POST", f"/v1/users/{user_id}/email-verification",
                                    {"token": token})
        if answer.status != 200:
            raise RuntimeError(f"verifying {email}: {answer.status} {answer.body[:300]!r}")

    def refresh(self, refresh_token: str) -> Answer:
        return self.commands.call("POST", "/v1/sessions/refresh",
                                  {"refresh_token": refresh_token})

    def admin_token(self) -> str:
        return self.sign_in(self.stack.admin_email, self.stack.admin_password,
                            network="192.0.2.250")["access_token"]

    def sql_as(self, role: str, sql: str) -> subprocess.CompletedProcess:
        """`sql` through psql as database role `role`; the result, whatever it is."""
        url = self.stack.pg.url().replace("postgres@", f"{role}@", 1)
        return subprocess.run([str(self.stack.pg.bin / "psql"), url, "-X", "-q", "-tA",
                               "-v", "ON_ERROR_STOP=1", "-c", sql],
                              capture_output=True, text=True, timeout=60, check=False)


def home_network(email: str) -> str:
    """The network an account's owner uses, its own (in 100.64.0.0/10): the suite's many users
    never share a network's budgets unless an attack means them to."""
    digest = hashlib.sha256(email.encode()).digest()
    return f"100.{64 + digest[0] % 64}.{digest[1]}.{digest[2] % 254 + 1}"


def parallel(count: int, task: Callable[[int], T], threads: int = 50) -> list[T]:
    """`task(0..count)` on `threads` threads at once; the results in order."""
    with ThreadPoolExecutor(max_workers=min(count, threads)) as pool:
        return list(pool.map(task, range(count)))


def tally(answers: list[Answer]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for answer in answers:
        counts[answer.status] = counts.get(answer.status, 0) + 1
    return dict(sorted(counts.items()))


def code_of(answer: Answer) -> str | None:
    body = answer.json()
    return body.get("code") if isinstance(body, dict) else None
