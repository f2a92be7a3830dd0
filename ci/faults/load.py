"""The steady load that runs through every fault: writer threads that change their own products
on command-api, reader threads on query-api, a registrant that signs a new user up every second
(each is mailed a verification link by the notifier), and the record of everything they saw.

A writer becomes a seller as a person would: it signs up, takes the token from the verification
mail in the suite's SMTP sink, verifies its address, and the admin promotes it.

Every answer is counted by status in the fault window it arrived in (connection errors and
time-outs apart), every 2xx command answer's (id, version) is kept as acknowledged with the
correlation id its request carried, and every 5xx other than 503 is kept with its body as
evidence.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import mail
from client import Answer, Client, RequestFailed
from procs import HarnessError

WRITERS = 8
READERS = 2
# One sign-up a second throughout the run: every fault window has users whose verification mail
# must reach the sink, and an argon2 hash a second leaves the 2 cores to the rest of the load.
REGISTER_PAUSE_S = 1.0
PRODUCTS_PER_WRITER = 3
# Short, so that a request stuck on a dead dependency is counted within its fault window; the
# services' own bounds (pool acquire 2 s, statements 5 s, consistency wait 2 s) fit inside it.
REQUEST_TIMEOUT_S = 5.0
# At most 25 writes/s per writer (the brief's 20-50), 20 reads/s per reader: a steady load the
# debug binaries keep up with on 2 cores, so that lag measures the faults and not overload.
WRITE_PAUSE_S = 0.04
READ_PAUSE_S = 0.05
# After a failed request, as a client would: no tight loop of refused connections.
BACKOFF_S = 0.1
CONSISTENCY_SHARE = 0.3
SETUP_TIMEOUT_S = 180
SELLER_PASSWORD = "faults-seller-password"
# Kept per window as evidence: the first few failed requests, and of each 4xx/5xx status.
FAILURE_EXAMPLES = 5
REFUSAL_EXAMPLES = 3


@dataclass
class Window:
    """What the load saw between one fault's start and the next's."""
    name: str
    answers: Counter = field(default_factory=Counter)
    acknowledged: int = 0
    failures: list[str] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)


class Recorder:
    """Shared by every load thread; every method takes the lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.windows: dict[str, Window] = {}
        self.current = self.enter("setup")
        # (stream type, stream id, version) of every 2xx command answer, and beside it what
        # identifies the request: its X-Correlation-Id (recorded with its events), route and
        # requested price, so that each answer can be matched with its own event.
        self.acked: list[tuple[str, str, int]] = []
        self.ack_log: list[dict] = []
        self.latest_product: dict[str, int] = {}
        self.server_errors: list[dict] = []
        self.malformed_acks: list[dict] = []
        self.probes: Counter = Counter()
        # Every acknowledged sign-up: {"id", "email", "window", "at" (unix seconds)}.
        self.registered: list[dict] = []

    def enter(self, name: str) -> Window:
        """Starts a window: answers arriving from now on are counted in it."""
        with self.lock:
            self.windows[name] = self.current = Window(name)
            return self.current

    def answered(self, window: Window, route: str, answer: Answer) -> None:
        with self.lock:
            window.answers[str(answer.status)] += 1
            if answer.status >= 400 and window.answers[str(answer.status)] <= REFUSAL_EXAMPLES:
                window.refusals.append(f"{time.strftime('%H:%M:%S')} {answer.status} {route}: "
                                       f"{answer.body[:200].decode('utf-8', 'replace')}")
            if answer.status >= 500 and answer.status != 503:
                self.server_errors.append({
                    "window": window.name, "route": route, "status": answer.status,
                    "at": time.strftime("%H:%M:%S"),
                    "body": answer.body[:400].decode("utf-8", "replace")})

    def failed(self, window: Window, kind: str, route: str, detail: str) -> None:
        with self.lock:
            window.answers[kind] += 1
            # A few per window, to tell a restart's refused connections from anything odd.
            if len(window.failures) < FAILURE_EXAMPLES:
                window.failures.append(f"{time.strftime('%H:%M:%S')} {route}: {detail}")

    def acknowledged(self, window: Window, stream_type: str, route: str, answer: Answer,
                     request: dict) -> tuple[str, int] | None:
        body = answer.json()
        if not (isinstance(body, dict) and isinstance(body.get("id"), str)
                and isinstance(body.get("version"), int)):
            with self.lock:
                self.malformed_acks.append({"route": route, "status": answer.status,
                                            "body": answer.body[:400].decode("utf-8", "replace")})
            return None
        stream_id, version = body["id"], body["version"]
        with self.lock:
            window.acknowledged += 1
            self.acked.append((stream_type, stream_id, version))
            self.ack_log.append({"type": stream_type, "id": stream_id, "version": version,
                                 "route": route, "window": window.name,
                                 "at": time.strftime("%H:%M:%S"), **request})
            if stream_type == "product":
                self.latest_product[stream_id] = max(version, self.latest_product.get(stream_id, 0))
        return stream_id, version

    def signed_up(self, window: Window, user_id: str, email: str) -> None:
        with self.lock:
            self.registered.append({"id": user_id, "email": email, "window": window.name,
                                    "at": time.time()})

    def registered_addresses(self) -> set[str]:
        with self.lock:
            return {r["email"] for r in self.registered}

    def probe_answered(self, status: int | None) -> None:
        with self.lock:
            self.probes["conn" if status is None else str(status)] += 1
            if status is not None and status >= 500 and status != 503:
                self.server_errors.append({"window": self.current.name, "route": "probe",
                                           "status": status, "at": time.strftime("%H:%M:%S"),
                                           "body": ""})

    def random_product(self) -> tuple[str, int] | None:
        with self.lock:
            if not self.latest_product:
                return None
            stream_id = random.choice(list(self.latest_product))
            return stream_id, self.latest_product[stream_id]


class Load:
    """The writer and reader threads, from sign-up to stop."""

    def __init__(self, command_port: int, query_port: int, admin: tuple[str, str], run_id: str,
                 mail_dir: Path):
        self.command_port = command_port
        self.query_port = query_port
        self.admin = admin
        self.run_id = run_id
        self.mail_dir = mail_dir
        self.recorder = Recorder()
        self.stopping = threading.Event()
        # Released when every writer is set up; the load's first window starts at that moment.
        self.ready = threading.Barrier(WRITERS + 1,
                                       action=lambda: self.recorder.enter("baseline"))
        self.threads: list[threading.Thread] = []
        self.errors: list[str] = []

    # -- one request ----------------------------------------------------------------------------

    def call(self, client: Client, method: str, path: str, route: str, body=None,
             token: str | None = None, headers=None) -> Answer | None:
        try:
            answer = client.request(method, path, body, token, headers)
        except RequestFailed as failure:
            self.recorder.failed(self.recorder.current, failure.kind, route, str(failure))
            time.sleep(BACKOFF_S)
            return None
        # Counted in the window the answer arrived in: a request cut off by a kill belongs to
        # the kill's window, though it was sent just before.
        self.recorder.answered(self.recorder.current, route, answer)
        return answer

    def command(self, client: Client, method: str, path: str, route: str, stream_type: str,
                body=None, token=None) -> tuple[Answer | None, tuple[str, int] | None]:
        """A command: its 2xx answer's (id, version) is recorded as acknowledged, with the
        correlation id it was sent with."""
        correlation = str(uuid.uuid4())
        answer = self.call(client, method, path, route, body, token,
                           {"x-correlation-id": correlation})
        if answer is None or not 200 <= answer.status < 300:
            return answer, None
        window = self.recorder.current
        amount = (body or {}).get("amount_minor") if route.endswith("/price") else None
        return answer, self.recorder.acknowledged(
            window, stream_type, route, answer, {"correlation": correlation, "amount": amount})

    # -- start and stop -------------------------------------------------------------------------

    def start(self) -> None:
        """Signs the writers up (in parallel: each sign-up hashes a password), then lets every
        thread loop. Returns once the load runs."""
        client = Client(self.command_port, 30)
        admin_token = self.sign_in(client, *self.admin)
        for index in range(WRITERS):
            self.spawn(f"writer-{index}", self.writer, index, admin_token)
        try:
            self.ready.wait(timeout=SETUP_TIMEOUT_S)
        except threading.BrokenBarrierError as error:
            raise HarnessError(f"writers could not set up: {self.errors or 'timed out'}") \
                from error
        for index in range(READERS):
            self.spawn(f"reader-{index}", self.reader)
        self.spawn("registrant", self.registrant)

    def spawn(self, name: str, target, *args) -> None:
        def guarded():
            try:
                target(*args)
            except Exception as error:  # reported by check(), which fails the run
                self.errors.append(f"{name}: {error!r}")
                self.ready.abort()
        thread = threading.Thread(target=guarded, name=name, daemon=True)
        thread.start()
        self.threads.append(thread)

    def check(self) -> None:
        if self.errors:
            raise HarnessError(f"a load thread failed: {self.errors}")

    def stop(self) -> None:
        self.stopping.set()
        deadline = time.monotonic() + REQUEST_TIMEOUT_S + 5
        for thread in self.threads:
            thread.join(timeout=max(0.1, deadline - time.monotonic()))
        stuck = [t.name for t in self.threads if t.is_alive()]
        if stuck:
            raise HarnessError(f"load threads did not stop: {stuck}")

    # -- the threads ----------------------------------------------------------------------------

    def sign_in(self, client: Client, email: str, password: str) -> str:
        answer = self.call(client, "POST", "/v1/sessions", "POST /v1/sessions",
                           {"email": email, "password": password})
        if answer is None or answer.status != 200:
            raise HarnessError(f"signing in as {email} failed: "
                               f"{answer and (answer.status, answer.body[:300])}")
        return answer.json()["access_token"]

    def setup_required(self, result, what: str) -> tuple[str, int]:
        answer, acked = result
        if acked is None:
            raise HarnessError(f"{what} failed: {answer and (answer.status, answer.body[:300])}")
        return acked

    def sign_up(self, client: Client, email: str, display_name: str):
        """POST /v1/users; an acknowledged sign-up is also recorded as one whose verification
        mail must arrive."""
        window = self.recorder.current
        answer, acked = self.command(client, "POST", "/v1/users", "POST /v1/users", "user", {
            "email": email, "password": SELLER_PASSWORD, "display_name": display_name})
        if acked is not None:
            self.recorder.signed_up(window, acked[0], email)
        return answer, acked

    def writer(self, index: int, admin_token: str) -> None:
        client = Client(self.command_port, REQUEST_TIMEOUT_S * 6)
        email = f"seller-{self.run_id}-{index}@faults.cloudcommerce.dev"
        user_id, _ = self.setup_required(self.sign_up(client, email, f"Seller {index}"),
                                         "registering a seller")
        # Only a verified address may be promoted: the token comes from the mail, as a person's.
        token = mail.verification_token(self.mail_dir, email, user_id)
        self.setup_required(self.command(
            client, "POST", f"/v1/users/{user_id}/email-verification",
            "POST /v1/users/{id}/email-verification", "user", {"token": token}),
            "verifying a seller's address")
        self.setup_required(self.command(
            client, "PUT", f"/v1/users/{user_id}/role", "PUT /v1/users/{id}/role", "user",
            {"role": "seller"}, admin_token), "promoting a seller")
        token = self.sign_in(client, email, SELLER_PASSWORD)
        products = [self.create_product(client, token, index, n)
                    for n in range(PRODUCTS_PER_WRITER)]
        self.ready.wait(timeout=SETUP_TIMEOUT_S)
        client.timeout = REQUEST_TIMEOUT_S
        client.close()
        prices = dict.fromkeys(products, 2599)
        while not self.stopping.is_set():
            product = random.choice(products)
            if random.random() < 0.5:
                # Never the price it has: a change to the same price records no event and
                # answers the current version again, which would blur the check of every
                # answer against its own event.
                price = random.randrange(100, 100_000)
                while price == prices[product]:
                    price = random.randrange(100, 100_000)
                _, acked = self.command(client, "PUT", f"/v1/products/{product}/price",
                                        "PUT /v1/products/{id}/price", "product",
                                        {"amount_minor": price, "currency": "EUR"}, token)
                if acked:
                    prices[product] = price
            else:
                self.command(client, "POST", f"/v1/products/{product}/stock-adjustments",
                             "POST /v1/products/{id}/stock-adjustments", "product",
                             {"delta": 1, "reason": "restock"}, token)
            time.sleep(WRITE_PAUSE_S)

    def create_product(self, client: Client, token: str, writer: int, n: int) -> str:
        sku = f"FLT-{self.run_id}-{writer}-{n}".upper()
        product_id, _ = self.setup_required(self.command(
            client, "POST", "/v1/products", "POST /v1/products", "product",
            {"sku": sku, "name": f"Fault kettle {writer}.{n}", "description": "Boils water.",
             "category": "kitchen", "price": {"amount_minor": 2599, "currency": "EUR"},
             "stock": 10}, token), "creating a product")
        # Published, so that anonymous readers see it.
        self.setup_required(self.command(
            client, "POST", f"/v1/products/{product_id}/publish", "POST /v1/products/{id}/publish",
            "product", None, token), "publishing a product")
        return product_id

    def registrant(self) -> None:
        client = Client(self.command_port, REQUEST_TIMEOUT_S)
        n = 0
        while not self.stopping.is_set():
            n += 1
            self.sign_up(client, f"member-{self.run_id}-{n}@faults.cloudcommerce.dev",
                         f"Member {n}")
            time.sleep(REGISTER_PAUSE_S)

    def burst(self, count: int) -> str:
        """Signs `count` users up at once, in the background (joined by `stop`); returns the
        prefix of their addresses."""
        prefix = f"burst-{self.run_id}-{uuid.uuid4().hex[:6]}"

        def sign_up(n: int) -> None:
            client = Client(self.command_port, REQUEST_TIMEOUT_S)
            try:
                self.sign_up(client, f"{prefix}-{n}@faults.cloudcommerce.dev", f"Burst {n}")
            finally:
                client.close()

        def run() -> None:
            with ThreadPoolExecutor(max_workers=count) as pool:
                list(pool.map(sign_up, range(count)))
        self.spawn(prefix, run)
        return prefix

    def reader(self) -> None:
        client = Client(self.query_port, REQUEST_TIMEOUT_S)
        while not self.stopping.is_set():
            picked = self.recorder.random_product()
            if picked is None or random.random() < 0.4:
                self.call(client, "GET", "/v1/products?limit=20", "GET /v1/products")
            else:
                product, version = picked
                headers = None
                if random.random() < CONSISTENCY_SHARE:
                    headers = {"consistency-token": f"{product}:{version}"}
                self.call(client, "GET", f"/v1/products/{product}", "GET /v1/products/{id}",
                          headers=headers)
            time.sleep(READ_PAUSE_S)
