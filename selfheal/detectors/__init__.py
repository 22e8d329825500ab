"""Detector registry. A new detector is one module with `NAME` and `detect(snapshot, config, now)`,
plus one line in `REGISTRY` below.

Every detector is pure (see `base.py`); `run_detectors` calls them all and returns the findings in a
deterministic order (most severe first, then workload name).
"""

from __future__ import annotations

from collections.abc import Mapping
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
from selfheal.findings import Finding
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
    findings = [f for detect in registry.values() for f in detect(snapshot, config, now)]
    return tuple(sorted(findings, key=Finding.sort_key))


__all__ = ["REGISTRY", "Detector", "DetectorConfig", "run_detectors"]
