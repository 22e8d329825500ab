"""Missing probes: containers without a liveness or readiness probe. A finding only (feeds the risk score)."""

from __future__ import annotations

from datetime import datetime

from selfheal.detectors.base import DetectorConfig
from selfheal.findings import Cause, CauseCode, Finding, Severity
from selfheal.kube.refs import ref_of
from selfheal.view import Snapshot

NAME = "probes"


def detect(snapshot: Snapshot, config: DetectorConfig, now: datetime) -> list[Finding]:
    findings: list[Finding] = []
    for dep in snapshot.deployments:
        missing = []
        for c in dep.spec.template.spec.containers:
            absent = [
                kind
                for kind, probe in (("liveness", c.liveness_probe), ("readiness", c.readiness_probe))
                if probe is None
            ]
            if absent:
                missing.append(f"container {c.name}: no {' and no '.join(absent)} probe")
        if missing:
            summary = f"{len(missing)} of {len(dep.spec.template.spec.containers)} containers lack probes"
            findings.append(
                Finding(
                    NAME,
                    ref_of("Deployment", dep.metadata),
                    Severity.INFO,
                    Cause(CauseCode.MISSING_PROBES, summary),
                    tuple(missing),
                )
            )
    return findings
