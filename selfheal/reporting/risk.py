"""The risk report, `aiops/risk-prediction.json`: the predicted risk of an SLO breach, explained.

The model is `selfheal.risk` (the score, its factors, how to recompute it by hand); the forecasts behind
it are `selfheal.forecast`. This module writes what they say, as `schema_version` 2
(`aiops/risk-prediction.schema.json` is its JSON Schema, which every file the job writes satisfies):

    risk_score, level, horizon_seconds
    factors[]     name, value, weight, probability (value x weight), contribution (shares of the score),
                  detail, time_to_breach_seconds (forecast factors, when a breach is in sight)
    forecasts[]   kind, workload, subject, time_to_breach_seconds, detail, unknown (why it could not be made)
    confidence    level ("full" or "partial") and what was missing; "partial": the score is a lower bound
    findings[], actions[], sources

The file is written atomically: a temporary file in the same directory, fsync, `os.replace`, then an
fsync of the directory; a crash at any point leaves either the old file or the new one.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

import msgspec

from selfheal.findings import ActionOutcome, Finding, RecordError
from selfheal.forecast import Forecast
from selfheal.reporting.history import describe_os_error
from selfheal.risk import assess, level_for
from selfheal.view import Snapshot, SourceState

SCHEMA_VERSION = 2
DEFAULT_HORIZON_SECONDS = 3600.0

__all__ = [
    "SCHEMA_VERSION",
    "RiskReport",
    "build_risk_report",
    "level_for",
    "read_risk_report",
    "write_risk_report",
]


class RiskFactor(msgspec.Struct, frozen=True, omit_defaults=True):
    name: str
    value: float
    weight: float
    probability: float
    contribution: float
    detail: str
    time_to_breach_seconds: float | None = None


class RiskForecast(msgspec.Struct, frozen=True, omit_defaults=True):
    kind: str
    workload: str
    detail: str
    subject: str = ""
    time_to_breach_seconds: float | None = None
    unknown: str = ""


class Confidence(msgspec.Struct, frozen=True):
    level: str  # full | partial
    missing: list[str]


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
    horizon_seconds: float
    risk_score: float
    level: str
    factors: list[RiskFactor]
    forecasts: list[RiskForecast]
    confidence: Confidence
    findings: list[RiskFinding]
    actions: list[RiskAction]
    sources: dict[str, str]


def _confidence(
    sources: Mapping[str, str], forecasts: Sequence[Forecast], why: Mapping[str, str]
) -> Confidence:
    missing = [
        f"{name}: {state}" + (f" ({why[name]})" if why.get(name) else "")
        for name, state in sorted(sources.items())
        if state != SourceState.AVAILABLE
    ]
    if sources.get("prometheus") not in (None, SourceState.AVAILABLE):
        missing.append("forecasts: not made (Prometheus is not available)")
    missing += [f"{f.workload}/{f.kind}: {f.unknown}" for f in forecasts if f.unknown]
    return Confidence("partial" if missing else "full", missing)


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def build_risk_report(
    *,
    namespace: str,
    findings: Sequence[Finding],
    snapshot: Snapshot,
    outcomes: Sequence[ActionOutcome],
    generated_at: datetime,
    sources: Mapping[str, str],
    canary_error_threshold: float = 0.05,
    forecasts: Sequence[Forecast] = (),
    horizon_seconds: float = DEFAULT_HORIZON_SECONDS,
    source_details: Mapping[str, str] | None = None,
) -> RiskReport:
    """`sources` e.g. {"kubernetes": "available", "prometheus": "unavailable"} (the caller knows);
    `source_details` why a source is not available (one line each), for the confidence's `missing`."""
    canaries = {c.metadata.name for _, c in snapshot.canary_pairs()}
    rates = [r for n, r in snapshot.canary.error_rates.items() if n in canaries and r is not None]
    assessment = assess(
        findings,
        outcomes,
        forecasts,
        containers=snapshot.container_count(),
        canary_ratio=max(rates) if rates else None,
        canary_threshold=canary_error_threshold,
        horizon=horizon_seconds,
    )
    score = round(assessment.score, 4)
    return RiskReport(
        schema_version=SCHEMA_VERSION,
        generated_at=generated_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        namespace=namespace,
        horizon_seconds=horizon_seconds,
        risk_score=score,
        level=level_for(score),
        factors=[
            RiskFactor(
                f.name,
                round(f.value, 4),
                f.weight,
                round(f.probability, 4),
                round(assessment.contributions[f.name], 4),
                f.detail,
                _rounded(f.time_to_breach_seconds),
            )
            for f in assessment.factors
        ],
        forecasts=[
            RiskForecast(
                f.kind, f.workload, f.detail, f.subject, _rounded(f.time_to_breach_seconds), f.unknown
            )
            for f in forecasts
        ],
        confidence=_confidence(sources, forecasts, source_details or {}),
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
    _refuse_special(Path(path))
    try:
        write_atomic(path, encode_report(report))
    except OSError as exc:
        raise RecordError(describe_os_error(Path(path), exc)) from None


def _refuse_special(p: Path) -> None:
    """A device, pipe or socket at the path is never replaced by the report (as root, `os.replace` over
    /dev/null would turn the device into a file)."""
    if p.exists() and not p.is_file() and not p.is_dir():
        raise RecordError(f"{p}: is not a regular file (a device, a pipe or a socket)")


def check_writable(path: str | Path) -> None:
    """Prove the report can be written where it goes (create and rename in its directory), changing
    nothing; raises RecordError."""
    p = Path(path)
    if str(path).strip() == "":
        raise RecordError("risk file: the path is empty")
    if p.is_dir():
        raise RecordError(f"{p}: is a directory")
    _refuse_special(p)
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
