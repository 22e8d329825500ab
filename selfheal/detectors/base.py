"""What every detector shares: its configuration and its signature.

A detector is a pure function `detect(snapshot, config, now) -> list[Finding]`: no I/O, no clock
(`now` is a parameter), no knowledge of other detectors' output. Cross-detector decisions (which
action wins for a workload, rails, caps) belong to `selfheal.planning`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from selfheal.findings import Finding
from selfheal.settings import Settings
from selfheal.snapshot import Snapshot


@dataclass(frozen=True)
class DetectorConfig:
    restart_threshold: int = 3
    waiting_grace_seconds: int = 300  # image-pull / config errors younger than this are not reported
    canary_error_threshold: float = 0.05
    canary_bake_seconds: int = 600
    canary_auto_promote: bool = False

    @classmethod
    def from_settings(cls, s: Settings) -> DetectorConfig:
        return cls(
            restart_threshold=s.restart_threshold,
            waiting_grace_seconds=s.waiting_grace_seconds,
            canary_error_threshold=s.canary_error_threshold,
            canary_bake_seconds=s.canary_bake_seconds,
            canary_auto_promote=s.canary_auto_promote,
        )


class Detector(Protocol):
    def __call__(self, snapshot: Snapshot, config: DetectorConfig, now: datetime) -> list[Finding]: ...
