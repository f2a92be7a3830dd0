#!/usr/bin/env python3
"""The security suite: every attack on accounts and access, against the real binaries, each with the outcome
that defends it asserted. `ci/test.sh` runs it through `run.sh`.

The stack is the fault suite's (ci/faults/stack.py) under .dev/security: its own PostgreSQL
cluster, in-memory Tansu broker and SMTP sink (.dev/security/mail), command-api, projector,
query-api and notifier from target/debug, each connecting as its production database role
(cc_writer, cc_projector, cc_reader, cc_notifier) after the migrations granted them their
rights. command-api believes one proxy hop, so an attack chooses its client network with
`X-Forwarded-For`; the password budgets are scaled down (passwords.py). A token the notifier
mailed is taken from the sink, as its owner would take it from their mail.

Attacks run one after another (passwords.py, sessions.py, mail_links.py, erasure.py,
surface.py); each prints
what the issue saw before and what this run saw. The table also goes to .dev/security/report.json.
Exit status 1 when any attack was not defended or the harness could not finish.

    bash ci/security/run.sh          # build, then this
"""

from __future__ import annotations

import json
import signal
import sys
import time
import traceback
from pathlib import Path

import erasure
import mail_links
import passwords
import sessions
import surface
from harness import Finding, Target
from stack import Stack

ROOT = Path(__file__).resolve().parent.parent.parent
REPORT = ROOT / ".dev" / "security" / "report.json"

COMMAND_ENV = {
    "CC_HTTP__TRUSTED_PROXY_HOPS": "1",
    "CC_AUTH__LOGIN_MAX_FAILURES": "5",
    "CC_AUTH__ACCOUNT_MAX_ATTEMPTS": "20",
    "CC_AUTH__CLIENT_MAX_ATTEMPTS": "30",
    "CC_AUTH__SIGN_UPS_PER_CLIENT": "10",
    "CC_AUTH__HASH_QUEUE_PER_CORE": "2",
    "CC_AUTH__HASH_WAIT_MS": "500",
}
GLOBAL_WINDOW_S = 1.1
QUERY_ENV = {"CC_QUERY__MAX_CONSISTENCY_WAITERS": str(surface.MAX_WAITERS)}


def interrupt(signum, _frame):
    raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")


def attack(target: Target, run) -> Finding:
    started = time.monotonic()
    try:
        finding = run(target)
    except Exception as error:  # a harness failure is a failed attack, with its trace
        finding = Finding(run.__name__, "", ok=False,
                          problems=[f"{error!r}\n{traceback.format_exc()}"])
    print(f"{'ok  ' if finding.ok else 'FAIL'} {finding.attack} ({time.monotonic() - started:.1f}"
          f" s)\n     before: {finding.before}\n     now:    {finding.now}", flush=True)
    for problem in finding.problems:
        print(f"     !! {problem}", flush=True)
    return finding


def main() -> int:
    signal.signal(signal.SIGTERM, interrupt)
    stack = Stack(ROOT, suite="security", command_env=COMMAND_ENV, query_env=QUERY_ENV,
                  least_privilege=True)
    findings: list[Finding] = []
    try:
        print("security: starting PostgreSQL, the broker, the mail sink and the four services",
              flush=True)
        stack.start()
        target = Target(stack)
        for run in (passwords.ATTACKS + sessions.ATTACKS + mail_links.ATTACKS + erasure.ATTACKS
                    + surface.ATTACKS):
            stack.watch()
            findings.append(attack(target, run))
            # The global password budget is per second: each attack starts with a fresh one.
            time.sleep(GLOBAL_WINDOW_S)
        findings.append(attack(target, surface.metrics_tell))
        stack.watch()
    except KeyboardInterrupt as stop:
        print(f"security: interrupted ({stop})", flush=True)
        return 1
    except Exception as error:
        print(f"security: the harness failed: {error}", flush=True)
        traceback.print_exc()
        return 1
    finally:
        stack.close()
    REPORT.write_text(json.dumps([f.__dict__ for f in findings], indent=2))
    failed = [f.attack for f in findings if not f.ok]
    print(f"security: {len(findings) - len(failed)} of {len(findings)} attacks defended"
          + (f"; NOT defended: {failed}" if failed else ""), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
