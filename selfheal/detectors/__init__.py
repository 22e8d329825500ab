"""Detector registry. A new detector is one module with `NAME` and `detect(snapshot, config, now)`,
plus one line in `REGISTRY` below.

Every detector is pure (see `base.py`); `run_detectors` calls them all and returns the findings in a
deterministic order (most severe first, then workload name).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime

from selfheal.detectors import (
    bad_revision,
    canary,
    config_drift,
    crashloop,
    probes,
    replica_drift,
    undecodable,
)
from selfheal.detectors.base import Detector, DetectorConfig
from selfheal.findings import Finding, Ladder, PlannedAction
from selfheal.view import Snapshot

REGISTRY: Mapping[str, Detector] = {
    crashloop.NAME: crashloop.detect,
    bad_revision.NAME: bad_revision.detect,
    replica_drift.NAME: replica_drift.detect,
    config_drift.NAME: config_drift.detect,
    probes.NAME: probes.detect,
    canary.NAME: canary.detect,
    undecodable.NAME: undecodable.detect,
}


def run_detectors(
    snapshot: Snapshot, config: DetectorConfig, now: datetime, registry: Mapping[str, Detector] = REGISTRY
) -> tuple[Finding, ...]:
    findings = [
        _with_onset(f, snapshot) for detect in registry.values() for f in detect(snapshot, config, now)
    ]
    return tuple(sorted(findings, key=Finding.sort_key))


def _with_onset(finding: Finding, snapshot: Snapshot) -> Finding:
    """Health actions carry when the failure began (`Snapshot.unready_since`), so a later pass can measure
    the recovery from there (`selfheal.verify`); drift has no such moment in the view (its onset is the
    pass that acted)."""
    dep = snapshot.deployment(finding.workload.name) if finding.workload.kind == "Deployment" else None
    onset = snapshot.unready_since(dep) if dep is not None else None
    if onset is None:
        return finding

    def stamped(a: PlannedAction) -> PlannedAction:
        return replace(a, onset=onset) if a.ladder is Ladder.HEALTH else a

    return replace(
        finding,
        actions=tuple(stamped(a) for a in finding.actions),
        escalation=stamped(finding.escalation) if finding.escalation is not None else None,
    )


__all__ = ["REGISTRY", "Detector", "DetectorConfig", "run_detectors"]
