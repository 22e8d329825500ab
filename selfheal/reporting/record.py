"""Recording one pass: its remaining history lines, the risk report and the metrics push, in that order.

`record` is the pass's one call into reporting at its end. The actions it took are on disk already (the
executor's journal wrote an intent before each and an outcome after); what is left is every skip and
every dry-run line, appended with the counters caught up and the file rotated when it has grown too
big (`store.py`). A skip that repeats the previous pass's skip of the same object for the same reason
is not appended again (a hand-off to a human, `needs_human`, always is: it is what keeps the hands off).
"The previous" is the latest earlier line about that action on that object, whichever pass wrote it, so
a pass that appended nothing (or only a verdict) does not make the next one write every skip again; once
that line has left the window read, the skip is written again (at most once per window).
The risk report is written whatever happened to the history (the two are separate files); a failed push
is logged, never fatal, because the files are the record. Counters come from the carried state, so
recording never reads the whole history.
"""

from __future__ import annotations

import collections
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import structlog

from selfheal.findings import ActionOutcome, Finding, HistoryEntry, RecordError, Result, SkipCode
from selfheal.forecast import Forecast
from selfheal.reporting.counters import Counters
from selfheal.reporting.history import entry_for
from selfheal.reporting.risk import DEFAULT_HORIZON_SECONDS, RiskReport, build_risk_report, write_risk_report
from selfheal.reporting.store import DEFAULT_MAX_BYTES, HistoryStore
from selfheal.verify import VERDICTS
from selfheal.view import Snapshot

log = structlog.get_logger("selfheal.reporting")


@dataclass(frozen=True)
class Outputs:
    """Where a pass leaves its record."""

    history_file: Path
    risk_file: Path
    pushgateway_url: str | None = None
    canary_error_threshold: float = 0.05  # the risk report's canary factor is the ratio to it
    history_max_bytes: int = DEFAULT_MAX_BYTES
    risk_horizon_seconds: float = DEFAULT_HORIZON_SECONDS

    def history(self) -> HistoryStore:
        return HistoryStore(self.history_file, self.history_max_bytes)


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
    journaled: Sequence[ActionOutcome] = ()  # outcomes the executor's journal has written already
    history: Sequence[HistoryEntry] = field(default=())  # this namespace's window, read before the pass
    forecasts: Sequence[Forecast] = ()
    duration_seconds: float = 0.0
    source_details: Mapping[str, str] = field(default_factory=dict)  # why a source is not available
    verdicts: Sequence[HistoryEntry] = ()  # this pass's verdicts on earlier actions (`selfheal.verify`)


@dataclass(frozen=True)
class Recorded:
    risk: RiskReport
    history_error: str = ""  # the history could not be written
    risk_error: str = ""  # the risk report could not be written

    @property
    def error(self) -> str:
        return "; ".join(filter(None, [self.history_error, self.risk_error]))


def _repeats(previous: Sequence[HistoryEntry], run_id: str) -> set[tuple[str, str, str, str]]:
    """(action, kind, name, reason) of every object whose latest earlier decision is that skip."""
    latest: dict[tuple[str, str, str], HistoryEntry] = {}
    for e in previous:
        if e.run_id == run_id or e.result in VERDICTS:
            continue  # a verdict judges an applied line; it is not a decision about the object
        key = (e.action, e.kind, e.name)
        if key not in latest or e.ts >= latest[key].ts:
            latest[key] = e
    return {
        (*key, e.reason)
        for key, e in latest.items()
        if e.result == Result.SKIPPED and e.reason != SkipCode.NEEDS_HUMAN
    }


def lines_to_append(rec: PassRecord) -> list[HistoryEntry]:
    repeats = _repeats(rec.history, rec.run_id)
    lines = []
    for o in rec.outcomes:
        if o in rec.journaled:
            continue
        line = entry_for(o, run_id=rec.run_id, namespace=rec.namespace, ts=rec.at)
        if line.result == Result.SKIPPED and (line.action, line.kind, line.name, line.reason) in repeats:
            continue
        lines.append(line)
    return lines + list(rec.verdicts)


def record(outputs: Outputs, rec: PassRecord) -> Recorded:
    history_error = ""
    counters: Counters | None = None
    if rec.acted:
        try:
            counters = outputs.history().close_pass(lines_to_append(rec))
        except RecordError as exc:
            history_error = str(exc)
            log.error("history.not_written", path=str(outputs.history_file), error=history_error)
    report = build_risk_report(
        namespace=rec.namespace,
        findings=rec.findings,
        snapshot=rec.snapshot,
        outcomes=rec.outcomes,
        generated_at=rec.at,
        sources=rec.sources,
        canary_error_threshold=outputs.canary_error_threshold,
        forecasts=rec.forecasts,
        horizon_seconds=outputs.risk_horizon_seconds,
        source_details=rec.source_details,
    )
    risk_error = ""
    try:
        write_risk_report(outputs.risk_file, report)
        log.info(
            "risk.written", path=str(outputs.risk_file), risk_score=report.risk_score, level=report.level
        )
    except RecordError as exc:
        risk_error = str(exc)
        log.error("risk.not_written", path=str(outputs.risk_file), error=risk_error)
    if counters is not None and outputs.pushgateway_url:
        _push(outputs.pushgateway_url, rec, counters, report)
    return Recorded(report, history_error, risk_error)


def _push(url: str, rec: PassRecord, counters: Counters, report: RiskReport) -> None:
    # imported here: prometheus_client costs ~60 ms of start-up, paid only by a pass that pushes (not by
    # `plan`, a dry run without a Pushgateway, or a suspended pass)
    from selfheal.reporting.metrics import RunMetrics, build_registry, canary_traffic, push, run_actions

    success = not any(o.result is Result.FAILED for o in rec.outcomes)
    metrics = RunMetrics(
        counters.action_totals(),
        counters.drift,
        run_actions(rec.outcomes),
        report.risk_score,
        canary_traffic(rec.snapshot),
        rec.duration_seconds,
        rec.at.timestamp() if success else None,
        dict(collections.Counter(f.cause.code.value for f in rec.findings)),
        counters.verification_totals(),
        {slo: (buckets, counters.recovery_sum.get(slo, 0.0)) for slo, buckets in counters.recovery.items()},
    )
    try:
        push(build_registry(metrics), url, grouping_key={"namespace": rec.namespace})
        log.info("metrics.pushed", url=url)
    except Exception as exc:  # the record on disk is the source of truth; a lost push is logged, not fatal
        log.error("metrics.push_failed", url=url, error=" ".join(str(exc).split())[:200])
