"""The run's report: a table per fault window and the assertions' outcomes on stdout, the same
as JSON in .dev/faults/report.json."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from faults import Outcome, fmt
from load import Recorder
from verify import Check


def answers_text(answers: Counter) -> str:
    """`200:812 201:40 503:12 conn:7 timeout:1`: status codes in order, then the failures."""
    codes = sorted((k for k in answers if k.isdigit()), key=int)
    others = sorted(k for k in answers if not k.isdigit())
    return " ".join(f"{k}:{answers[k]}" for k in codes + others) or "-"


def rounded(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 1)


def rows(recorder: Recorder, outcomes: list[Outcome]) -> list[dict]:
    by_key = {f"{o.key}: {o.title}": o for o in outcomes}
    result = []
    for name, window in recorder.windows.items():
        outcome = by_key.get(name)
        result.append({
            "window": name,
            "acknowledged": window.acknowledged,
            "answers": dict(window.answers),
            "ready_s": rounded(outcome and outcome.ready_s),
            "caught_up_s": rounded(outcome and outcome.caught_up_s),
            "projector_said_caught_up_s": rounded(outcome and outcome.projector_fresh_s),
            "freshness_underreport_s": outcome and outcome.freshness_underreport_s,
            "mailed_s": rounded(outcome and outcome.mailed_s),
            "notes": outcome.notes if outcome else {},
            "failed_requests": window.failures,
            "refused_requests": window.refusals,
        })
    return result


def table(table_rows: list[dict], recorder: Recorder) -> str:
    header = ["fault", "writes acked", "answers by status", "ready (s)", "caught up (s)",
              "projector said (s)", "mailed (s)"]
    lines = [[r["window"], str(r["acknowledged"]), answers_text(Counter(r["answers"])),
              fmt(r["ready_s"]), fmt(r["caught_up_s"]), fmt(r["projector_said_caught_up_s"]),
              fmt(r["mailed_s"])]
             for r in table_rows]
    total = sum((Counter(r["answers"]) for r in table_rows), Counter())
    lines.append(["total", str(sum(r["acknowledged"] for r in table_rows)),
                  answers_text(total), "", "", "", ""])
    lines.append(["(readiness probes)", "", answers_text(recorder.probes), "", "", "", ""])
    widths = [max(len(row[i]) for row in [header, *lines]) for i in range(len(header))]

    def render(row):
        return " | ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip()
    rule = "-+-".join("-" * w for w in widths)
    return "\n".join([render(header), rule, *map(render, lines[:-2]), rule,
                      *map(render, lines[-2:])])


def checks_text(checks: list[Check]) -> str:
    out = []
    for check in checks:
        out.append(f"{'PASS' if check.ok else 'FAIL'}  {check.name}: {check.detail}")
        for example in check.examples[:5] if not check.ok else []:
            out.append(f"        {json.dumps(example)}")
    return "\n".join(out)


def write_json(path: Path, document: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")
