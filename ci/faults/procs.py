"""Child processes of the fault suite: started with their output in a log file, killed and
restarted on purpose, and watched so that one that dies by itself fails the run loudly.

Also the two small things every wait needs: free loopback ports and a deadline loop.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import time
from collections import deque
from pathlib import Path
from typing import Callable

# Below Linux's ephemeral range (32768-60999 by default), so that no outgoing connection's local
# port takes a port between the check and the child's bind; the local stack uses 18xxx, 19xxx
# and 54329.
PORT_RANGE = (25000, 25999)
LOG_TAIL_LINES = 30


class HarnessError(Exception):
    """The run cannot go on: a child died by itself, or a wait ran past its deadline."""


def tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    """The last `lines` lines of a log file, or a note that it is missing."""
    try:
        with open(path, "rb") as handle:
            last = deque(handle, maxlen=lines)
    except OSError as error:
        return f"(no log at {path}: {error})"
    return b"".join(last).decode("utf-8", "replace")


def free_ports(count: int) -> list[int]:
    """`count` distinct loopback ports in PORT_RANGE that nothing listens on right now.

    Random rather than sequential, so two runs started at once rarely race for the same port.
    """
    candidates = list(range(PORT_RANGE[0], PORT_RANGE[1] + 1))
    random.shuffle(candidates)
    ports: list[int] = []
    for port in candidates:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        ports.append(port)
        if len(ports) == count:
            return ports
    raise HarnessError(f"fewer than {count} free ports in {PORT_RANGE}")


def port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


class Child:
    """One long-running program of the stack (a service or the broker), started by this run."""

    def __init__(self, name: str, argv: list[str], log: Path, env: dict[str, str] | None = None,
                 cwd: Path | None = None):
        self.name = name
        self.argv = argv
        self.log = log
        self.env = env
        self.cwd = cwd
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        with open(self.log, "ab") as handle:
            handle.write(f"==== faults: start #{self.starts} of {self.name} at "
                         f"{time.strftime('%H:%M:%S')} ====\n".encode())
            # A session of its own: a Ctrl-C in the terminal reaches only this harness, which
            # then stops the children in order instead of all of them dying at once.
            self.proc = subprocess.Popen(self.argv, stdout=handle, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, env=self.env, cwd=self.cwd,
                                         start_new_session=True)

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def check_alive(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            raise HarnessError(f"{self.name} exited by itself with status {self.proc.returncode};"
                               f" last lines of {self.log}:\n{tail(self.log)}")

    def kill9(self) -> None:
        """SIGKILL, as a node failure or the OOM killer would, and reap it."""
        if self.alive():
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM, then SIGKILL after `grace` seconds."""
        if not self.alive():
            return
        os.kill(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.kill9()


def wait_until(what: str, ready: Callable[[], bool], timeout: float,
               watch: Callable[[], None] = lambda: None, interval: float = 0.25) -> float:
    """Polls `ready` until it is true; returns the seconds it took. `watch` runs before each
    poll and raises when a child died, so a crash is reported as such, not as a time-out."""
    started = time.monotonic()
    deadline = started + timeout
    while True:
        watch()
        if ready():
            return time.monotonic() - started
        if time.monotonic() >= deadline:
            raise HarnessError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def run_checked(argv: list[str], log: Path, timeout: float, env: dict[str, str] | None = None,
                stdin: bytes | None = None) -> None:
    """Runs a short command to completion, its output appended to `log`; fails with the tail."""
    with open(log, "ab") as handle:
        handle.write(f"==== faults: {' '.join(argv)} ====\n".encode())
        handle.flush()
        try:
            # A session of its own, for what it leaves running (pg_ctl's postmaster): a Ctrl-C
            # must reach only the harness, which then stops everything in order.
            result = subprocess.run(argv, stdout=handle, stderr=subprocess.STDOUT, env=env,
                                    input=stdin, timeout=timeout, check=False,
                                    start_new_session=True)
        except subprocess.TimeoutExpired as error:
            raise HarnessError(f"`{' '.join(argv)}` took over {timeout:.0f} s; "
                               f"last lines of {log}:\n{tail(log)}") from error
    if result.returncode != 0:
        raise HarnessError(f"`{' '.join(argv)}` failed with status {result.returncode}; "
                           f"last lines of {log}:\n{tail(log)}")
