"""The suite's own PostgreSQL cluster: initialised fresh in .dev/faults/pg on every run, started,
crashed (`pg_ctl -m immediate`) and restarted on purpose, queried with psql, stopped at the end.

It never touches the shared development cluster (.dev/pg, port 54329): other tests use that one
while this suite crashes its own.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from procs import HarnessError, run_checked, tail

DATABASE = "cloudcommerce"
# Enough for three services' pools (16 each, and the pools grow back to full after a crash)
# plus the harness's psql sessions, with room to spare; the brief asks for 200.
MAX_CONNECTIONS = 200


def pg_bin() -> Path:
    """The newest PostgreSQL server binaries of Debian's packages (kept off PATH there)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                   key=lambda path: int(path.parent.parent.name))
    if not found:
        raise HarnessError("no PostgreSQL server binaries under /usr/lib/postgresql "
                           "(ci/stack/install.sh installs them)")
    return found[-1].parent


def as_owner(argv: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: as root, run it as Debian's `postgres` user."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *argv]
    return argv


class Postgres:
    def __init__(self, root: Path, port: int, logs: Path):
        self.bin = pg_bin()
        self.port = port
        self.home = root / "pg"
        self.data = self.home / "data"
        self.socket = self.home / "socket"
        self.log = logs / "postgres.log"
        self.ctl_log = logs / "pg_ctl.log"
        self.started = False

    def url(self, database: str = DATABASE) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def init(self) -> None:
        """A new cluster, with durability on: a 2xx answer must survive the crash of fault (d)."""
        self.stop_leftover()
        shutil.rmtree(self.home, ignore_errors=True)
        self.socket.mkdir(parents=True)
        self.log.touch()
        if os.geteuid() == 0:
            shutil.chown(self.log, "postgres", "postgres")
            for path in [self.home, self.socket]:
                shutil.chown(path, "postgres", "postgres")
        run_checked(as_owner([str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres",
                              "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8"]),
                    self.ctl_log, timeout=120)
        with open(self.data / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write(f"""
listen_addresses = '127.0.0.1'
port = {self.port}
unix_socket_directories = '{self.socket}'
max_connections = {MAX_CONNECTIONS}
fsync = on
synchronous_commit = on
log_min_duration_statement = 1000
""")

    def stop_leftover(self) -> None:
        """A cluster left running in our folder by a run that was itself killed -9."""
        if (self.data / "postmaster.pid").exists():
            subprocess.run(as_owner([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m",
                                     "immediate", "-w", "-t", "30", "stop"]),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60,
                           check=False)

    def start(self) -> None:
        run_checked(as_owner([str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log),
                              "-w", "-t", "60", "start"]), self.ctl_log, timeout=90)
        self.started = True

    def crash(self) -> None:
        """Immediate shutdown: no checkpoint, every backend gone; the next start recovers."""
        run_checked(as_owner([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate",
                              "-w", "-t", "60", "stop"]), self.ctl_log, timeout=90)

    def stop(self) -> None:
        if not (self.data / "postmaster.pid").exists():
            return
        for mode in ["fast", "immediate"]:
            result = subprocess.run(as_owner([str(self.bin / "pg_ctl"), "-D", str(self.data),
                                              "-m", mode, "-w", "-t", "30", "stop"]),
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                    timeout=60, check=False)
            if result.returncode == 0:
                return

    def postmaster_pid(self) -> int | None:
        try:
            return int((self.data / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None

    def check_alive(self) -> None:
        """Fails loudly when the postmaster we started is gone (and we did not stop it)."""
        pid = self.postmaster_pid()
        try:
            if pid is not None:
                os.kill(pid, 0)
                return
        except ProcessLookupError:
            pass
        raise HarnessError(f"PostgreSQL is not running; last lines of {self.log}:\n"
                           f"{tail(self.log)}")

    def ready(self) -> bool:
        result = subprocess.run(as_owner([str(self.bin / "pg_isready"), "-q", "-h", "127.0.0.1",
                                          "-p", str(self.port)]), timeout=10, check=False)
        return result.returncode == 0

    def psql(self, sql: str, database: str = DATABASE, timeout: float = 60) -> list[list[str]]:
        """Runs `sql` (a script; COPY ... FROM STDIN data may follow inline) and returns the
        rows of every query in it, tab-separated fields."""
        result = subprocess.run([str(self.bin / "psql"), self.url(database), "-X", "-q", "-tA",
                                 "-F", "\t", "-v", "ON_ERROR_STOP=1", "-f", "-"],
                                input=sql.encode(), capture_output=True, timeout=timeout,
                                check=False)
        if result.returncode != 0:
            raise HarnessError(f"psql failed ({result.returncode}): "
                               f"{result.stderr.decode(errors='replace').strip()}")
        return [line.split("\t") for line in result.stdout.decode().splitlines() if line]

    def scalar(self, sql: str, database: str = DATABASE) -> str:
        rows = self.psql(sql, database)
        if not rows:
            raise HarnessError(f"no row from: {sql}")
        return rows[0][0]
