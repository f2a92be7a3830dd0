"""The faults, injected one after another under load, and how long the system takes to recover
from each: every service ready again, the read side caught up, and every user signed up before
the restore mailed their verification link.

Every time is measured from the moment the harness restored what it broke (the restart it
issued at once, as a kubelet would, or the broker's start after its outage), so they are the
system's own recovery, not the length of the outage.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import mail
from client import probe
from load import Load, Recorder
from procs import HarnessError, tail
from readmodel import head_position, progress
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
# Every user signed up before the restore mailed within 60 s: the notifier reads the same user
# topic as the projector, so its backlog after a fault is the same, plus one SMTP round trip to
# a local sink per mail; a person waiting for a link should wait no longer than a catalog reader.
MAILED_BOUND_S = 60.0
# Measured this long past a bound before giving up, so a miss reports by how much.
MEASURE_SLACK_S = 30.0
PROBE_INTERVAL_S = 0.25
# Between faults: the load runs undisturbed, so that each window starts from a healthy system.
QUIET_S = 8.0
BROKER_OUTAGE_S = 20.0
# The projector "says caught up" when its newest freshness sample, taken after the restore,
# reports at most this lag. Under the steady load a healthy projection samples at 0-0.2 s and a
# dozen messages in flight (the baseline line of the output).
CAUGHT_UP_LAG_S = 2.0
CAUGHT_UP_MESSAGES = 200
# How long to keep waiting for the projector to say caught up once the tables show it.
PROJECTOR_GRACE_S = 10.0
# Users signed up at once before the notifier is killed, and killed as soon as the first of their
# mails is in the sink: the rest are on their way through it, which is where a crash can lose a
# mail or send one twice.
BURST = 12
BURST_FIRST_MAIL_S = 30.0
# How much the projector's reported lag may fall short of the real one. By design it samples
# every 0.5 s and witnesses only the newest event of each stream type, so an older event left
# unapplied (a batch a database crash forgot) can go unseen for a sample or two; the harness
# also reads the tables a moment after the report. Seen: up to 1.5 s after fault (d).
FRESHNESS_TOLERANCE_S = 2.0


@dataclass
class Fault:
    key: str
    title: str
    inject: Callable[[Stack, Load], dict]


@dataclass
class Outcome:
    key: str
    title: str
    ready_s: float | None = None
    # The read model holds every event recorded before the restore (read from its tables).
    caught_up_s: float | None = None
    # The projector's own freshness report first said caught up.
    projector_fresh_s: float | None = None
    # Most the projector's reported lag fell short of the real one while catching up.
    freshness_underreport_s: float | None = None
    # Every user signed up before the restore had its verification mail in the sink.
    mailed_s: float | None = None
    notes: dict = field(default_factory=dict)

    def within_bounds(self) -> bool:
        return (self.ready_s is not None and self.ready_s <= READY_BOUND_S
                and self.caught_up_s is not None and self.caught_up_s <= CAUGHT_UP_BOUND_S
                and self.mailed_s is not None and self.mailed_s <= MAILED_BOUND_S)


def kill_and_restart(pick: Callable[[Stack], Service]) -> Callable[[Stack, Load], dict]:
    def inject(stack: Stack, _load: Load) -> dict:
        service = pick(stack)
        pid = service.pid
        service.kill9()
        service.start()
        return {"killed_pid": pid, "new_pid": service.pid}
    return inject


def kill_notifier_mid_burst(stack: Stack, load: Load) -> dict:
    """A burst of sign-ups, and kill -9 of the notifier once the first of their mails is in the
    sink; restarted at once."""
    since = time.time()
    prefix = load.burst(BURST)
    deadline = time.monotonic() + BURST_FIRST_MAIL_S
    mailed = 0
    while time.monotonic() < deadline and not mailed:
        stack.watch()
        mailed = mail.mailed_to_prefix(stack.mail_dir, prefix, after=since)
        time.sleep(0.02)
    if not mailed:
        raise HarnessError(f"no mail of the burst within {BURST_FIRST_MAIL_S:.0f} s; last lines "
                           f"of {stack.notifier.log}:\n{tail(stack.notifier.log)}")
    notes = kill_and_restart(lambda s: s.notifier)(stack, load)
    return {**notes, "burst": BURST, "burst_mailed_before_kill": mailed}


def crash_postgres(stack: Stack, _load: Load) -> dict:
    started = time.monotonic()
    stack.pg.crash()
    stack.pg.start()
    return {"down_s": round(time.monotonic() - started, 1)}


def broker_outage(stack: Stack, _load: Load) -> dict:
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
    Fault("f", f"kill -9 notifier amid {BURST} sign-ups", kill_notifier_mid_burst),
]


def run_fault(fault: Fault, stack: Stack, load: Load, watch: Callable[[], None],
              outcomes: list[Outcome]) -> None:
    """Injects `fault` in a window of its own, measures the recovery, then lets the load run
    quietly before the next one. The outcome joins `outcomes` at once, so that a run cut short
    still reports what was measured."""
    recorder = load.recorder
    recorder.enter(f"{fault.key}: {fault.title}")
    print(f"==> fault {fault.key}: {fault.title}", flush=True)
    outcome = Outcome(fault.key, fault.title)
    outcomes.append(outcome)
    outcome.notes = fault.inject(stack, load)
    measure_recovery(stack, recorder, outcome, time.monotonic(), watch)
    print(f"    ready after {fmt(outcome.ready_s)} s, caught up after {fmt(outcome.caught_up_s)} s"
          f" (the projector said so after {fmt(outcome.projector_fresh_s)} s), every user signed"
          f" up before mailed after {fmt(outcome.mailed_s)} s", flush=True)
    pause(QUIET_S, watch)


def measure_recovery(stack: Stack, recorder: Recorder, outcome: Outcome, since: float,
                     watch: Callable[[], None]) -> None:
    """Fills `outcome` with the seconds from `since` until every service answered 200 on
    /health/ready in one round, until the read model applied every event recorded before then,
    until the projector said so itself, and until every user signed up before then had its
    verification mail in the sink; None past bound + slack.

    "Caught up" is read from the tables, not taken from the projector's freshness report, which
    is itself under test: the report is held against the tables' real lag while the projection
    catches up (`freshness_underreport_s`)."""
    position = first_answer(lambda: head_position(stack.pg))
    signed_up = recorder.registered_addresses()
    deadline = since + max(READY_BOUND_S, CAUGHT_UP_BOUND_S, MAILED_BOUND_S) + MEASURE_SLACK_S
    while time.monotonic() < deadline and not recovered(outcome, time.monotonic() - since):
        watch()
        answers = {service.name: probe(service.port) for service in stack.services}
        for answer in answers.values():
            recorder.probe_answered(answer.status if answer else None)
        elapsed = time.monotonic() - since
        if outcome.ready_s is None and all(a is not None and a.status == 200
                                           for a in answers.values()):
            outcome.ready_s = elapsed
        freshness = projector_freshness(answers[stack.projector.name])
        if outcome.projector_fresh_s is None and says_caught_up(freshness, elapsed):
            outcome.projector_fresh_s = elapsed
        if outcome.caught_up_s is None:
            behind, real_lag = read_progress(stack, position)
            if behind == 0:
                outcome.caught_up_s = elapsed
            elif behind and freshness:
                note_underreport(outcome, freshness, real_lag)
        if outcome.mailed_s is None and not mail.unmailed(stack.mail_dir, signed_up):
            outcome.mailed_s = elapsed
        time.sleep(PROBE_INTERVAL_S)


def recovered(outcome: Outcome, elapsed: float) -> bool:
    """Ready, caught up and mailed, and the projector said so too (or had a fair chance to)."""
    if outcome.ready_s is None or outcome.caught_up_s is None or outcome.mailed_s is None:
        return False
    return (outcome.projector_fresh_s is not None
            or elapsed > outcome.caught_up_s + PROJECTOR_GRACE_S)


def first_answer(query: Callable[[], int], timeout: float = 10.0) -> int:
    """A query's answer, asked again while a just restarted database refuses it."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return query()
        except HarnessError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(PROBE_INTERVAL_S)


def read_progress(stack: Stack, position: int) -> tuple[int | None, float]:
    try:
        return progress(stack.pg, position)
    except HarnessError:
        return None, 0.0  # the database is still coming back; asked again next round


def projector_freshness(answer) -> dict | None:
    if answer is None or answer.status != 200:
        return None
    freshness = (answer.json() or {}).get("freshness")
    return freshness if isinstance(freshness, dict) else None


def says_caught_up(freshness: dict | None, elapsed: float) -> bool:
    """The projector's readiness body: a freshness sample newer than the restore (an older one
    describes the system before the fault) with little lag left."""
    if freshness is None:
        return False
    return (freshness.get("sampled_seconds_ago", float("inf")) < elapsed
            and freshness.get("lag_seconds", float("inf")) <= CAUGHT_UP_LAG_S
            and freshness.get("lag_messages", CAUGHT_UP_MESSAGES + 1) <= CAUGHT_UP_MESSAGES)


def note_underreport(outcome: Outcome, freshness: dict, real_lag: float) -> None:
    """The oldest event the read model lacks is `real_lag` old now, and was not applied when the
    projector took its sample either, so the real lag then was `real_lag - sampled_seconds_ago`;
    a reported lag below that is an under-report."""
    sample_age = freshness.get("sampled_seconds_ago")
    reported = freshness.get("lag_seconds")
    if not isinstance(sample_age, (int, float)) or not isinstance(reported, (int, float)):
        return
    underreport = (real_lag - sample_age) - reported
    if underreport > (outcome.freshness_underreport_s or 0.0):
        outcome.freshness_underreport_s = round(underreport, 1)


def pause(seconds: float, watch: Callable[[], None]) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        watch()
        time.sleep(0.25)


def fmt(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:.1f}"
