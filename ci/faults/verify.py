"""The assertions after the faults: once the load stopped and the outbox drained, every
acknowledged write is in the event store, on the topics and in the read model; every
acknowledged sign-up's verification mail reached the sink (at least once: duplicates are
counted, not refused); no request was answered with a 5xx other than 503; and every fault was
recovered from within its bounds.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

import mail
from faults import (CAUGHT_UP_BOUND_S, FRESHNESS_TOLERANCE_S, MAILED_BOUND_S, READY_BOUND_S,
                    Outcome)
from load import Recorder
from readmodel import (EXAMPLES, Acked, acked_table, active_schema, missing_from_audit,
                       missing_from_read_model, products_unlike_event_store, unmatched_acks)
from stack import PRODUCT_TOPIC, USER_TOPIC, Stack

# After the load stops: the relay publishes what is left within a second or two and the
# projector applies it as fast; 120 s covers a history being published again after fault (e).
DRAIN_TIMEOUT_S = 120.0
# Reading the topics back: done once no message came for this long.
KAFKA_IDLE_S = 5.0
KAFKA_FIRST_MESSAGE_S = 30.0
KAFKA_TIMEOUT_S = 120.0
# After the drain, how long the last sign-ups' verification mails may still take.
MAIL_DRAIN_S = 60.0


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    examples: list = field(default_factory=list)


def outbox_pending(stack: Stack) -> int:
    return int(stack.pg.scalar("SELECT count(*) FROM es.outbox"))


def wait_drained(stack: Stack, acked: Acked, watch: Callable[[], None]) -> dict:
    """Waits (bounded) for the outbox to empty, then for the read model to hold every
    acknowledged version; returns how long each took and what was left at the deadline."""
    started = time.monotonic()
    deadline = started + DRAIN_TIMEOUT_S
    result: dict = {"outbox_drained_s": None, "read_model_caught_up_s": None}
    while time.monotonic() < deadline:
        watch()
        result["outbox_left"] = outbox_pending(stack)
        if result["outbox_left"] == 0:
            result["outbox_drained_s"] = round(time.monotonic() - started, 1)
            break
        time.sleep(1)
    while time.monotonic() < deadline:
        watch()
        result["read_model_missing"], _ = missing_from_read_model(stack.pg, acked)
        if result["read_model_missing"] == 0:
            result["read_model_caught_up_s"] = round(time.monotonic() - started, 1)
            break
        time.sleep(1)
    return result


def check_event_store(stack: Stack, acked: Acked) -> Check:
    rows = stack.pg.psql(acked_table(acked) + f"""
        SELECT count(*) OVER (), a.stream_type, a.stream_id, a.version FROM acked a
        WHERE NOT EXISTS (SELECT 1 FROM es.events e
                          WHERE e.stream_id = a.stream_id AND e.stream_version = a.version)
        LIMIT {EXAMPLES};""")
    missing = int(rows[0][0]) if rows else 0
    return Check("(i) every acknowledged (id, version) is in es.events", missing == 0,
                 f"{len(acked)} acknowledged, {missing} missing",
                 [{"type": r[1], "id": r[2], "version": int(r[3])} for r in rows])


def check_own_events(stack: Stack, ack_log: list[dict]) -> Check:
    """Stronger than (i): each 2xx answer names the version its own request wrote, matched by
    the X-Correlation-Id it was sent with. Another command's event at the same version would
    pass (i) and hide a lost write."""
    unmatched = unmatched_acks(stack.pg, ack_log)
    no_ops = [u for u in unmatched
              if u["route"].endswith("/price") and u["amount"] == u["price_then"]]
    lost = [u for u in unmatched if u not in no_ops]
    by_correlation = {a["correlation"]: a for a in ack_log}
    for entry in lost:
        entry.update({k: by_correlation[entry["correlation"]][k] for k in ("window", "at")})
    return Check("(i') every acknowledged answer is its own request's event (by correlation id)",
                 not lost, f"{len(ack_log)} answers, {len(lost)} without their own event, "
                 f"{len(no_ops)} price changes to the current price (no event, as designed)",
                 lost[:EXAMPLES])


def published_pairs(bootstrap: str) -> tuple[set[tuple[str, int]], int]:
    """Every (ce_subject, ce_sequence) on both topics, read from the beginning, and how many
    messages carried them."""
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": bootstrap,
                         "group.id": f"faults-verify-{uuid.uuid4()}",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    try:
        metadata = consumer.list_topics(timeout=10)
        # Assigned, not subscribed: reading everything needs no group coordination, which only
        # adds a rebalance to wait for (the projector does not join groups either).
        partitions = [TopicPartition(topic, p, OFFSET_BEGINNING)
                      for topic in [USER_TOPIC, PRODUCT_TOPIC]
                      for p in (metadata.topics[topic].partitions if topic in metadata.topics
                                else {})]
        if not partitions:
            return set(), 0
        consumer.assign(partitions)
        pairs: set[tuple[str, int]] = set()
        messages = 0
        started = last_new = time.monotonic()
        while True:
            now = time.monotonic()
            idle_limit = KAFKA_IDLE_S if messages else KAFKA_FIRST_MESSAGE_S
            if now - last_new > idle_limit or now - started > KAFKA_TIMEOUT_S:
                break
            batch = consumer.consume(num_messages=1000, timeout=0.5)
            for message in batch:
                if message.error():
                    continue
                headers = {k: v for k, v in (message.headers() or [])}
                subject, sequence = headers.get("ce_subject"), headers.get("ce_sequence")
                if subject is not None and sequence is not None:
                    # int(): reads the zero-padded form and the plain one of older messages.
                    pairs.add((subject.decode(), int(sequence.decode())))
                messages += 1
            if batch:
                last_new = time.monotonic()
        return pairs, messages
    finally:
        consumer.close()


def check_published(stack: Stack, acked: Acked) -> Check:
    pairs, messages = published_pairs(stack.bootstrap)
    missing = [(kind, s, v) for kind, s, v in acked if (s, v) not in pairs]
    return Check("(ii) every acknowledged (id, version) was published", not missing,
                 f"{len(acked)} acknowledged, {len(missing)} missing; the topics hold "
                 f"{messages} messages, {len(pairs)} distinct (subject, sequence)",
                 [{"type": k, "id": s, "version": v} for k, s, v in missing[:EXAMPLES]])


def check_read_model(stack: Stack, acked: Acked) -> Check:
    count, examples = missing_from_read_model(stack.pg, acked)
    streams = len({s for _, s, _ in acked})
    return Check("(iii) every acknowledged (id, version) is in the read model", count == 0,
                 f"{streams} streams acknowledged, {count} behind in {active_schema(stack.pg)}",
                 examples)


def check_audit(stack: Stack, acked: Acked) -> Check:
    count, examples = missing_from_audit(stack.pg, acked)
    return Check("(iii') every acknowledged (id, version) was applied (read-side audit trail)",
                 count == 0, f"{len(acked)} acknowledged, {count} never applied", examples)


def check_fold(stack: Stack, acked: Acked) -> Check:
    count, examples = products_unlike_event_store(stack.pg, acked)
    return Check("(iii'') each product row equals its stream's newest event (version, price, "
                 "stock)", count == 0, f"{count} products differ", examples)


def check_no_server_errors(recorder: Recorder) -> Check:
    errors = recorder.server_errors
    by_route = Counter(f"{e['status']} {e['route']}" for e in errors)
    return Check("(iv) no answer 500-599 other than 503", not errors,
                 f"{len(errors)} such answers" + (f": {dict(by_route)}" if errors else ""),
                 errors[:EXAMPLES])


def check_recoveries(outcomes: list[Outcome]) -> Check:
    late = [o for o in outcomes if not o.within_bounds()]
    return Check(f"(v) each fault: ready within {READY_BOUND_S:.0f} s, caught up within "
                 f"{CAUGHT_UP_BOUND_S:.0f} s, earlier sign-ups mailed within "
                 f"{MAILED_BOUND_S:.0f} s", not late,
                 f"{len(outcomes) - len(late)} of {len(outcomes)} within bounds",
                 [{"fault": o.title, "ready_s": o.ready_s, "caught_up_s": o.caught_up_s,
                   "mailed_s": o.mailed_s} for o in late])


def check_mail(stack: Stack, recorder: Recorder, watch: Callable[[], None]) -> Check:
    """Every acknowledged sign-up's verification mail is in the sink, once the last ones had
    MAIL_DRAIN_S to arrive; more than one to an address is a duplicate (no one asked again)."""
    registered = list(recorder.registered)
    addresses = {r["email"] for r in registered}
    started = time.monotonic()
    missing = mail.unmailed(stack.mail_dir, addresses)
    while missing and time.monotonic() - started < MAIL_DRAIN_S:
        watch()
        time.sleep(0.5)
        missing = mail.unmailed(stack.mail_dir, addresses)
    counts = mail.verification_counts(stack.mail_dir)
    duplicated = {r["email"]: counts[r["email"]] for r in registered if counts[r["email"]] > 1}
    by_window = Counter(r["window"] for r in registered if r["email"] in duplicated)
    return Check("(viii) every acknowledged sign-up was mailed its verification link (at least "
                 "once)", not missing,
                 f"{len(addresses)} signed up, {len(missing)} never mailed; "
                 f"{sum(duplicated.values()) - len(duplicated)} duplicate mails to "
                 f"{len(duplicated)} addresses"
                 + (f" (signed up in: {dict(by_window)})" if duplicated else ""),
                 [r for r in registered if r["email"] in missing][:EXAMPLES])


def check_freshness_reports(outcomes: list[Outcome]) -> Check:
    """The projector's freshness report (which query-api's readiness repeats) is what tells an
    operator the catalog is stale; it must not report less lag than the tables show."""
    low = [o for o in outcomes if (o.freshness_underreport_s or 0) > FRESHNESS_TOLERANCE_S]
    return Check("(vii) the projector never reported less lag than the read model had (by more "
                 f"than {FRESHNESS_TOLERANCE_S:.0f} s)", not low,
                 f"{len(low)} faults under-reported" + "".join(
                     f"; {o.title}: by {o.freshness_underreport_s} s (caught up after "
                     f"{o.caught_up_s and round(o.caught_up_s, 1)} s, said so after "
                     f"{o.projector_fresh_s and round(o.projector_fresh_s, 1)} s)" for o in low),
                 [{"fault": o.title, "underreport_s": o.freshness_underreport_s,
                   "caught_up_s": o.caught_up_s, "projector_said_s": o.projector_fresh_s}
                  for o in low])


def check_well_formed(recorder: Recorder) -> Check:
    bad = recorder.malformed_acks
    return Check("every 2xx command answer is {id, version}", not bad,
                 f"{len(bad)} malformed", bad[:EXAMPLES])


def check_no_crashes(crashes: list[dict]) -> Check:
    return Check("(vi) no service died by itself", not crashes,
                 f"{len(crashes)} unexpected exits" + "".join(
                     f"; {c['service']} ({c['how']}) during '{c['window']}' at {c['at']}"
                     for c in crashes),
                 [{k: c[k] for k in ("service", "how", "window", "at")} for c in crashes])


def run_all(stack: Stack, recorder: Recorder, outcomes: list[Outcome],
            watch: Callable[[], None]) -> tuple[list[Check], dict]:
    acked = list(recorder.acked)
    drained = wait_drained(stack, acked, watch)
    checks = [
        Check(f"outbox drained within {DRAIN_TIMEOUT_S:.0f} s after the load",
              drained["outbox_drained_s"] is not None,
              f"{drained.get('outbox_left')} rows left, after {drained['outbox_drained_s']} s"),
        check_event_store(stack, acked),
        check_own_events(stack, list(recorder.ack_log)),
        check_published(stack, acked),
        check_read_model(stack, acked),
        check_audit(stack, acked),
        check_fold(stack, acked),
        check_no_server_errors(recorder),
        check_well_formed(recorder),
        check_recoveries(outcomes),
        check_no_crashes(stack.crashes),
        check_freshness_reports(outcomes),
        check_mail(stack, recorder, watch),
    ]
    return checks, drained
