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
from selfheal.findings import CauseCode, Finding, Ladder, PlannedAction
from selfheal.kube.managed import last_written
from selfheal.kube.model import (
    ANN_CONFIG_CHECKSUM,
    ANN_CONFIG_HASH,
    ANN_DESIRED_REPLICAS,
    ANN_LAST_APPLIED,
    Deployment,
)
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
        _with_onset(f, snapshot, now) for detect in registry.values() for f in detect(snapshot, config, now)
    ]
    return tuple(sorted(findings, key=Finding.sort_key))


# What defines each drift: the latest write of one of these fields, by anyone but the job, is when it began.
_DRIFT_FIELDS: Mapping[CauseCode, tuple[tuple[str, ...], ...]] = {
    CauseCode.REPLICA_DRIFT: (
        ("spec", "replicas"),
        ("metadata", "annotations", ANN_DESIRED_REPLICAS),
        ("metadata", "annotations", ANN_LAST_APPLIED),
    ),
    CauseCode.HPA_CLAMP: (("spec", "replicas"),),  # and the HPA's bounds (below)
    CauseCode.CONFIG_HASH_DRIFT: (("spec", "template"), ("metadata", "annotations", ANN_CONFIG_HASH)),
    CauseCode.CONFIGMAP_CHANGED: (("spec", "template", "metadata", "annotations", ANN_CONFIG_CHECKSUM),),
}


def _drift_since(snapshot: Snapshot, dep: Deployment, cause: CauseCode) -> datetime | None:
    """When the drift began: the scale, the edit of the template, the changed annotation, the HPA's new
    bounds or the ConfigMap's new content, whichever came last (managedFields; None where none say)."""
    if cause not in _DRIFT_FIELDS:
        return None
    times = [last_written(dep.metadata, _DRIFT_FIELDS[cause])]
    if cause is CauseCode.HPA_CLAMP and (hpa := snapshot.hpa_for(dep)) is not None:
        times.append(last_written(hpa.metadata, (("spec", "minReplicas"), ("spec", "maxReplicas"))))
    if cause is CauseCode.CONFIGMAP_CHANGED:
        times += [snapshot.configmap_written.get(n) for n in dep.spec.template.configmap_names()]
    return max((at for at in times if at is not None), default=None)


def _with_onset(finding: Finding, snapshot: Snapshot, now: datetime) -> Finding:
    """Each action carries when what it answers began, so a later pass measures from there
    (`selfheal.verify`): for a health action the earliest moment a pod of the Deployment went not Ready
    (`Snapshot.unready_since`), for a config or replica action the write that started the drift
    (`_drift_since`). Where the view shows no such moment (no managedFields, or one in the future of this
    pass' clock), the action carries none and the pass that acts stands in for it."""
    dep = snapshot.deployment(finding.workload.name) if finding.workload.kind == "Deployment" else None
    if dep is None:
        return finding
    health = snapshot.unready_since(dep)
    drift = _drift_since(snapshot, dep, finding.cause.code)
    onsets = {Ladder.HEALTH: health, Ladder.CONFIG: drift, Ladder.REPLICAS: drift}

    def stamped(a: PlannedAction) -> PlannedAction:
        onset = onsets.get(a.ladder)
        return replace(a, onset=onset) if onset is not None and onset <= now else a

    return replace(
        finding,
        actions=tuple(stamped(a) for a in finding.actions),
        escalation=stamped(finding.escalation) if finding.escalation is not None else None,
    )


__all__ = ["REGISTRY", "Detector", "DetectorConfig", "run_detectors"]
