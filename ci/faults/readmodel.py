"""What the harness reads straight from the read side's tables, without trusting any service's
own account of it: the active read schema, how many streams are behind the event store, and
which acknowledged writes the read model does not show yet.
"""

from __future__ import annotations

import re

from postgres import Postgres
from procs import HarnessError

EXAMPLES = 10

Acked = list[tuple[str, str, int]]


def active_schema(pg: Postgres) -> str:
    schema = pg.scalar("SELECT schema FROM read_meta.active")
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", schema):
        raise HarnessError(f"unexpected read schema name {schema!r}")
    return schema


def head_position(pg: Postgres) -> int:
    """The newest position in the event store: everything up to it is what "caught up" means
    after a fault."""
    return int(pg.scalar("SELECT coalesce(max(position), 0) FROM es.events"))


def progress(pg: Postgres, position: int) -> tuple[int, float]:
    """How many streams' newest event at or before `position` the read model has not applied,
    and how old the oldest event not applied yet is (0 when none): the real lag, to hold the
    projector's own report against."""
    schema = active_schema(pg)
    row = pg.psql(f"""
        WITH applied AS (SELECT stream_id, version FROM "{schema}".stream_versions)
        SELECT
          (SELECT count(*)
           FROM (SELECT stream_id, max(stream_version) AS version FROM es.events
                 WHERE position <= {int(position)} GROUP BY stream_id) recorded
           LEFT JOIN applied ON applied.stream_id = recorded.stream_id
           WHERE coalesce(applied.version, 0) < recorded.version),
          (SELECT coalesce(EXTRACT(EPOCH FROM clock_timestamp() - min(e.recorded_at)), 0)
           FROM es.events e LEFT JOIN applied ON applied.stream_id = e.stream_id
           WHERE e.stream_version > coalesce(applied.version, 0))""")[0]
    return int(row[0]), float(row[1])


def acked_table(acked: Acked) -> str:
    """SQL that loads the acknowledged writes into a temporary table `acked`."""
    rows = "".join(f"{kind}\t{stream_id}\t{version}\n" for kind, stream_id, version in acked)
    return ("CREATE TEMP TABLE acked (stream_type text, stream_id uuid, version bigint);\n"
            "COPY acked FROM STDIN;\n" + rows + "\\.\n")


def unmatched_acks(pg: Postgres, ack_log: list[dict]) -> list[dict]:
    """Acknowledged commands without their own event: no event carries the request's
    correlation id at the acknowledged (id, version). For a price change, `price_then` is the
    price in effect at that version: equal to the requested one, the command changed nothing."""
    null = "\\N"  # COPY's text format for NULL
    rows = "".join("\t".join([a["id"], str(a["version"]), a["correlation"], a["route"],
                              null if a["amount"] is None else str(a["amount"])]) + "\n"
                   for a in ack_log)
    found = pg.psql(
        "CREATE TEMP TABLE answered (stream_id uuid, version bigint, correlation uuid, "
        "route text, amount bigint);\nCOPY answered FROM STDIN;\n" + rows + "\\.\n" + """
        SELECT a.stream_id, a.version, a.correlation, a.route, a.amount,
               (SELECT (p.payload->'price'->>'amount_minor')::bigint FROM es.events p
                WHERE p.stream_id = a.stream_id AND p.stream_version <= a.version
                  AND p.event_type IN ('product.created', 'product.price_changed')
                ORDER BY p.stream_version DESC LIMIT 1)
        FROM answered a
        LEFT JOIN es.events e ON e.correlation_id = a.correlation
             AND e.stream_id = a.stream_id AND e.stream_version = a.version
        WHERE e.position IS NULL;""")
    return [{"id": r[0], "version": int(r[1]), "correlation": r[2], "route": r[3],
             "amount": int(r[4]) if r[4] else None, "price_then": int(r[5]) if r[5] else None}
            for r in found]


def missing_from_read_model(pg: Postgres, acked: Acked) -> tuple[int, list]:
    """Streams whose highest acknowledged version the read model has not applied: in
    stream_versions, and in the stream's row (products or users)."""
    schema = active_schema(pg)
    rows = pg.psql(acked_table(acked) + f"""
        SELECT count(*) OVER (), a.stream_type, a.stream_id, a.version,
               s.version, coalesce(p.version, u.version)
        FROM (SELECT stream_type, stream_id, max(version) AS version
              FROM acked GROUP BY stream_type, stream_id) a
        LEFT JOIN "{schema}".stream_versions s ON s.stream_id = a.stream_id
        LEFT JOIN "{schema}".products p ON a.stream_type = 'product' AND p.id = a.stream_id
        LEFT JOIN "{schema}".users u ON a.stream_type = 'user' AND u.id = a.stream_id
        WHERE s.version IS NULL OR s.version < a.version
           OR coalesce(p.version, u.version, 0) < a.version
        LIMIT {EXAMPLES};""")
    count = int(rows[0][0]) if rows else 0
    return count, [{"type": r[1], "id": r[2], "acked": int(r[3]), "stream_versions": r[4] or None,
                    "row_version": r[5] or None} for r in rows]


def missing_from_audit(pg: Postgres, acked: Acked) -> tuple[int, list]:
    """Acknowledged versions without their row in the read side's audit trail, which the
    projector writes for every event it applies: a version skipped on the way (a partition read
    from a stale offset) shows here even when a later version reached stream_versions."""
    schema = active_schema(pg)
    rows = pg.psql(acked_table(acked) + f"""
        SELECT count(*) OVER (), a.stream_type, a.stream_id, a.version FROM acked a
        WHERE NOT EXISTS (SELECT 1 FROM "{schema}".audit_events e
                          WHERE e.stream_id = a.stream_id AND e.version = a.version)
        LIMIT {EXAMPLES};""")
    count = int(rows[0][0]) if rows else 0
    return count, [{"type": r[1], "id": r[2], "version": int(r[3])} for r in rows]


def products_unlike_event_store(pg: Postgres, acked: Acked) -> tuple[int, list]:
    """Products of the load whose row differs from the newest event of their stream: version,
    price and stock (both events carry the resulting value)."""
    schema = active_schema(pg)
    rows = pg.psql(acked_table(acked) + f"""
        WITH streams AS (SELECT DISTINCT stream_id FROM acked WHERE stream_type = 'product'),
        latest AS (
            SELECT s.stream_id,
                   (SELECT max(stream_version) FROM es.events e
                    WHERE e.stream_id = s.stream_id) AS version,
                   (SELECT (payload->'price'->>'amount_minor')::bigint
                    FROM es.events e WHERE e.stream_id = s.stream_id
                      AND e.event_type IN ('product.created', 'product.price_changed')
                    ORDER BY stream_version DESC LIMIT 1) AS price,
                   (SELECT coalesce(payload->>'stock', payload->>'initial_stock')::bigint
                    FROM es.events e WHERE e.stream_id = s.stream_id
                      AND e.event_type IN ('product.created', 'product.stock_adjusted')
                    ORDER BY stream_version DESC LIMIT 1) AS stock
            FROM streams s)
        SELECT count(*) OVER (), l.stream_id, l.version, p.version, l.price, p.price_minor,
               l.stock, p.stock
        FROM latest l LEFT JOIN "{schema}".products p ON p.id = l.stream_id
        WHERE p.id IS NULL OR (p.version, p.price_minor, p.stock)
                              IS DISTINCT FROM (l.version, l.price, l.stock)
        LIMIT {EXAMPLES};""")
    count = int(rows[0][0]) if rows else 0
    return count, [{"id": r[1], "event_store": {"version": r[2], "price": r[4], "stock": r[6]},
                    "read_model": {"version": r[3], "price": r[5], "stock": r[7]}}
                   for r in rows]
