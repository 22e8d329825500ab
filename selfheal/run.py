"""One healing pass, wired: the only module (with `cli`) that holds a client, the clock and files.

Order matters and is deliberate:
1. the CronJob (read-only): suspended → change nothing, report risk, exit 0;
2. the Lease (not in dry-run): held by another live run → write nothing at all, exit 0;
3. the snapshot and the history (after the Lease, so a run that waited sees the previous run's
   actions and its cooldowns hold);
4. detect → plan → execute → record (history line per decided action, risk report, metrics);
5. release the Lease.
Exit codes: 0 fine (including nothing to do, suspended, lease held), 1 an action failed,
3 cluster unreachable, unauthorised or answering nonsense. (2, bad settings, is the CLI's.)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog

from selfheal.detectors import DetectorConfig, run_detectors
from selfheal.execution import ApiFailure, Executor, LeaseLock, Transport
from selfheal.execution.lease import LeaseLost
from selfheal.findings import ActionOutcome, Finding, Plan, Result, skipped_outcomes
from selfheal.planning import Limits, log_plan, plan
from selfheal.reporting.history import append_history, entry_for, read_history
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
from selfheal.settings import Settings
from selfheal.snapshot import (
    DEFAULT_CANARY_ERROR_QUERY,
    Snapshot,
    SnapshotError,
    decode_object,
    read_canary_signals,
    read_snapshot,
)

log = structlog.get_logger("selfheal.run")

EXIT_OK, EXIT_ACTION_FAILED, EXIT_CONFIG, EXIT_CLUSTER = 0, 1, 2, 3


@dataclass(frozen=True)
class PassResult:
    exit_code: int
    status: str  # completed | suspended | lease_held | cluster_error
    namespace: str
    dry_run: bool = False
    findings: tuple[Finding, ...] = ()
    plan: Plan | None = None
    outcomes: tuple[ActionOutcome, ...] = ()
    risk: RiskReport | None = None
    detail: str = ""
    notes: tuple[str, ...] = field(default=())


def _suspended(transport: Transport, namespace: str, name: str) -> bool:
    try:
        raw = transport.request("GET", f"/apis/batch/v1/namespaces/{namespace}/cronjobs/{name}").body
    except ApiFailure as exc:
        if exc.status == 404:
            log.info("run.cronjob_missing", cronjob=name, detail="not suspended: no CronJob to read the switch from")
            return False
        raise
    return bool(decode_object("cronjob", raw).suspended())


def _read(api_client: Any, settings: Settings, namespace: str, now: datetime) -> Snapshot:
    snap = read_snapshot(api_client, namespace, settings.page_size, cronjob_name=settings.cronjob_name,
                         lease_name=settings.lease_name)
    names = [c.metadata.name for _, c in snap.canary_pairs()]
    signals = read_canary_signals(settings.prometheus_url, names,
                                  settings.canary_error_query or DEFAULT_CANARY_ERROR_QUERY,
                                  settings.prometheus_timeout_seconds, at=now)
    return snap.with_canary_signals(signals)


def _risk(settings: Settings, namespace: str, snap: Snapshot, findings: tuple[Finding, ...],
          outcomes: tuple[ActionOutcome, ...], now: datetime) -> RiskReport:
    report = build_risk_report(
        namespace=namespace, findings=findings, snapshot=snap, outcomes=outcomes, generated_at=now,
        sources={"kubernetes": "available", "prometheus": snap.canary.state.value},
        canary_error_threshold=settings.canary_error_threshold)
    write_risk_report(settings.risk_file, report)
    log.info("risk.written", path=str(settings.risk_file), risk_score=report.risk_score, level=report.level)
    return report


def _push_metrics(settings: Settings, namespace: str, snap: Snapshot, outcomes: tuple[ActionOutcome, ...],
                  report: RiskReport, started: float, success: bool) -> None:
    if not settings.pushgateway_url:
        return
    entries = read_history(settings.history_file, namespace=namespace).entries
    metrics = RunMetrics(action_totals(entries), drift_total(entries), run_actions(outcomes), report.risk_score,
                         canary_traffic(snap), time.monotonic() - started, time.time() if success else None)
    try:
        push(build_registry(metrics), settings.pushgateway_url, grouping_key={"namespace": namespace})
        log.info("metrics.pushed", url=settings.pushgateway_url)
    except Exception as exc:  # the record on disk is the source of truth; a lost push is logged, not fatal
        log.error("metrics.push_failed", url=settings.pushgateway_url, error=" ".join(str(exc).split())[:200])


def run_pass(settings: Settings, namespace: str, api_client: Any, *, run_id: str, identity: str,
             clock: Callable[[], datetime] = lambda: datetime.now(UTC),
             sleep: Callable[[float], None] | None = None) -> PassResult:
    started = time.monotonic()
    dry_run = settings.dry_run
    transport = Transport(api_client)
    try:
        if _suspended(transport, namespace, settings.cronjob_name):
            snap = _read(api_client, settings, namespace, clock())
            findings = run_detectors(snap, DetectorConfig.from_settings(settings), clock())
            log.info("run.suspended", cronjob=settings.cronjob_name, findings=len(findings),
                     detail="nothing is changed while the CronJob is suspended")
            report = _risk(settings, namespace, snap, findings, (), clock())
            return PassResult(EXIT_OK, "suspended", namespace, dry_run, findings, None, (), report)
        lease = LeaseLock(transport, namespace, settings.lease_name, identity, settings.lease_duration_seconds, clock)
        if not dry_run:
            state = lease.acquire()
            if not state.acquired:
                log.info("run.lease_held", lease=settings.lease_name, holder=state.holder,
                         detail="another run is acting; this one writes nothing")
                return PassResult(EXIT_OK, "lease_held", namespace, dry_run, detail=state.holder)
        try:
            return _act(settings, namespace, api_client, transport, lease, dry_run, clock, started, sleep, run_id)
        finally:
            if not dry_run:
                _release(lease)
    except (ApiFailure, SnapshotError) as exc:  # every request goes through Transport: no other error type
        detail = " ".join(str(exc).split())[:300]
        log.error("run.cluster_error", error=detail)
        return PassResult(EXIT_CLUSTER, "cluster_error", namespace, dry_run, detail=detail)


def _release(lease: LeaseLock) -> None:
    """A Lease that cannot be released expires on its own; the pass's result stands either way."""
    try:
        lease.release()
    except ApiFailure as exc:
        log.error("lease.release_failed", lease=lease.name, error=str(exc),
                  detail=f"it expires by itself after {lease.duration}s")


def _act(settings: Settings, namespace: str, api_client: Any, transport: Transport, lease: LeaseLock,
         dry_run: bool, clock: Callable[[], datetime], started: float,
         sleep: Callable[[float], None] | None, run_id: str) -> PassResult:
    now = clock()
    snap = _read(api_client, settings, namespace, now)
    findings = run_detectors(snap, DetectorConfig.from_settings(settings), now)
    for f in findings:
        log.info("finding", detector=f.detector, kind=f.workload.kind, name=f.workload.name,
                 severity=f.severity.label, cause=f.cause.code.value, summary=f.cause.summary)
    window = timedelta(seconds=max(settings.escalation_window_seconds, settings.cooldown_seconds))
    history = read_history(settings.history_file, since=now - window, namespace=namespace)
    for problem in history.problems:
        log.warning("history.unreadable_line", path=str(settings.history_file), line=problem.line,
                    error=problem.error)
    the_plan = plan(findings, snap, history.entries, Limits.from_settings(settings), now)
    log_plan(the_plan, log)
    executor = Executor(transport, dry_run=dry_run, keep_alive=lease.keep_alive if not dry_run else (lambda: None),
                        sleep=sleep)
    executed: list[ActionOutcome] = []
    for action in the_plan.approved:
        try:
            executed.append(executor.execute(action))
        except LeaseLost as exc:
            log.error("run.lease_lost", error=str(exc))
            break
    outcomes = tuple(executed) + skipped_outcomes(the_plan)
    ts = clock()
    append_history(settings.history_file, [entry_for(o, run_id=run_id, namespace=namespace, ts=ts)
                                           for o in outcomes])
    report = _risk(settings, namespace, snap, findings, outcomes, ts)
    failed = any(o.result is Result.FAILED for o in outcomes)
    _push_metrics(settings, namespace, snap, outcomes, report, started, success=not failed)
    counts = {r.value: sum(1 for o in outcomes if o.result is r) for r in Result}
    log.info("run.summary", findings=len(findings), approved=len(the_plan.approved),
             skipped=len(the_plan.skipped), mass_failure=the_plan.mass_failure, dry_run=dry_run, results=counts,
             risk_score=report.risk_score, duration_seconds=round(time.monotonic() - started, 3))
    return PassResult(EXIT_ACTION_FAILED if failed else EXIT_OK, "completed", namespace, dry_run, findings,
                      the_plan, outcomes, report)

