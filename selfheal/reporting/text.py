"""Plain-text tables for people: the plan of a pass, what it did, the history file."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from selfheal.findings import ActionOutcome, Finding, HistoryEntry, Plan
from selfheal.reporting.risk import RiskReport


def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    cells = [[str(c) for c in headers], *[[str(c) for c in r] for r in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells)


def findings_table(findings: Sequence[Finding]) -> str:
    if not findings:
        return "no findings"
    return table(
        ["SEVERITY", "DETECTOR", "WORKLOAD", "CAUSE", "SUMMARY"],
        [(f.severity.label, f.detector, f.workload, f.cause.code.value, f.cause.summary) for f in findings],
    )


def plan_table(the_plan: Plan) -> str:
    rows = [("approve", a.action.value, a.target, a.reason, a.summary) for a in the_plan.approved]
    rows += [("skip", s.action.action.value, s.action.target, s.code.value, s.text) for s in the_plan.skipped]
    if not rows:
        return "nothing to do"
    return table(["DECISION", "ACTION", "TARGET", "REASON", "WHY"], rows)


def outcomes_table(outcomes: Sequence[ActionOutcome]) -> str:
    if not outcomes:
        return "nothing to do"
    return table(
        ["RESULT", "ACTION", "TARGET", "REASON", "DETAIL"],
        [(o.result.value, o.action.action.value, o.action.target, o.reason, o.message) for o in outcomes],
    )


def risk_line(report: RiskReport) -> str:
    top = sorted(report.factors, key=lambda f: f.contribution, reverse=True)[:3]
    parts = (
        ", ".join(f"{f.name} {f.contribution:.2f}" for f in top if f.contribution > 0)
        or "no contributing factor"
    )
    return f"risk {report.risk_score:.2f} ({report.level}): {parts}"


def history_table(entries: Sequence[HistoryEntry]) -> str:
    if not entries:
        return "no history yet"
    return table(
        ["TIME", "RUN", "ACTION", "TARGET", "RESULT", "REASON"],
        [
            (
                e.ts.strftime("%Y-%m-%d %H:%M:%S"),
                e.run_id[:8],
                e.action,
                f"{e.kind}/{e.name}",
                e.result,
                _reason(e),
            )
            for e in entries
        ],
    )


def _reason(e: HistoryEntry) -> str:
    """A verdict line's reason is what it measured: `recovery 301s` (against the 5-minute SLO)."""
    if not e.verifies:
        return e.reason
    return f"{e.slo} {e.recovery_seconds:.0f}s" if e.recovery_seconds is not None else e.slo
