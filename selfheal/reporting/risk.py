"""The risk report, `aiops/risk-prediction.json`: one explainable score per pass.

Formula. Seven factors, each a value in [0, 1] with a fixed weight (weights sum to 1):

    factor            value                                                              weight
    crash_loops       share of Deployments with a crash-looping / failing pod              0.30
    bad_revisions     share of Deployments whose newest revision is failing or stuck       0.15
    unavailability    share of Deployments with availability or replica drift              0.15
    config_drift      share of Deployments with config-hash or ConfigMap drift             0.15
    missing_probes    share of Deployment containers without liveness or readiness probe   0.10
    canary_errors     worst canary error rate / threshold, capped at 1 (0 when unknown)    0.10
    failed_actions    failed / attempted actions this pass (0 when none attempted)         0.05

    contribution = round(value * weight, 4);   risk_score = sum(contributions)   (so they add up)
    level: < 0.15 low, < 0.40 medium, < 0.70 high, else critical.

A reader can therefore see exactly which factor moved the score. `sources` says what was known
(e.g. `"prometheus": "unavailable"`: the canary factor is 0 because nothing was measured, not
because the canary is healthy).

The file is written atomically: a temporary file in the same directory, fsync, `os.replace`, then an
fsync of the directory; a crash at any point leaves either the old file or the new one.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

import msgspec

from selfheal.findings import ActionOutcome, CauseCode, Finding, RecordError, Result
from selfheal.reporting.history import describe_os_error
from selfheal.view import Snapshot

SCHEMA_VERSION = 1

WEIGHTS: Mapping[str, float] = {
    "crash_loops": 0.30,
    "bad_revisions": 0.15,
    "unavailability": 0.15,
    "config_drift": 0.15,
    "missing_probes": 0.10,
    "canary_errors": 0.10,
    "failed_actions": 0.05,
}
LEVELS: Sequence[tuple[float, str]] = ((0.70, "critical"), (0.40, "high"), (0.15, "medium"), (0.0, "low"))

_CRASH = frozenset(
    {
        CauseCode.APP_ERROR,
        CauseCode.OOM_KILLED,
        CauseCode.BAD_COMMAND,
        CauseCode.IMAGE_PULL,
        CauseCode.CONTAINER_CONFIG,
        CauseCode.ENVIRONMENT,
    }
)
_REVISION = frozenset({CauseCode.BAD_REVISION, CauseCode.ROLLOUT_STUCK})
_UNAVAILABLE = frozenset({CauseCode.UNAVAILABLE, CauseCode.REPLICA_DRIFT, CauseCode.HPA_CLAMP})
_DRIFT = frozenset({CauseCode.CONFIG_HASH_DRIFT, CauseCode.CONFIGMAP_CHANGED})


class RiskFactor(msgspec.Struct, frozen=True):
    name: str
    value: float
    weight: float
    contribution: float
    detail: str


class RiskFinding(msgspec.Struct, frozen=True):
    detector: str
    kind: str
    name: str
    severity: str
    cause: str
    summary: str
    evidence: list[str]
    subject: str | None = None


class RiskAction(msgspec.Struct, frozen=True):
    action: str
    kind: str
    name: str
    workload: str
    result: str
    reason: str
    message: str


class RiskReport(msgspec.Struct, frozen=True):
    schema_version: int
    generated_at: str
    namespace: str
    risk_score: float
    level: str
    factors: list[RiskFactor]
    findings: list[RiskFinding]
    actions: list[RiskAction]
    sources: dict[str, str]


def level_for(score: float) -> str:
    return next(name for floor, name in LEVELS if score >= floor)


def _share(findings: Iterable[Finding], codes: frozenset[CauseCode], total: int) -> tuple[float, str]:
    names = sorted(
        {f.workload.name for f in findings if f.cause.code in codes and f.workload.kind == "Deployment"}
    )
    value = min(1.0, len(names) / total) if total else 0.0
    return value, f"{len(names)}/{total} Deployments" + (f": {', '.join(names[:5])}" if names else "")


def compute_factors(
    findings: Sequence[Finding],
    snapshot: Snapshot,
    outcomes: Sequence[ActionOutcome],
    canary_error_threshold: float,
) -> list[RiskFactor]:
    total = len(snapshot.deployments)
    values: dict[str, tuple[float, str]] = {
        "crash_loops": _share(findings, _CRASH, total),
        "bad_revisions": _share(findings, _REVISION, total),
        "unavailability": _share(findings, _UNAVAILABLE, total),
        "config_drift": _share(findings, _DRIFT, total),
    }
    containers = snapshot.container_count()
    missing = sum(len(f.evidence) for f in findings if f.cause.code == CauseCode.MISSING_PROBES)
    values["missing_probes"] = (
        min(1.0, missing / containers) if containers else 0.0,
        f"{missing}/{containers} containers",
    )
    canaries = {c.metadata.name for _, c in snapshot.canary_pairs()}
    rates = {n: r for n, r in snapshot.canary.error_rates.items() if n in canaries and r is not None}
    worst = max(rates.values(), default=0.0)
    values["canary_errors"] = (
        min(1.0, worst / canary_error_threshold) if canary_error_threshold else 0.0,
        f"worst error rate {worst:.2%} of {len(rates)} measured canaries "
        f"(prometheus {snapshot.canary.state.value})",
    )
    attempted = [o for o in outcomes if o.result in (Result.APPLIED, Result.DRY_RUN, Result.FAILED)]
    failed = sum(1 for o in attempted if o.result == Result.FAILED)
    values["failed_actions"] = (
        failed / len(attempted) if attempted else 0.0,
        f"{failed}/{len(attempted)} actions",
    )
    factors = []
    for name, weight in WEIGHTS.items():
        value, detail = values[name]
        value = round(value, 4)
        factors.append(RiskFactor(name, value, weight, round(value * weight, 4), detail))
    return factors


def build_risk_report(
    *,
    namespace: str,
    findings: Sequence[Finding],
    snapshot: Snapshot,
    outcomes: Sequence[ActionOutcome],
    generated_at: datetime,
    sources: Mapping[str, str],
    canary_error_threshold: float = 0.05,
) -> RiskReport:
    """`sources` e.g. {"kubernetes": "available", "prometheus": "unavailable"} (the caller knows)."""
    factors = compute_factors(findings, snapshot, outcomes, canary_error_threshold)
    score = round(sum(f.contribution for f in factors), 4)
    return RiskReport(
        schema_version=SCHEMA_VERSION,
        generated_at=generated_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        namespace=namespace,
        risk_score=score,
        level=level_for(score),
        factors=factors,
        findings=[
            RiskFinding(
                f.detector,
                f.workload.kind,
                f.workload.name,
                f.severity.label,
                f.cause.code.value,
                f.cause.summary,
                list(f.evidence),
                str(f.subject) if f.subject else None,
            )
            for f in findings
        ],
        actions=[
            RiskAction(
                o.action.action.value,
                o.action.target.kind,
                o.action.target.name,
                str(o.action.workload),
                o.result.value,
                o.reason or o.action.reason,
                o.message or o.action.summary,
            )
            for o in outcomes
        ],
        sources=dict(sorted(sources.items())),
    )


def encode_report(report: RiskReport) -> bytes:
    return msgspec.json.format(msgspec.json.encode(report), indent=2) + b"\n"


def write_atomic(path: str | Path, data: bytes) -> None:
    """Replace `path` with `data` so that readers and crashes only ever see the old or the new file."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=f".{p.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(p.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def write_risk_report(path: str | Path, report: RiskReport) -> None:
    """Write the report atomically; raises RecordError (one line: the path and why) when it cannot."""
    try:
        write_atomic(path, encode_report(report))
    except OSError as exc:
        raise RecordError(describe_os_error(Path(path), exc)) from None


def check_writable(path: str | Path) -> None:
    """Prove the report can be written where it goes (create and rename in its directory), changing
    nothing; raises RecordError."""
    p = Path(path)
    if str(path).strip() == "":
        raise RecordError("risk file: the path is empty")
    if p.is_dir():
        raise RecordError(f"{p}: is a directory")
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=f".{p.name}.", suffix=".probe")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(b"{}")
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, tmp + ".renamed")
            tmp += ".renamed"
        finally:
            Path(tmp).unlink(missing_ok=True)
    except OSError as exc:
        raise RecordError(describe_os_error(p, exc)) from None


def read_risk_report(path: str | Path) -> RiskReport:
    return msgspec.json.decode(Path(path).read_bytes(), type=RiskReport)
