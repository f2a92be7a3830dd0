#!/usr/bin/env python3
"""The fault suite: the real binaries under a steady load through kills, a database crash and a
broker outage, then proof that no acknowledged write was lost on the way to the read side, and
no sign-up's verification mail on the way to the user.

It owns everything it runs, so it can run beside other tests on this machine: a fresh PostgreSQL
cluster (.dev/faults/pg), an in-memory Tansu broker, an SMTP sink (.dev/faults/mail), and
command-api, projector, query-api and notifier from target/debug, each on a free loopback port
in 25000-25999 (stack.py). 8 writers (sellers who verified their address from its mail), 2
readers and a registrant signing a user up every second (load.py) run throughout; the faults
(faults.py) come one after another, each followed by a quiet period:

  a. kill -9 command-api, restarted at once      b. kill -9 projector, restarted at once
  c. kill -9 query-api, restarted at once        d. PostgreSQL `pg_ctl -m immediate` stop, start
  e. broker stopped (SIGTERM) for 20 s, started again empty (the memory engine keeps nothing)
  f. kill -9 notifier while it mails a burst of 12 sign-ups, restarted at once

For each: seconds until every service answers 200 on /health/ready, until the read model's
tables hold every event recorded before the restore, until the projector's own freshness
report said so, and until every user signed up before the restore had its verification mail.
Then the load stops, the outbox drains, and verify.py asserts that every acknowledged
(id, version) is in es.events (as its own request's event), on the topics and in the read
model; that every acknowledged sign-up was mailed at least once (duplicates are counted); that
nothing was answered 5xx but 503; that each recovery kept its bound; that no service died by
itself (one that does is reported with its log, restarted, and fails the run); and that the
projector's freshness report never claimed less lag than the tables showed.
The table goes to stdout, the same as JSON to .dev/faults/report.json; logs stay in
.dev/faults/logs/. Exit status 1 when any assertion failed or the harness could not finish.

    bash ci/faults/run.sh                   # venv, build, then this with the venv's python
    python ci/faults/run.py --faults ad     # a subset, while working on one fault

Everything started is stopped on exit, on failure and on Ctrl-C / SIGTERM.
"""

from __future__ import annotations

import argparse
import secrets
import signal
import sys
import time
from pathlib import Path

import faults
import report
import verify
from client import probe
from load import Load
from procs import HarnessError
from stack import Stack

ROOT = Path(__file__).resolve().parent.parent.parent
REPORT = ROOT / ".dev" / "faults" / "report.json"
# Undisturbed load before the first fault: the reference row, and what "caught up" looks like.
BASELINE_S = 10.0


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--faults", default="".join(f.key for f in faults.FAULTS),
                        help="which faults to inject, in order (default: all, abcdef)")
    return parser.parse_args(argv)


def interrupt(signum, _frame):
    raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")


def baseline(stack: Stack, load: Load, watch) -> dict:
    """Lets the load run undisturbed (its window, "baseline", started with it) and samples the
    projector's freshness, to show the steady state the caught-up thresholds compare with."""
    lags, messages = [], []
    deadline = time.monotonic() + BASELINE_S
    while time.monotonic() < deadline:
        watch()
        answer = probe(stack.projector.port)
        load.recorder.probe_answered(answer.status if answer else None)
        freshness = (answer.json() or {}).get("freshness") if answer else None
        if isinstance(freshness, dict):
            lags.append(freshness.get("lag_seconds"))
            messages.append(freshness.get("lag_messages"))
        time.sleep(1)
    return {"lag_seconds_max": max(lags, default=None), "lag_messages_max": max(messages,
                                                                                 default=None)}


def exercise(stack: Stack, load: Load, selected: list[faults.Fault], result: dict) -> None:
    """Starts everything, runs the baseline and the faults, stops the load, checks."""
    stack.start()
    print(f"==> stack up: PostgreSQL :{stack.pg.port}, broker :{stack.broker_port}, "
          f"command-api :{stack.command.port}, projector :{stack.projector.port}, "
          f"query-api :{stack.query.port}", flush=True)
    load.start()
    stack.window = lambda: load.recorder.current.name
    stack.restart_crashed = True

    def watch():
        stack.watch()
        load.check()
    result["baseline"] = baseline(stack, load, watch)
    print(f"==> baseline: {result['baseline']}", flush=True)
    for fault in selected:
        faults.run_fault(fault, stack, load, watch, result["outcomes"])
    load.recorder.enter("after the faults")
    load.stop()
    print("==> load stopped; waiting for the outbox and the projection, then checking", flush=True)
    result["checks"], result["drain"] = verify.run_all(stack, load.recorder, result["outcomes"],
                                                       stack.watch)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    by_key = {f.key: f for f in faults.FAULTS}
    unknown = set(args.faults) - set(by_key)
    if unknown:
        sys.exit(f"unknown faults {sorted(unknown)}; choose from {''.join(by_key)}")
    selected = [by_key[k] for k in args.faults]
    # SIGINT too: a shell starts background jobs with it ignored, and Python then keeps it so.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, interrupt)

    started = time.monotonic()
    stack = Stack(ROOT)
    load = Load(stack.command.port, stack.query.port, (stack.admin_email, stack.admin_password),
                secrets.token_hex(4), stack.mail_dir)
    result: dict = {"outcomes": [], "checks": [], "drain": {}, "baseline": {}}
    error = None
    try:
        exercise(stack, load, selected, result)
    except HarnessError as failure:
        error = str(failure)
    except KeyboardInterrupt as stop:
        error = f"interrupted ({stop or 'SIGINT'})"
    finally:
        # A second Ctrl-C must not cut the clean-up short and leave a cluster running.
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)
        load.stopping.set()
        stack.close()
    return finish(stack, load, result, error, time.monotonic() - started)


def finish(stack: Stack, load: Load, result: dict, error: str | None, elapsed: float) -> int:
    rows = report.rows(load.recorder, result["outcomes"])
    checks = result["checks"]
    passed = error is None and bool(checks) and all(c.ok for c in checks)
    print()
    print(report.table(rows, load.recorder))
    print()
    if checks:
        print(report.checks_text(checks))
    if error:
        print(f"HARNESS ERROR: {error}")
    print(f"\nfaults: {'PASSED' if passed else 'FAILED'} in {elapsed:.0f} s; "
          f"logs in {stack.logs}, report in {REPORT}")
    report.write_json(REPORT, {
        "passed": passed,
        "error": error,
        "duration_s": round(elapsed, 1),
        "bounds": {"ready_s": faults.READY_BOUND_S, "caught_up_s": faults.CAUGHT_UP_BOUND_S,
                   "mailed_s": faults.MAILED_BOUND_S, "mail_drain_s": verify.MAIL_DRAIN_S,
                   "caught_up_lag_s": faults.CAUGHT_UP_LAG_S,
                   "caught_up_messages": faults.CAUGHT_UP_MESSAGES,
                   "drain_s": verify.DRAIN_TIMEOUT_S},
        "baseline_freshness": result["baseline"],
        "windows": rows,
        "probes": dict(load.recorder.probes),
        "drain": result["drain"],
        "checks": [vars(c) for c in checks],
        "server_errors": load.recorder.server_errors,
        "crashes": stack.crashes,
        "acknowledged": len(load.recorder.acked),
        "signed_up": len(load.recorder.registered),
    })
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
