"""The whole system under test, owned by this run alone: its own PostgreSQL cluster, its own
in-memory Tansu broker, its own SMTP sink (testkit's mail-sink, every message a file in
.dev/<suite>/mail, read with ci/stack/mailbox.py) and its own command-api, projector, query-api
and notifier (target/debug), each on a free loopback port, each logging to .dev/<suite>/logs/.
Starts them, restarts any of them on purpose, and stops all of them at the end. The fault
suite, the security suite (ci/security/) and the contract suite (ci/contract/) each run one,
with their own settings.

Every child carries FAULTS_SUITE=<.dev/<suite>> in its environment: a later run finds and stops
children that a killed run left behind by that mark, and never touches anything else.
"""

from __future__ import annotations

import base64
import os
import secrets
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Callable

from client import probe
from postgres import DATABASE, Postgres
from procs import Child, HarnessError, free_ports, port_open, run_checked, tail, wait_until

MARK = "FAULTS_SUITE"
USER_TOPIC = "cloudcommerce.user-events"
PRODUCT_TOPIC = "cloudcommerce.product-events"
PARTITIONS = 3
# First start of a debug binary on a busy 2-core machine: migrations, topic creation, a pool.
START_TIMEOUT_S = 90
BROKER_STOP_GRACE_S = 15
# Services that die by themselves are restarted this many times in a run (each one is a
# failure already); more means a crash loop, and the run stops.
MAX_CRASHES = 3
# Freshness sampled every half second (default 2 s), so that "caught up" is measured to ~0.5 s.
LAG_SAMPLE_INTERVAL_MS = 500


class Service(Child):
    """A service binary with its HTTP port; `/health/ready` is served there (for the projector,
    that port is its admin listener)."""

    def __init__(self, name: str, argv: list[str], log: Path, env: dict[str, str], port: int):
        # Started in the suite's folder: whatever a service writes there (a core file) stays in
        # .dev/faults.
        super().__init__(name, argv, log, env=env, cwd=log.parent.parent)
        self.port = port

    def ready(self) -> bool:
        answer = probe(self.port)
        return answer is not None and answer.status == 200


# Every writer of the fault suite signs up and signs in from 127.0.0.1: the sign-up, per-network
# and hash-queue budgets (the security suite's subject) are lifted so they never shed its load,
# whose question is whether faults lose writes.
LIFTED_AUTH_BUDGETS = {
    "CC_AUTH__SIGN_UPS_PER_CLIENT": "1000000",
    "CC_AUTH__CLIENT_MAX_ATTEMPTS": "1000000",
    "CC_AUTH__PASSWORD_CHECKS_PER_SEC": "100000",
    "CC_AUTH__HASH_QUEUE_PER_CORE": "1000",
    "CC_AUTH__HASH_WAIT_MS": "30000",
}

# The production roles (k8s/README.md, "Database roles"): created before the migrations, which
# grant them their rights, and used by the services when a suite asks for least privilege.
SERVICE_ROLES = {"command-api": "cc_writer", "projector": "cc_projector", "query-api": "cc_reader",
                 "notifier": "cc_notifier"}


class Stack:
    def __init__(self, root: Path, suite: str = "faults", command_env: dict[str, str] | None = None,
                 query_env: dict[str, str] | None = None, least_privilege: bool = False):
        """`command_env` and `query_env` are added to those services' settings (the fault
        suite's default lifts the password budgets); with `least_privilege` each service
        connects as its production role instead of the superuser."""
        self.root = root
        self.least_privilege = least_privilege
        self.home = root / ".dev" / suite
        self.logs = self.home / "logs"
        self.bin = root / "target" / "debug"
        (pg_port, broker_port, command_port, query_port, projector_port,
         command_admin_port, query_admin_port, notifier_port, smtp_port) = free_ports(9)
        self.pg = Postgres(self.home, pg_port, self.logs)
        self.broker_port = broker_port
        self.bootstrap = f"127.0.0.1:{broker_port}"
        self.admin_email = "faults-admin@faults.cloudcommerce.dev"
        self.admin_password = secrets.token_urlsafe(18)
        # The token signing key (command-api) and its public half (query-api), made by the
        # binary itself as `make up` does.
        self.signing_key = subprocess.run([str(self.bin / "command-api"), "keygen"], check=True,
                                          capture_output=True, text=True).stdout
        self.jwks = subprocess.run([str(self.bin / "command-api"), "jwks"], check=True,
                                   capture_output=True, text=True,
                                   env={**os.environ, "CC_AUTH__SIGNING_KEYS": self.signing_key}
                                   ).stdout.strip()
        self.master_key = base64.b64encode(secrets.token_bytes(32)).decode()
        self.broker = Child("broker", self.broker_argv(), self.logs / "broker.log",
                            env=self.base_env(), cwd=self.home)
        self.mail_dir = self.home / "mail"
        self.smtp_port = smtp_port
        self.mail_sink = Child("mail-sink", [str(self.bin / "mail-sink"), "--listen",
                                             f"127.0.0.1:{smtp_port}", "--dir", str(self.mail_dir)],
                               self.logs / "mail-sink.log", env=self.base_env(), cwd=self.home)
        self.command = Service("command-api", [str(self.bin / "command-api"), "serve"],
                               self.logs / "command-api.log", self.service_env(command_port, {
                                   "CC_BOOTSTRAP_ADMIN__EMAIL": self.admin_email,
                                   "CC_BOOTSTRAP_ADMIN__PASSWORD": self.admin_password,
                                   "CC_HTTP__ADMIN_PORT": str(command_admin_port),
                                   # The private key on the write side alone, as in production.
                                   "CC_AUTH__SIGNING_KEYS": self.signing_key,
                                   "CC_PERSONAL_DATA__MASTER_KEY": self.master_key,
                                   **(LIFTED_AUTH_BUDGETS if command_env is None else command_env),
                               }), command_port)
        self.projector = Service("projector", [str(self.bin / "projector"), "run"],
                                 self.logs / "projector.log", self.service_env(projector_port, {
                                     "CC_PROJECTOR__LAG_SAMPLE_INTERVAL_MS":
                                         str(LAG_SAMPLE_INTERVAL_MS),
                                     "CC_PERSONAL_DATA__MASTER_KEY": self.master_key,
                                 }), projector_port)
        # Set once the load runs: a service that cannot even start fails the run at once.
        self.restart_crashed = False
        self.crashes: list[dict] = []
        self.window: Callable[[], str] = lambda: "start-up"
        self.query = Service("query-api", [str(self.bin / "query-api")],
                             self.logs / "query-api.log", self.service_env(query_port, {
                                 "CC_HTTP__ADMIN_PORT": str(query_admin_port),
                                 "CC_AUTH__JWKS": self.jwks,
                                 **(query_env or {}),
                             }),
                             query_port)
        # Mail links name command-api: there is no shop site here, and the suites post a link's
        # token themselves.
        self.notifier = Service("notifier", [str(self.bin / "notifier"), "run"],
                                self.logs / "notifier.log", self.service_env(notifier_port, {
                                    "CC_SMTP__URL": f"smtp://127.0.0.1:{smtp_port}",
                                    "CC_MAIL__LINK_BASE_URL": f"http://127.0.0.1:{command_port}",
                                    "CC_PERSONAL_DATA__MASTER_KEY": self.master_key,
                                }), notifier_port)
        self.command_admin_port = command_admin_port
        self.query_admin_port = query_admin_port
        if least_privilege:
            for service in self.services:
                service.env["CC_DATABASE__URL"] = self.pg.url().replace(
                    "postgres@", f"{SERVICE_ROLES[service.name]}@", 1)

    @property
    def services(self) -> list[Service]:
        return [self.command, self.projector, self.query, self.notifier]

    def broker_argv(self) -> list[str]:
        url = f"tcp://127.0.0.1:{self.broker_port}"
        return ["tansu", "broker", "--listener-url", url, "--advertised-listener-url", url,
                "--storage-engine", "memory://tansu/"]

    def base_env(self) -> dict[str, str]:
        """The caller's environment without any CC_ setting (a sourced stack.env must not point
        a service at the shared stack), plus the mark."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("CC_") and k != "RUST_LOG"}
        env["PATH"] = f"{Path.home() / '.cargo' / 'bin'}:{env.get('PATH', '/usr/bin:/bin')}"
        env[MARK] = str(self.home)
        # Plain text logs: tracing's colours are escape codes in a file.
        env["NO_COLOR"] = "1"
        return env

    def service_env(self, port: int, extra: dict[str, str]) -> dict[str, str]:
        return {
            **self.base_env(),
            "CC_DATABASE__URL": self.pg.url(),
            "CC_KAFKA__BOOTSTRAP_SERVERS": self.bootstrap,
            "CC_KAFKA__USER_TOPIC": USER_TOPIC,
            "CC_KAFKA__PRODUCT_TOPIC": PRODUCT_TOPIC,
            "CC_KAFKA__PARTITIONS": str(PARTITIONS),
            "CC_HTTP__HOST": "127.0.0.1",
            "CC_HTTP__PORT": str(port),
            "RUST_LOG": "info",
            **extra,
        }

    # -- start and stop -------------------------------------------------------------------------

    def start(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        stop_leftovers(self.home)
        for old in self.logs.glob("*"):
            old.unlink()
        self.logs.mkdir(parents=True, exist_ok=True)
        self.pg.init()
        self.pg.start()
        self.pg.psql(f"CREATE DATABASE {DATABASE}", database="postgres")
        if self.least_privilege:
            self.pg.psql("".join(f"CREATE ROLE {role} LOGIN;\n" for role in SERVICE_ROLES.values()),
                         database="postgres")
        self.start_broker()
        self.start_mail_sink()
        # As the database owner, as the migration Job runs it: it grants the roles their rights.
        run_checked([str(self.bin / "command-api"), "migrate"], self.logs / "migrate.log",
                    timeout=120, env={**self.command.env, "CC_DATABASE__URL": self.pg.url()})
        # In dependency order: command-api creates the admin and the topics, the projector the
        # read schema that query-api's readiness needs; the notifier reads the user topic.
        for service in self.services:
            self.start_service(service)

    def start_broker(self) -> None:
        self.broker.start()
        wait_until("the broker's port", lambda: port_open(self.broker_port), START_TIMEOUT_S,
                   self.broker.check_alive)

    def start_mail_sink(self) -> None:
        """An empty mail folder each run: a suite counts the mails its own users were sent."""
        shutil.rmtree(self.mail_dir, ignore_errors=True)
        self.mail_dir.mkdir(parents=True)
        self.mail_sink.start()
        wait_until("the mail sink's port", lambda: port_open(self.smtp_port), START_TIMEOUT_S,
                   self.mail_sink.check_alive)

    def stop_broker(self) -> float:
        """SIGTERM and wait for the exit; returns how long it took. Escalates to SIGKILL past
        the grace period, and says so: a broker that ignores SIGTERM is a finding of its own."""
        started = time.monotonic()
        if self.broker.alive():
            os.kill(self.broker.pid, signal.SIGTERM)
            try:
                self.broker.proc.wait(timeout=BROKER_STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                self.broker.kill9()
                print(f"    broker ignored SIGTERM for {BROKER_STOP_GRACE_S} s; killed with -9")
        return time.monotonic() - started

    def start_service(self, service: Service) -> None:
        service.start()
        try:
            wait_until(f"{service.name} to be ready", service.ready, START_TIMEOUT_S, self.watch)
        except HarnessError as error:
            raise HarnessError(f"{error}; last lines of {service.log}:\n{tail(service.log)}") \
                from error

    def watch(self) -> None:
        """Raises when PostgreSQL or the broker died without the harness stopping it. A service
        that died by itself is reported loudly, recorded (it fails the run) and restarted, as
        its kubelet would, so the rest of the run still shows whether any write was lost; past
        MAX_CRASHES the run stops."""
        self.pg.check_alive()
        self.broker.check_alive()
        self.mail_sink.check_alive()
        self.watch_services()

    def watch_services(self) -> None:
        for service in self.services:
            try:
                service.check_alive()
            except HarnessError as crash:
                if not self.restart_crashed or len(self.crashes) >= MAX_CRASHES:
                    raise
                self.record_crash(service, crash)
                service.start()

    def record_crash(self, service: Service, crash: HarnessError) -> None:
        status = service.proc.returncode
        how = (f"signal {signal.Signals(-status).name}" if status < 0 else f"exit status {status}")
        self.crashes.append({"service": service.name, "how": how, "window": self.window(),
                             "at": time.strftime("%H:%M:%S"), "log_tail": tail(service.log)})
        print(f"!!! {service.name} died by itself ({how}) during '{self.window()}'; restarting it."
              f"\n!!! {crash}", flush=True)

    def close(self) -> None:
        """Stops everything this run started, readers of the database first."""
        for service in [self.query, self.projector, self.notifier, self.command]:
            service.stop(grace=10)
        self.mail_sink.stop(grace=5)
        self.broker.stop(grace=BROKER_STOP_GRACE_S)
        self.pg.stop()


def stop_leftovers(home: Path) -> None:
    """Stops processes carrying our mark: children of an earlier run that was killed -9."""
    mark = f"{MARK}={home}".encode()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            environ = (proc / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if mark in environ:
            try:
                os.kill(int(proc.name), signal.SIGKILL)
            except ProcessLookupError:
                pass
