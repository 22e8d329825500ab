"""Forecasts: when, at the current trend, will a workload breach one of the guide's SLOs? Pure.

Each forecast reads the series `selfheal.observed` holds (the last hour, one point a minute, at the
pass's `now`) and answers with a time to breach (seconds from now; 0 = breaching now; None = not within
sight) and the data it used. A trend counts only when it is real: the least-squares slope's 95 %
confidence interval must lie above zero (a noisy but flat series forecasts nothing) and the series must
cover at least `MIN_SPAN_SECONDS` with `MIN_POINTS` points.

| kind            | breach                                                           | from                           |
| --------------- | ---------------------------------------------------------------- | ------------------------------ |
| `oom`           | a container's working set reaches its memory limit (an OOM kill) | working set trend vs the limit |
| `error_budget`  | the 5-minute error ratio above 1 - availability SLO (0.1 %), or   | error ratio trend; burn rates  |
|                 | the 30-day error budget spent at the current 1-hour burn rate     |                                |
| `latency`       | P99 above the latency SLO (1.0 s)                                 | P99 trend                      |
| `capacity`      | the HPA at maxReplicas with its metric above target              | replica trend vs max           |
| `restart_trend` | restarts accelerating into a crash loop (3 restarts)             | restarts: last 15 min vs before |

Multi-window burn rates (the SRE workbook's: 1 h and 5 m at 14.4x page, 6 h and 30 m at 6x ticket) are
reported with the error-budget forecast; a fast burn on both windows is a breach now.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from selfheal.observed import Observations, Series, WorkloadObservations

MIN_POINTS = 6
MIN_SPAN_SECONDS = 600.0
T95 = 2.0  # ~97.5th percentile of Student's t for the sample sizes used (>= 6 points): conservative
RECENT_SECONDS = 900.0
CRASH_LOOP_RESTARTS = 3
MONTH_SECONDS = 30 * 86400
MIN_REQUESTS_PER_SECOND = 1 / 60


@dataclass(frozen=True)
class SLO:
    availability: float = 0.999  # error budget 0.1 %
    latency_p99_seconds: float = 1.0
    recovery_seconds: float = 300.0
    drift_resolution_seconds: float = 600.0

    @property
    def error_budget(self) -> float:
        return 1.0 - self.availability


@dataclass(frozen=True)
class Fit:
    slope: float  # units per second
    intercept: float  # value at the last point's time
    slope_low: float  # lower bound of the slope's ~95 % interval
    points: int
    span_seconds: float

    def value_at(self, dt: float) -> float:
        """The fitted value `dt` seconds after the last point."""
        return self.intercept + self.slope * dt


def fit(series: Series) -> Fit | None:
    """Least squares of value on time, anchored at the last point; None when there is too little data."""
    pts = series.points
    if len(pts) < MIN_POINTS or series.span_seconds() < MIN_SPAN_SECONDS:
        return None
    t_end = pts[-1][0]
    xs = [t - t_end for t, _ in pts]
    ys = [v for _, v in pts]
    n = len(pts)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx <= 0:
        return None
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx
    intercept = my - slope * mx  # at x = 0, the last point's time
    residual = sum((y - (intercept + slope * x)) ** 2 for x, y in zip(xs, ys, strict=True))
    stderr = math.sqrt(residual / (n - 2) / sxx) if n > 2 else math.inf
    return Fit(slope, intercept, slope - T95 * stderr, n, series.span_seconds())


def time_to_reach(series: Series, threshold: float, now: float) -> tuple[float | None, Fit | None]:
    """Seconds from `now` until the trend reaches `threshold`: 0 when the latest value already has; None
    without a significant upward trend."""
    last = series.last()
    if last is not None and last >= threshold:
        return 0.0, fit(series)
    f = fit(series)
    if f is None or f.slope_low <= 0:
        return None, f
    lag = now - series.points[-1][0]
    current = f.value_at(lag)
    if current >= threshold:
        return 0.0, f
    return (threshold - current) / f.slope, f


@dataclass(frozen=True)
class Forecast:
    kind: str
    workload: str
    time_to_breach_seconds: float | None  # None: no breach in sight (or unknown, see `unknown`)
    detail: str
    subject: str = ""  # e.g. the pod/container, for oom
    unknown: str = ""  # why it could not be forecast (a missing series, too little data)

    @property
    def known(self) -> bool:
        return not self.unknown


def _data(series: Series, f: Fit | None) -> str:
    if f is None:
        return f"{len(series.points)} points over {series.span_seconds() / 60:.0f} min"
    return f"{f.points} points over {f.span_seconds / 60:.0f} min, slope {f.slope * 60:+.4g}/min"


def _eta(t: float | None) -> str:
    if t is None:
        return "no breach in sight"
    return "breaching now" if t == 0 else f"breach in {t / 60:.0f} min"


def oom(name: str, w: WorkloadObservations, now: float) -> list[Forecast]:
    out = []
    for key, series in sorted(w.memory.items()):
        limit = w.memory_limit.get(key)
        if limit is None or limit <= 0:
            continue
        t, f = time_to_reach(series, limit, now)
        used = (series.last() or 0.0) / limit
        out.append(
            Forecast(
                "oom",
                name,
                t,
                f"working set {used:.0%} of the {limit / 2**20:.0f} MiB limit, "
                f"{_eta(t)} ({_data(series, f)})",
                subject=key,
            )
        )
    if not out and "memory" in w.unknown:
        out.append(Forecast("oom", name, None, "", unknown=w.unknown["memory"]))
    return out


def burn_rates(w: WorkloadObservations, slo: SLO) -> dict[str, float]:
    return {window: ratio / slo.error_budget for window, ratio in w.burn.items()}


def too_quiet(w: WorkloadObservations) -> str:
    """Ratios and quantiles of a handful of requests are noise: under one request a minute, do not judge."""
    rates = [v for _, v in w.request_rate.points]
    if rates and sum(rates) / len(rates) < MIN_REQUESTS_PER_SECOND:
        return f"too little traffic to judge ({sum(rates) / len(rates) * 60:.2f} requests/min)"
    return ""


def error_budget(name: str, w: WorkloadObservations, slo: SLO, now: float) -> Forecast:
    if not w.error_ratio and not w.burn:
        return Forecast(
            "error_budget", name, None, "", unknown=w.unknown.get("error_ratio", "no request metrics")
        )
    if quiet := too_quiet(w):
        return Forecast("error_budget", name, None, "", unknown=quiet)
    t, f = time_to_reach(w.error_ratio, slo.error_budget, now) if w.error_ratio else (None, None)
    burn = burn_rates(w, slo)
    fast = burn.get("1h", 0) >= 14.4 and burn.get("5m", 0) >= 14.4
    slow = burn.get("6h", 0) >= 6 and burn.get("30m", 0) >= 6
    if fast:
        t = 0.0
    exhaustion = None
    if burn.get("1h", 0) > 1:
        spent = min(1.0, burn.get("30d", 0.0)) if "30d" in burn else 0.0
        exhaustion = (1.0 - spent) * MONTH_SECONDS / burn["1h"]
        t = exhaustion if t is None else min(t, exhaustion)
    rates = ", ".join(f"{k} {v:.1f}x" for k, v in burn.items())
    alerts = "fast burn (page)" if fast else "slow burn (ticket)" if slow else "within budget"
    budget = f"; budget spent in {exhaustion / 3600:.1f} h at the 1 h rate" if exhaustion is not None else ""
    return Forecast(
        "error_budget",
        name,
        t,
        f"burn rates {rates or 'unknown'}: {alerts}{budget}; "
        f"error ratio {_eta(t)} ({_data(w.error_ratio, f)})",
    )


def latency(name: str, w: WorkloadObservations, slo: SLO, now: float) -> Forecast:
    if not w.latency_p99:
        return Forecast(
            "latency", name, None, "", unknown=w.unknown.get("latency_p99", "no latency histogram")
        )
    if quiet := too_quiet(w):
        return Forecast("latency", name, None, "", unknown=quiet)
    t, f = time_to_reach(w.latency_p99, slo.latency_p99_seconds, now)
    p99 = w.latency_p99.last() or 0.0
    return Forecast(
        "latency",
        name,
        t,
        f"P99 {p99:.3f} s against {slo.latency_p99_seconds} s, {_eta(t)} ({_data(w.latency_p99, f)})",
    )


def capacity(name: str, w: WorkloadObservations, now: float) -> Forecast | None:
    hpa = w.hpa
    if hpa is None:
        return None
    over = hpa.utilization is not None and hpa.target is not None and hpa.utilization > hpa.target
    t, f = time_to_reach(hpa.replicas, hpa.max_replicas, now)
    if t is not None and t > 0 and not over:
        t = None  # climbing, but the metric is within its target: no pressure
    if t == 0 and not over:
        t = None  # at max, but coping
    load = (
        f"{hpa.utilization:.0f}% of {hpa.target:.0f}% target"
        if over or hpa.utilization
        else "utilisation unknown"
    )
    return Forecast(
        "capacity",
        name,
        t,
        f"{hpa.replicas.last() or 0:.0f}/{hpa.max_replicas:.0f} replicas, {load}, "
        f"{_eta(t)} ({_data(hpa.replicas, f)})",
    )


def restart_trend(name: str, w: WorkloadObservations, now: float) -> Forecast | None:
    pts = w.restarts.points
    if len(pts) < 2 or pts[-1][0] - pts[0][0] < 2 * RECENT_SECONDS:
        return None
    cut = pts[-1][0] - RECENT_SECONDS
    before = [p for p in pts if p[0] <= cut]
    recent_n = max(0.0, pts[-1][1] - before[-1][1])
    earlier_n = max(0.0, before[-1][1] - pts[0][1])
    recent_rate = recent_n / RECENT_SECONDS
    earlier_rate = earlier_n / max(1.0, before[-1][0] - pts[0][0])
    accelerating = recent_n >= 2 and recent_rate > 2 * earlier_rate
    t = CRASH_LOOP_RESTARTS / recent_rate if accelerating else None
    return Forecast(
        "restart_trend",
        name,
        t,
        f"{recent_n:.0f} restarts in the last 15 min, {earlier_n:.0f} in the "
        f"{(before[-1][0] - pts[0][0]) / 60:.0f} min before: "
        f"{'accelerating' if accelerating else 'steady'}, {_eta(t)}",
    )


def forecasts(obs: Observations, slo: SLO) -> list[Forecast]:
    """Every forecast for every observed workload, in a stable order."""
    if obs.at is None:
        return []
    now = obs.at.timestamp()
    out: list[Forecast] = []
    for name, w in sorted(obs.workloads.items()):
        out += oom(name, w, now)
        out.append(error_budget(name, w, slo, now))
        out.append(latency(name, w, slo, now))
        out += [f for f in (capacity(name, w, now), restart_trend(name, w, now)) if f is not None]
    return out


def soonest(found: Sequence[Forecast]) -> float | None:
    times = [f.time_to_breach_seconds for f in found if f.time_to_breach_seconds is not None]
    return min(times) if times else None
