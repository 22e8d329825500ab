"""Forecasts: when, at the current trend, will a workload breach one of the guide's SLOs? Pure.

Each forecast reads the series `selfheal.observed` holds (the last hour, one point a minute, at the
pass's `now`) and answers with a time to breach (seconds from now; 0 = breaching now; None = not within
sight) and the data it used.

The trend (`fit`) is a weighted least-squares line through the hour, each point weighing half as much
every `HALF_LIFE_SECONDS` (10 min) of age, anchored at the last point. A trend counts only when it is real:
the slope's 95 % confidence interval must lie above zero (a noisy but flat series forecasts nothing),
with at least `MIN_POINTS` points over `MIN_SPAN_SECONDS`. The time to breach is when the line plus the
series' own spread around it (`BAND` = 2 residual standard deviations) reaches the threshold: the breach
is of the series, not of its trend line, and a bursty error ratio breaches on its bursts, before its
average does.

Why these choices (bench/backtest.py: eight incident and healthy timelines backfilled into a real
Prometheus, evaluated every 2 minutes over 4 noise seeds; tests/backtest asserts the result):
- Autocorrelation. The series are 5-minute rates and quantiles sampled every minute: neighbours share
  most of their data (lag-1 autocorrelation of the residuals 0.5-0.9 on the backtest's series). Ordinary
  least squares takes them for independent and finds "significant" slopes in flat noise (forecasts of
  breaches hours away on every healthy series). The slope's variance is widened by (1 + rho) / (1 - rho)
  (lag-1 rho of the residuals) and Student's t taken at the effective sample size, the widening capped at
  one independent value per `RATE_WINDOW_SECONDS` (what the 5-minute rate window implies; uncapped, the
  correlated residuals of a curved but real trend, e.g. P99 crossing histogram buckets, hid it).
- Recency. An incident begins somewhere in the hour; an unweighted line through the flat part before it
  underestimates the slope (the error burst and HPA saturation were forecast 10-20 minutes late), and
  fitting only the last 30 minutes let saw-tooths and bursts through as trends (false positives on the
  noisy-healthy timeline). Halving the weight every 10 minutes keeps the hour's evidence for significance
  and the last 20 minutes' slope for the time to breach.
- The band. Without it the error burst was forecast on its average and breached 5-10 minutes early; with
  2 spreads no healthy timeline came nearer (trend significance still gates it).

| kind            | breach                                                           | from                           |
| --------------- | ---------------------------------------------------------------- | ------------------------------ |
| `oom`           | a container's working set reaches its memory limit (an OOM kill) | working set trend vs the limit |
| `error_budget`  | the 5-minute error ratio above 1 - availability SLO (0.1 %), or   | error ratio trend; burn rates  |
|                 | the 30-day error budget spent at the current 1-hour burn rate     |                                |
| `latency`       | P99 above the latency SLO (1.0 s)                                 | P99 trend                      |
| `capacity`      | the HPA at maxReplicas with its metric above target              | demand trend vs max (below)    |
| `restart_trend` | a crash loop: 3 restarts within 10 minutes                        | intervals between restarts     |

Capacity: the replicas the load needs are current replicas x utilisation / target (the HPA's own
formula, unclamped); the breach is that demand above maxReplicas (at max, utilisation above target).
Its trend is smooth where the replica count is a staircase whose utilisation dips below target after
every scale-up (with "utilisation above target" as a gate the forecast came and went). Without a
utilisation series, the replica count's trend while utilisation is above target.

Restarts: a crash loop is announced by restarts coming ever faster. The restart times are read off the
counter (the last 2 hours); when each of the last 3 intervals is shorter than the one before, the
intervals are extrapolated at their geometric rate of shrinking until 3 restarts fall within 10 minutes.
Restarts that stop coming (more than twice the next expected interval) are no longer a trend. (Comparing
the last 15 minutes' restarts with the 45 before, the forecast came and went as single restarts crossed
the boundary, and first warned 2 minutes before the crash loop of the flapping-pod timeline.)

Multi-window burn rates (the SRE workbook's: 1 h and 5 m at 14.4x page, 6 h and 30 m at 6x ticket) are
reported with the error-budget forecast; a fast burn on both windows is a breach now.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

from selfheal.observed import HpaObservation, Observations, Series, WorkloadObservations

MIN_POINTS = 6
MIN_SPAN_SECONDS = 600.0
TREND_SECONDS = 3600.0  # the whole hour (recent points weighing more)
HALF_LIFE_SECONDS = 600.0  # recent points weigh more: half as much every 10 minutes of age
BAND = 2.0  # the breach comes when the trend plus this many residual standard deviations reaches it
MAX_RHO = 0.95  # lag-1 autocorrelation is capped here (the effective sample size stays above zero)
RATE_WINDOW_SECONDS = 300.0  # the queries' rate() window: at most one independent value per window
CRASH_LOOP_RESTARTS = 3
CRASH_LOOP_SECONDS = 600.0  # 3 restarts within 10 minutes: a crash loop
ACCELERATING_INTERVALS = 3  # each of the last 3 intervals between restarts shorter than the one before
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


# ~97.5th percentile of Student's t by degrees of freedom (two-sided 95 %); between rows the lower df's
_T975 = (
    (1, 12.71),
    (2, 4.30),
    (3, 3.18),
    (4, 2.78),
    (5, 2.57),
    (6, 2.45),
    (8, 2.31),
    (10, 2.23),
    (15, 2.13),
    (20, 2.09),
    (30, 2.04),
)


def t95(df: float) -> float:
    if df >= 60:
        return 2.0
    return next((t for d, t in reversed(_T975) if df >= d), math.inf)


@dataclass(frozen=True)
class Fit:
    slope: float  # units per second
    intercept: float  # value at the last point's time
    slope_low: float  # lower bound of the slope's ~95 % interval (autocorrelation allowed for)
    points: int
    span_seconds: float
    spread: float = 0.0  # residual standard deviation: how far single values stray from the line
    rho: float = 0.0  # lag-1 autocorrelation of the residuals (0 when negative)

    def value_at(self, dt: float) -> float:
        """The fitted value `dt` seconds after the last point."""
        return self.intercept + self.slope * dt


def fit(series: Series, window: float | None = None, half_life: float | None = None) -> Fit | None:
    """Weighted least squares of value on time over the last `window` seconds (default `TREND_SECONDS`), each
    point weighing half as much every `half_life` seconds of age (default `HALF_LIFE_SECONDS`; 0: all alike),
    anchored at the last point; None when there is too little data."""
    window = TREND_SECONDS if window is None else window
    half_life = HALF_LIFE_SECONDS if half_life is None else half_life
    pts = series.points
    if pts:
        pts = tuple(p for p in pts if p[0] >= pts[-1][0] - window)
    if len(pts) < MIN_POINTS or pts[-1][0] - pts[0][0] < MIN_SPAN_SECONDS:
        return None
    t_end = pts[-1][0]
    xs = [t - t_end for t, _ in pts]
    ys = [v for _, v in pts]
    ws = [0.5 ** (-x / half_life) if half_life > 0 else 1.0 for x in xs]
    n, total = len(pts), sum(ws)
    n_eff = total * total / sum(w * w for w in ws)
    mx = sum(w * x for w, x in zip(ws, xs, strict=True)) / total
    my = sum(w * y for w, y in zip(ws, ys, strict=True)) / total
    sxx = sum(w * (x - mx) ** 2 for w, x in zip(ws, xs, strict=True))
    if sxx <= 0 or n_eff <= 2:
        return None
    slope = sum(w * (x - mx) * (y - my) for w, x, y in zip(ws, xs, ys, strict=True)) / sxx
    intercept = my - slope * mx  # at x = 0, the last point's time
    res = [y - (intercept + slope * x) for x, y in zip(xs, ys, strict=True)]
    variance = sum(w * r * r for w, r in zip(ws, res, strict=True)) / total * n_eff / (n_eff - 2)
    ss = sum(r * r for r in res)
    rho = min(MAX_RHO, max(0.0, sum(a * b for a, b in itertools.pairwise(res)) / ss)) if ss > 0 else 0.0
    # neighbours share data: widen by the lag-1 autocorrelation, but no more than one independent value per
    # 5-minute rate window implies (a curved trend leaves correlated residuals that are no noise)
    step = (pts[-1][0] - pts[0][0]) / (n - 1)
    inflation = max(1.0, min((1 + rho) / (1 - rho), RATE_WINDOW_SECONDS / step))
    var_slope = (
        variance * sum(w * w * (x - mx) ** 2 for w, x in zip(ws, xs, strict=True)) / sxx**2 * inflation
    )
    stderr = math.sqrt(var_slope)
    low = slope - t95(n_eff / inflation - 2) * stderr if stderr > 0 else slope
    return Fit(slope, intercept, low, n, pts[-1][0] - pts[0][0], math.sqrt(variance), rho)


def time_to_reach(series: Series, threshold: float, now: float) -> tuple[float | None, Fit | None]:
    """Seconds from `now` until the trend (plus `BAND` spreads) reaches `threshold`: 0 when the latest
    value already has; None without a significant upward trend."""
    last = series.last()
    if last is not None and last >= threshold:
        return 0.0, fit(series)
    f = fit(series)
    if f is None or f.slope_low <= 0:
        return None, f
    lag = now - series.points[-1][0]
    reach = f.value_at(lag) + BAND * f.spread
    if reach >= threshold:
        return 0.0, f
    return (threshold - reach) / f.slope, f


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


def _data(series: Series, f: Fit | None, scale: float = 1.0, unit: str = "") -> str:
    if f is None:
        return f"{len(series.points)} points over {series.span_seconds() / 60:.0f} min"
    return (
        f"{f.points} points over {f.span_seconds / 60:.0f} min, slope {f.slope * 60 / scale:+.4g}{unit}/min "
        f"(95 % low {f.slope_low * 60 / scale:+.3g}), spread {f.spread / scale:.3g}{unit}"
    )


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
                f"{_eta(t)} ({_data(series, f, 2**20, ' MiB')})",
                subject=key,
            )
        )
    if not out and w.memory:
        out.append(
            Forecast("oom", name, None, f"{len(w.memory)} containers observed, none with a memory limit")
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


def demand(hpa: HpaObservation) -> Series:
    """The replicas the load needs: current replicas x utilisation / target, where both were observed."""
    if not hpa.target or hpa.target <= 0 or not hpa.utilization_series:
        return Series()
    util = dict(hpa.utilization_series.points)
    return Series(tuple((t, r * util[t] / hpa.target) for t, r in hpa.replicas.points if t in util))


def capacity(name: str, w: WorkloadObservations, now: float) -> Forecast | None:
    hpa = w.hpa
    if hpa is None:  # no HPA scales it, or its HPA could not be observed
        return Forecast("capacity", name, None, "", unknown=w.unknown["hpa"]) if "hpa" in w.unknown else None
    over = hpa.utilization is not None and hpa.target is not None and hpa.utilization > hpa.target
    need = demand(hpa)
    at_max = (hpa.replicas.last() or 0) >= hpa.max_replicas
    if need:
        t, f = time_to_reach(need, hpa.max_replicas, now)
        if at_max and over:
            t = 0.0
        data = f"demand {need.last() or 0:.1f} replicas, {_data(need, f)}"
    else:  # no utilisation series: the replica count's trend, while the metric is above target
        t, f = time_to_reach(hpa.replicas, hpa.max_replicas, now)
        if t is not None and not over:
            t = None  # climbing (or at max) but the metric is within its target: no pressure
        data = _data(hpa.replicas, f)
    load = (
        f"{hpa.utilization:.0f}% of {hpa.target:.0f}% target"
        if hpa.utilization is not None and hpa.target is not None
        else "utilisation unknown"
    )
    return Forecast(
        "capacity",
        name,
        t,
        f"{hpa.replicas.last() or 0:.0f}/{hpa.max_replicas:.0f} replicas, {load}, {_eta(t)} ({data})",
    )


def restart_times(series: Series) -> list[float]:
    """The moments the counter went up (once per moment: pods restarting together are one event); a
    counter going down is a pod replaced, not a restart."""
    return [t1 for (_, v0), (t1, v1) in zip(series.points, series.points[1:], strict=False) if v1 > v0]


def restart_trend(name: str, w: WorkloadObservations, now: float) -> Forecast | None:
    pts = w.restarts.points
    if len(pts) < 2:
        return None
    times = restart_times(w.restarts)
    span = (pts[-1][0] - pts[0][0]) / 60
    recent = [t for t in times if t > now - CRASH_LOOP_SECONDS]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    last = gaps[-ACCELERATING_INTERVALS:]
    shrinking = len(last) == ACCELERATING_INTERVALS and all(b < a for a, b in itertools.pairwise(last))
    t: float | None = None
    if len(recent) >= CRASH_LOOP_RESTARTS:
        t, how = 0.0, f"{len(recent)} within {CRASH_LOOP_SECONDS / 60:.0f} min: a crash loop"
    elif shrinking:
        ratio = (last[-1] / last[0]) ** (1 / (len(last) - 1))
        seq, gap = list(times), last[-1]
        while seq[-1] - seq[-CRASH_LOOP_RESTARTS] > CRASH_LOOP_SECONDS and len(seq) < len(times) + 50:
            gap *= ratio
            seq.append(seq[-1] + gap)
        stalled = now - times[-1] > 2 * last[-1] * ratio
        t = None if stalled else max(0.0, seq[-1] - now)
        how = f"intervals {', '.join(f'{g / 60:.0f}' for g in last)} min, shrinking x{ratio:.2f}" + (
            ": stopped since" if stalled else ""
        )
    else:
        how = "not accelerating"
    return Forecast(
        "restart_trend",
        name,
        t,
        f"{len(times)} restarts in {span:.0f} min, {how}, {_eta(t)}",
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
