"""Recording one pass: the history lines, the risk report and the metrics push, in that order.

`record` is the pass's one call into reporting. The history is appended first (it is the record the
next runs' cooldowns and ladder read), then the risk report is written atomically, then the metrics
are pushed; a failed push is logged, never fatal, because the files are the record. The cumulative
counters are computed from the history the pass already read plus its own lines, so recording never
re-reads the file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import structlog

from selfheal.findings import ActionOutcome, Finding, HistoryEntry, Result
from selfheal.reporting.history import append_history, entry_for
from selfheal.reporting.metrics import (
    RunMetrics,
    action_totals,
    build_registry,
    canary_traffic,
    drift_total,
    push,
    run_actions,
)
from selfheal.reporting.risk import RiskReport, build_risk_report, write_risk_report
from selfheal.view import Snapshot

log = structlog.get_logger("selfheal.reporting")


@dataclass(frozen=True)
class Outputs:
    """Where a pass leaves its record."""

    history_file: Path
    risk_file: Path
    pushgateway_url: str | None = None
    canary_error_threshold: float = 0.05  # the risk report's canary factor is the ratio to it


@dataclass(frozen=True)
class PassRecord:
    """What one pass has to say. A suspended pass (`acted` False) writes the risk report only."""

    namespace: str
    run_id: str
    snapshot: Snapshot
    findings: Sequence[Finding]
    at: datetime
    sources: Mapping[str, str]
    acted: bool = True
    outcomes: Sequence[ActionOutcome] = ()
    history: Sequence[HistoryEntry] = field(default=())  # this namespace's lines before the pass
    duration_seconds: float = 0.0


def record(outputs: Outputs, rec: PassRecord) -> RiskReport:
    lines = [entry_for(o, run_id=rec.run_id, namespace=rec.namespace, ts=rec.at) for o in rec.outcomes]
    if rec.acted:
        append_history(outputs.history_file, lines)
    report = build_risk_report(
        namespace=rec.namespace,
        findings=rec.findings,
        snapshot=rec.snapshot,
        outcomes=rec.outcomes,
        generated_at=rec.at,
        sources=rec.sources,
        canary_error_threshold=outputs.canary_error_threshold,
    )
    write_risk_report(outputs.risk_file, report)
    log.info("risk.written", path=str(outputs.risk_file), risk_score=report.risk_score, level=report.level)
    if rec.acted and outputs.pushgateway_url:
        _push(outputs.pushgateway_url, rec, [*rec.history, *lines], report)
    return report


def _push(url: str, rec: PassRecord, entries: Sequence[HistoryEntry], report: RiskReport) -> None:
    success = not any(o.result is Result.FAILED for o in rec.outcomes)
    metrics = RunMetrics(
        action_totals(entries),
        drift_total(entries),
        run_actions(rec.outcomes),
        report.risk_score,
        canary_traffic(rec.snapshot),
        rec.duration_seconds,
        rec.at.timestamp() if success else None,
    )
    try:
        push(build_registry(metrics), url, grouping_key={"namespace": rec.namespace})
        log.info("metrics.pushed", url=url)
    except Exception as exc:  # the record on disk is the source of truth; a lost push is logged, not fatal
        log.error("metrics.push_failed", url=url, error=" ".join(str(exc).split())[:200])
