"""The faults, injected one after another under load, and how long the system takes to recover
from each: every service ready again, and the read side caught up.

Both times are measured from the moment the harness restored what it broke (the restart it
issued at once, as a kubelet would, or the broker's start after its outage), so they are the
system's own recovery, not the length of the outage.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

from client import probe
from load import Recorder
from stack import Service, Stack

# Ready again within 30 s: a debug binary starts in one or two seconds here, pools reconnect to a
# restarted PostgreSQL within their 2 s acquire time-out, and librdkafka reconnects to a broker
# within its 1 s backoff. 30 s leaves room for a busy 2-core machine and is what a kubelet's
# default readiness probing (period 10 s, three failures) tolerates before anyone notices.
READY_BOUND_S = 30.0
# Caught up within 60 s: the projection's backlog after any of these faults is at most what the
# load wrote during the outage plus, after the broker lost its topics, the whole history again
# (a few thousand events, which the memory engine and the projector take in seconds); the relay
# notices an emptied partition within 10 s (`log_check`).
CAUGHT_UP_BOUND_S = 60.0
# Measured this long past a bound before giving up, so a miss reports by how much.
MEASURE_SLACK_S = 30.0
PROBE_INTERVAL_S = 0.25
# Between faults: the load runs undisturbed, so that each window starts from a healthy system.
QUIET_S = 8.0
BROKER_OUTAGE_S = 20.0
# "Caught up": the projector's newest freshness sample, taken after the restore, says the read
# model is at most this far behind its sources. Under the steady load a healthy projection
# samples at 0-1 s and a few dozen messages in flight (see the baseline row of the report).
CAUGHT_UP_LAG_S = 2.0
CAUGHT_UP_MESSAGES = 200


@dataclass
class Fault:
    key: str
    title: str
    inject: Callable[[Stack], dict]


@dataclass
class Outcome:
    key: str
    title: str
    ready_s: float | None = None
    caught_up_s: float | None = None
    notes: dict = field(default_factory=dict)

    def within_bounds(self) -> bool:
        return (self.ready_s is not None and self.ready_s <= READY_BOUND_S
                and self.caught_up_s is not None and self.caught_up_s <= CAUGHT_UP_BOUND_S)


def kill_and_restart(pick: Callable[[Stack], Service]) -> Callable[[Stack], dict]:
    def inject(stack: Stack) -> dict:
        service = pick(stack)
        pid = service.pid
        service.kill9()
        service.start()
        return {"killed_pid": pid, "new_pid": service.pid}
    return inject


def crash_postgres(stack: Stack) -> dict:
    started = time.monotonic()
    stack.pg.crash()
    stack.pg.start()
    return {"down_s": round(time.monotonic() - started, 1)}


def broker_outage(stack: Stack) -> dict:
    stopping_s = stack.stop_broker()
    deadline = time.monotonic() + BROKER_OUTAGE_S
    while time.monotonic() < deadline:
        # The broker is meant to be gone; everything else must survive its absence.
        stack.pg.check_alive()
        stack.watch_services()
        time.sleep(0.25)
    stack.start_broker()
    return {"sigterm_to_exit_s": round(stopping_s, 1), "outage_s": BROKER_OUTAGE_S}


FAULTS = [
    Fault("a", "kill -9 command-api", kill_and_restart(lambda s: s.command)),
    Fault("b", "kill -9 projector", kill_and_restart(lambda s: s.projector)),
    Fault("c", "kill -9 query-api", kill_and_restart(lambda s: s.query)),
    Fault("d", "PostgreSQL crash + restart", crash_postgres),
    Fault("e", f"broker down {BROKER_OUTAGE_S:.0f} s (memory engine)", broker_outage),
]


def run_fault(fault: Fault, stack: Stack, recorder: Recorder, watch: Callable[[], None]) -> Outcome:
    """Injects `fault` in a window of its own, measures the recovery, then lets the load run
    quietly before the next one."""
    recorder.enter(f"{fault.key}: {fault.title}")
    print(f"==> fault {fault.key}: {fault.title}", flush=True)
    outcome = Outcome(fault.key, fault.title)
    outcome.notes = fault.inject(stack)
    restored = time.monotonic()
    outcome.ready_s, outcome.caught_up_s = measure_recovery(stack, recorder, restored, watch)
    print(f"    ready after {fmt(outcome.ready_s)} s, caught up after {fmt(outcome.caught_up_s)} s",
          flush=True)
    pause(QUIET_S, watch)
    return outcome


def measure_recovery(stack: Stack, recorder: Recorder, since: float,
                     watch: Callable[[], None]) -> tuple[float | None, float | None]:
    """Seconds from `since` until every service answered 200 on /health/ready in one round, and
    until the projector reported the read side caught up; None past bound + slack."""
    ready_s = caught_up_s = None
    deadline = since + max(READY_BOUND_S, CAUGHT_UP_BOUND_S) + MEASURE_SLACK_S
    while time.monotonic() < deadline and (ready_s is None or caught_up_s is None):
        watch()
        answers = {service.name: probe(service.port) for service in stack.services}
        for answer in answers.values():
            recorder.probe_answered(answer.status if answer else None)
        elapsed = time.monotonic() - since
        if ready_s is None and all(a is not None and a.status == 200 for a in answers.values()):
            ready_s = elapsed
        if caught_up_s is None and caught_up(answers[stack.projector.name], elapsed):
            caught_up_s = elapsed
        time.sleep(PROBE_INTERVAL_S)
    return ready_s, caught_up_s


def caught_up(answer, elapsed: float) -> bool:
    """The projector's readiness body: a freshness sample newer than the restore (an older one
    describes the system before the fault) with little lag left."""
    if answer is None or answer.status != 200:
        return False
    freshness = (answer.json() or {}).get("freshness")
    if not isinstance(freshness, dict):
        return False
    return (freshness.get("sampled_seconds_ago", float("inf")) < elapsed
            and freshness.get("lag_seconds", float("inf")) <= CAUGHT_UP_LAG_S
            and freshness.get("lag_messages", CAUGHT_UP_MESSAGES + 1) <= CAUGHT_UP_MESSAGES)


def pause(seconds: float, watch: Callable[[], None]) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        watch()
        time.sleep(0.25)


def fmt(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:.1f}"
