"""HTTP for the load and the probes: one keep-alive connection per load thread (thousands of
requests a minute would otherwise leave as many sockets in TIME_WAIT), reopened after any error,
and one-shot probes of `/health/ready`.

Named `client` rather than `http` so that it does not shadow the standard library's package.
"""

from __future__ import annotations

import http.client
import json
import socket
from dataclasses import dataclass, field

# What a failed request is counted as, beside the status codes.
CONN = "conn"
TIMEOUT = "timeout"


@dataclass
class Answer:
    status: int
    body: bytes
    # Names in lower case; a repeated header keeps its last value.
    headers: dict[str, str] = field(default_factory=dict)

    def json(self):
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            return None


class RequestFailed(Exception):
    """No HTTP answer: `kind` is CONN (refused, reset, closed early) or TIMEOUT."""

    def __init__(self, kind: str, detail: str):
        super().__init__(f"{kind}: {detail}")
        self.kind = kind


class Client:
    """Requests to one service on loopback over a reused connection."""

    def __init__(self, port: int, timeout: float):
        self.port = port
        self.timeout = timeout
        self.conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body=None, token: str | None = None,
                headers: dict[str, str] | None = None) -> Answer:
        all_headers = {"content-type": "application/json", **(headers or {})}
        if token:
            all_headers["authorization"] = f"Bearer {token}"
        data = json.dumps(body).encode() if body is not None else None
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            self.conn.request(method, path, body=data, headers=all_headers)
            response = self.conn.getresponse()
            answer = Answer(response.status, response.read(),
                            {name.lower(): value for name, value in response.getheaders()})
        except (TimeoutError, socket.timeout) as error:
            self.close()
            raise RequestFailed(TIMEOUT, str(error)) from error
        except (OSError, http.client.HTTPException) as error:
            # Never retried here: a command that may or may not have committed is simply not
            # acknowledged, exactly what a real client would see.
            self.close()
            raise RequestFailed(CONN, repr(error)) from error
        if response.will_close:
            self.close()
        return answer

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def probe(port: int, path: str = "/health/ready", timeout: float = 2.0) -> Answer | None:
    """One GET on a fresh connection; None when nothing answered."""
    client = Client(port, timeout)
    try:
        return client.request("GET", path)
    except RequestFailed:
        return None
    finally:
        client.close()
