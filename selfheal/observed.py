"""What Prometheus observed about each workload: the series the forecasts read. Values only; no I/O.

`selfheal.signals` fills it (each query at the pass's `now`, over a window before it); `selfheal.forecast`
turns it into forecasts. A signal that could not be observed is absent from its workload, with the reason
in `unknown` (no series, NaN, ±Inf, a query that failed or timed out): a forecast that needs it says
"unknown" with that reason, and the risk report's `confidence` lists it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from selfheal.view import SourceState

Point = tuple[float, float]  # (unix seconds, value)

BURN_WINDOWS = ("5m", "30m", "1h", "6h", "30d")


@dataclass(frozen=True)
class Series:
    """Points in time order; NaN and ±Inf are dropped when the series is built (`of`)."""

    points: tuple[Point, ...] = ()

    @classmethod
    def of(cls, points: object) -> Series:
        clean: list[Point] = []
        for item in points if isinstance(points, list | tuple) else ():
            try:
                t, v = float(item[0]), float(item[1])
            except (TypeError, ValueError, IndexError):
                continue
            if math.isfinite(t) and math.isfinite(v):
                clean.append((t, v))
        return cls(tuple(sorted(clean)))

    def __bool__(self) -> bool:
        return bool(self.points)

    def last(self) -> float | None:
        return self.points[-1][1] if self.points else None

    def span_seconds(self) -> float:
        return self.points[-1][0] - self.points[0][0] if len(self.points) > 1 else 0.0


@dataclass(frozen=True)
class HpaObservation:
    replicas: Series  # status.currentReplicas over the window
    max_replicas: float
    utilization: float | None = None  # the metric's current value (percent of requests), when it is known
    target: float | None = None  # the metric's target, same unit
    utilization_series: Series = field(default_factory=Series)  # the metric over the window, when known


@dataclass(frozen=True)
class WorkloadObservations:
    request_rate: Series = field(default_factory=Series)  # requests/s (5m rate) over the window
    error_ratio: Series = field(default_factory=Series)  # 5xx / all (5m rate) over the window
    burn: Mapping[str, float] = field(default_factory=dict)  # error ratio over each BURN_WINDOWS window
    latency_p99: Series = field(default_factory=Series)  # seconds, over the window
    restarts: Series = field(default_factory=Series)  # container restarts of its pods (counter), last 2 hours
    memory: Mapping[str, Series] = field(default_factory=dict)  # "pod/container" -> working set bytes
    memory_limit: Mapping[str, float] = field(default_factory=dict)  # "pod/container" -> limit bytes
    hpa: HpaObservation | None = None
    unknown: Mapping[str, str] = field(default_factory=dict)  # signal -> why it was not observed


@dataclass(frozen=True)
class Observations:
    state: SourceState = SourceState.UNAVAILABLE
    detail: str = "no prometheus_url configured"
    at: datetime | None = None
    window_seconds: int = 3600
    workloads: Mapping[str, WorkloadObservations] = field(default_factory=dict)
