"""One healing pass, wired: with `cli`, the only module that holds a client, the clock and files.

    outputs?    -> the history and the risk report can be written, or exit 2 and change nothing
    suspended?  -> read, detect, write the risk report, change nothing           (status suspended)
    Lease       -> held by another live run: write nothing at all                (status lease_held)
    read        -> the namespace (paginated lists), Prometheus signals, the history's window
    recover     -> intents an earlier run left without an outcome: found in the cluster, or abandoned
    detect      -> findings (pure)
    plan        -> approved actions and reasoned skips (pure)
    act         -> the executor, the only writer: an intent on disk before each action, its outcome after;
                   stops early on SIGTERM, at the pass deadline, or when the history cannot be written
    record      -> the remaining history lines, risk report, metrics push          (status completed)
    release the Lease

The Lease is taken before reading, so a run that waited sees the previous run's actions and its
cooldowns hold. Dry-run takes no Lease and writes no intents. Exit codes: 0 fine (including nothing to
do, suspended, lease held), 1 an action failed, 2 the record cannot be written (history or risk report:
the path and the reason, one line), 3 cluster unreachable, unauthorised or answering nonsense,
4 stopped early (SIGTERM or the pass deadline: what it did is recorded). (2 is also the CLI's, for bad
settings.)
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import structlog

from selfheal.context import PassContext
from selfheal.detectors import run_detectors
from selfheal.execution import Executor, LeaseLock, LeaseLost, recovery
from selfheal.execution.executor import Recorder
from selfheal.execution.recovery import dangling_intents
from selfheal.findings import (
    ActionOutcome,
    Finding,
    HistoryEntry,
    Plan,
    RecordError,
    Result,
    SkipCode,
    skipped_outcomes,
)
from selfheal.forecast import Forecast, forecasts
from selfheal.kube.errors import ApiFailure
from selfheal.kube.transport import PASS_DEADLINE, object_path
from selfheal.planning import log_plan, plan
from selfheal.reporting import PassRecord, record
from selfheal.reporting.history import check_regular_file, resolution_for
from selfheal.reporting.risk import RiskReport
from selfheal.reporting.risk import check_writable as check_risk_writable
from selfheal.signals import (
    read_canary_signals,
    read_observations,
)
from selfheal.snapshot import SnapshotError, decode_object, read_snapshot
from selfheal.verify import verdicts
from selfheal.view import Snapshot, SourceState

log = structlog.get_logger("selfheal.run")

EXIT_OK, EXIT_ACTION_FAILED, EXIT_CONFIG, EXIT_CLUSTER, EXIT_INTERRUPTED = 0, 1, 2, 3, 4


class Status(enum.StrEnum):
    COMPLETED = "completed"
    SUSPENDED = "suspended"
    LEASE_HELD = "lease_held"
    CLUSTER_ERROR = "cluster_error"
    NOT_RECORDABLE = "not_recordable"  # the history or the risk report cannot be written
    INTERRUPTED = "interrupted"  # SIGTERM or the pass deadline stopped it early; what it did is recorded


@dataclass(frozen=True)
class Reading:
    """What a pass knows: the namespace, and what Prometheus forecasts for it."""

    snapshot: Snapshot
    forecasts: tuple[Forecast, ...]
    sources: dict[str, str]
    source_details: dict[str, str] = field(default_factory=dict)  # why a source is not available


@dataclass(frozen=True)
class PassResult:
    exit_code: int
    status: Status
    namespace: str
    dry_run: bool = False
    findings: tuple[Finding, ...] = ()
    plan: Plan | None = None
    outcomes: tuple[ActionOutcome, ...] = ()
    risk: RiskReport | None = None
    detail: str = ""


def run_pass(ctx: PassContext) -> PassResult:
    started = time.monotonic()
    try:
        ctx.outputs.history().check_writable()
        check_regular_file(ctx.outputs.risk_file)  # never rename a report over a device
        check_risk_writable(ctx.outputs.risk_file)
    except RecordError as exc:
        log.error("run.not_recordable", error=str(exc), detail="nothing was read or changed")
        return PassResult(EXIT_CONFIG, Status.NOT_RECORDABLE, ctx.namespace, ctx.dry_run, detail=str(exc))
    try:
        if _suspended(ctx):
            return _report_only(ctx, started)
        if ctx.dry_run:
            return _heal(ctx, _no_lease, started)
        lease = LeaseLock(
            ctx.transport,
            ctx.namespace,
            ctx.lease_name,
            ctx.identity,
            ctx.lease_duration_seconds,
            ctx.clock,
            ctx.sleep,
        )
        state = lease.acquire()
        if not state.acquired:
            log.info(
                "run.lease_held",
                lease=ctx.lease_name,
                holder=state.holder,
                detail="another run is acting; this one writes nothing",
            )
            return PassResult(EXIT_OK, Status.LEASE_HELD, ctx.namespace, ctx.dry_run, detail=state.holder)
        try:
            return _heal(ctx, lease.keep_alive, started)
        finally:
            _release(lease)
    except (
        ApiFailure,
        SnapshotError,
    ) as exc:  # every request goes through the Transport: no other error type
        detail = " ".join(str(exc).split())[:300]
        if isinstance(exc, ApiFailure) and exc.reason == PASS_DEADLINE:
            log.error("run.deadline", error=detail)
            return PassResult(EXIT_INTERRUPTED, Status.INTERRUPTED, ctx.namespace, ctx.dry_run, detail=detail)
        log.error("run.cluster_error", error=detail)
        return PassResult(EXIT_CLUSTER, Status.CLUSTER_ERROR, ctx.namespace, ctx.dry_run, detail=detail)


def _no_lease() -> None:
    """Dry-run holds no Lease, so there is nothing to renew."""


def _suspended(ctx: PassContext) -> bool:
    """`spec.suspend: true` or the guide's annotation on the CronJob; no CronJob: not suspended."""
    try:
        raw = ctx.transport.request("GET", object_path("CronJob", ctx.namespace, ctx.cronjob_name)).body
    except ApiFailure as exc:
        if exc.status == 404:
            log.info(
                "run.cronjob_missing",
                cronjob=ctx.cronjob_name,
                detail="not suspended: no CronJob to read the switch from",
            )
            return False
        raise
    suspension = decode_object("cronjob", raw).suspended()
    if suspension.invalid is not None:
        log.warning(
            "run.suspend_annotation_invalid",
            cronjob=ctx.cronjob_name,
            value=suspension.invalid.raw,
            detail=suspension.warning,
        )
    return bool(suspension.on)


def _read(ctx: PassContext, now: datetime) -> Reading:
    snap = read_snapshot(ctx.transport, ctx.namespace, ctx.page_size)
    pairs = [(s.metadata.name, c.metadata.name) for s, c in snap.canary_pairs()]
    sig = ctx.signals
    snap = snap.with_canary_signals(
        read_canary_signals(
            sig.prometheus_url,
            pairs,
            sig.canary_queries,
            sig.timeout_seconds,
            at=now,
            budget_seconds=sig.observe.budget_seconds,
        )
    )
    observed = read_observations(sig.observe, snap, now)
    found = tuple(forecasts(observed, sig.slo))
    for f in found:
        if f.time_to_breach_seconds is not None:
            log.warning(
                "forecast.breach",
                kind=f.kind,
                workload=f.workload,
                subject=f.subject,
                time_to_breach_seconds=round(f.time_to_breach_seconds),
                detail=f.detail,
            )
    source = observed if sig.prometheus_url else snap.canary
    details = {"prometheus": source.detail} if source.state is SourceState.ERROR else {}
    return Reading(snap, found, {"kubernetes": "available", "prometheus": source.state.value}, details)


def _report_only(ctx: PassContext, started: float) -> PassResult:
    now = ctx.clock()
    reading = _read(ctx, now)
    snap = reading.snapshot
    findings = run_detectors(snap, ctx.detectors, now)
    log.info(
        "run.suspended",
        cronjob=ctx.cronjob_name,
        findings=len(findings),
        detail="nothing is changed while the CronJob is suspended",
    )
    done = record(
        ctx.outputs,
        PassRecord(
            ctx.namespace,
            ctx.run_id,
            snap,
            findings,
            now,
            reading.sources,
            acted=False,
            forecasts=reading.forecasts,
            duration_seconds=time.monotonic() - started,
            source_details=reading.source_details,
        ),
    )
    if done.error:
        return PassResult(
            EXIT_CONFIG,
            Status.NOT_RECORDABLE,
            ctx.namespace,
            ctx.dry_run,
            findings,
            risk=done.risk,
            detail=done.error,
        )
    return PassResult(EXIT_OK, Status.SUSPENDED, ctx.namespace, ctx.dry_run, findings, None, (), done.risk)


def _window(ctx: PassContext, now: datetime) -> list[HistoryEntry]:
    """The history the rails need (cooldown, ladder), read from the end of the file; intents earlier runs
    left without an outcome are resolved against the cluster first (not in dry-run: it records nothing)."""
    since = now - timedelta(seconds=max(ctx.limits.escalation_window_seconds, ctx.limits.cooldown_seconds))
    store = ctx.outputs.history()
    history = store.window(since, ctx.namespace)
    for problem in history.problems:
        log.warning(
            "history.unreadable_line",
            path=str(ctx.outputs.history_file),
            line=problem.line,
            offset=problem.offset,
            error=problem.error,
        )
    lines = list(history.entries)
    if ctx.dry_run:
        return lines
    for intent in dangling_intents(lines, ctx.run_id):
        checked = recovery.check(ctx.transport, intent)
        if checked is None:
            continue
        found, detail = checked
        resolution = resolution_for(intent, found=found, detail=detail, run_id=ctx.run_id, ts=ctx.clock())
        store.append([resolution])  # RecordError: the pass cannot record, handled by the caller
        log.warning(
            "history.intent_recovered" if found else "history.intent_abandoned",
            intent=intent.intent,
            action=intent.action,
            name=intent.name,
            detail=detail,
        )
        lines.append(resolution)
    return lines


def _judge(
    ctx: PassContext, window: list[HistoryEntry], findings: tuple[Finding, ...], snap: Snapshot, now: datetime
) -> list[HistoryEntry]:
    """This pass's verdicts on what earlier passes applied (`selfheal.verify`), as history lines; none in a
    dry run (it records nothing of its own)."""
    if ctx.dry_run:
        return []
    out = []
    for v in verdicts(window, findings, snap, now, ctx.limits.cooldown_seconds):
        (log.info if v.result is Result.VERIFIED else log.warning)(
            "action.verified" if v.result is Result.VERIFIED else "action.not_recovered",
            action=v.applied.action,
            workload=v.applied.workload,
            applied_at=v.applied.ts.isoformat(),
            slo=v.slo,
            recovery_seconds=v.recovery_seconds,
            detail=v.detail,
        )
        out.append(v.line(run_id=ctx.run_id, ts=now))
    return out


def _heal(ctx: PassContext, keep_alive: Callable[[], None], started: float) -> PassResult:
    now = ctx.clock()
    reading = _read(ctx, now)
    snap = reading.snapshot
    findings = run_detectors(snap, ctx.detectors, now)
    for f in findings:
        log.info(
            "finding",
            detector=f.detector,
            kind=f.workload.kind,
            name=f.workload.name,
            severity=f.severity.label,
            cause=f.cause.code.value,
            summary=f.cause.summary,
        )
    try:
        window = _window(ctx, now)
    except RecordError as exc:
        log.error("run.not_recordable", error=str(exc), detail="nothing was changed")
        return PassResult(
            EXIT_CONFIG, Status.NOT_RECORDABLE, ctx.namespace, ctx.dry_run, findings, detail=str(exc)
        )
    judged = _judge(ctx, window, findings, snap, now)
    the_plan = plan(findings, snap, window, ctx.limits, now)
    log_plan(the_plan, log)
    journal = ctx.outputs.history().journal(ctx.run_id, ctx.namespace, ctx.clock)
    executed, halted = _act(ctx, the_plan, keep_alive, journal)
    outcomes = executed + skipped_outcomes(the_plan)
    done = record(
        ctx.outputs,
        PassRecord(
            ctx.namespace,
            ctx.run_id,
            snap,
            findings,
            ctx.clock(),
            reading.sources,
            outcomes=outcomes,
            forecasts=reading.forecasts,
            journaled=journal.written,
            history=window,
            duration_seconds=time.monotonic() - started,
            source_details=reading.source_details,
            verdicts=judged,
        ),
    )
    failed = any(o.result is Result.FAILED for o in outcomes)
    counts = {r.value: sum(1 for o in outcomes if o.result is r) for r in Result}
    log.info(
        "run.summary",
        findings=len(findings),
        approved=len(the_plan.approved),
        skipped=len(the_plan.skipped),
        mass_failure=the_plan.mass_failure,
        dry_run=ctx.dry_run,
        results=counts,
        risk_score=done.risk.risk_score,
        duration_seconds=round(time.monotonic() - started, 3),
        stopped=halted,
    )
    result = PassResult(
        EXIT_ACTION_FAILED if failed else EXIT_OK,
        Status.COMPLETED,
        ctx.namespace,
        ctx.dry_run,
        findings,
        the_plan,
        outcomes,
        done.risk,
    )
    if done.error or halted.startswith(SkipCode.NOT_RECORDED):
        return replace(
            result,
            exit_code=EXIT_CONFIG,
            status=Status.NOT_RECORDABLE,
            detail=done.error or halted.partition(": ")[2],
        )
    if halted:
        return replace(result, exit_code=EXIT_INTERRUPTED, status=Status.INTERRUPTED, detail=halted)
    return result


def _act(
    ctx: PassContext, the_plan: Plan, keep_alive: Callable[[], None], journal: Recorder
) -> tuple[tuple[ActionOutcome, ...], str]:
    """Execute the approved actions in order; stop before the next one on SIGTERM, at the deadline, or once
    the history cannot be written. Returns the outcomes (the rest recorded as skipped) and why it stopped."""
    executor = Executor(
        ctx.transport, dry_run=ctx.dry_run, keep_alive=keep_alive, sleep=ctx.sleep, recorder=journal
    )
    executed: list[ActionOutcome] = []
    halted = ""
    for i, action in enumerate(the_plan.approved):
        halted = (
            halted
            or ctx.stop()
            or executor.halted
            or (f"{SkipCode.NOT_RECORDED}: {executor.unrecordable}" if executor.unrecordable else "")
        )
        if not halted and ctx.transport.budget() <= 0:
            halted = f"{SkipCode.PASS_DEADLINE}: the pass deadline passed"
        if halted:
            code, _, why = halted.partition(": ")
            log.warning("run.stopping", reason=code, detail=why, left=len(the_plan.approved) - i)
            executed += [
                ActionOutcome(a, Result.SKIPPED, code, f"not attempted: {why}") for a in the_plan.approved[i:]
            ]
            break
        try:
            executed.append(executor.execute(action))
        except LeaseLost as exc:
            log.error("run.lease_lost", error=str(exc))
            halted = f"{SkipCode.INTERRUPTED}: {exc}"
            executed += [
                ActionOutcome(a, Result.SKIPPED, SkipCode.INTERRUPTED.value, f"not attempted: {exc}")
                for a in the_plan.approved[i:]
            ]
            break
    halted = halted or executor.halted
    if not halted and executor.unrecordable:
        halted = f"{SkipCode.NOT_RECORDED}: {executor.unrecordable}"
    return tuple(executed), halted


def _release(lease: LeaseLock) -> None:
    """A Lease that cannot be released expires on its own; the pass's result stands either way."""
    try:
        lease.release()
    except ApiFailure as exc:
        log.error(
            "lease.release_failed",
            lease=lease.name,
            error=str(exc),
            detail=f"it expires by itself after {lease.duration}s",
        )
