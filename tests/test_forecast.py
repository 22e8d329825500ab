"""Forecasts from series: a trend counts only when it is real; each kind answers with a time to breach."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from selfheal.forecast import SLO, capacity, error_budget, fit, latency, oom, restart_trend, time_to_reach
from selfheal.observed import HpaObservation, Series, WorkloadObservations

NOW = 1_800_000_000.0
MIB = 2.0**20


def ramp(start: float, per_minute: float, minutes: int = 60, noise: float = 0.0, seed: int = 1) -> Series:
    rng = random.Random(seed)
    return Series(
        tuple(
            (NOW - (minutes - i) * 60, start + per_minute * i + rng.gauss(0, noise))
            for i in range(minutes + 1)
        )
    )


def test_a_steady_climb_reaches_its_threshold_when_the_line_says():
    t, f = time_to_reach(ramp(100, 1), 130, NOW)  # 160 now, so already above

    assert t == 0
    t, f = time_to_reach(ramp(100, 1), 190, NOW)  # 160 now, +1/min: 30 min to go

    assert t == pytest.approx(30 * 60, rel=1e-6) and f is not None and f.points == 61


@settings(max_examples=50, deadline=None)
@given(st.integers(min_value=0, max_value=10_000))
def test_a_noisy_but_flat_series_forecasts_nothing(seed):
    flat = ramp(0.0002, 0.0, noise=0.00005, seed=seed)

    t, _ = time_to_reach(flat, 0.001, NOW)

    assert t is None or t > 4 * 3600  # never a breach "soon" (within hours of the 1 h horizon) out of noise


def test_too_little_data_is_no_trend():
    assert fit(Series(((NOW - 60, 1.0), (NOW, 2.0)))) is None
    assert fit(ramp(1, 1, minutes=5)) is None  # 6 points over 5 minutes: less than 10 minutes


def test_a_leak_is_an_oom_forecast_per_container_against_its_limit():
    w = WorkloadObservations(
        memory={"web-1/app": ramp(400 * MIB, 2 * MIB)},  # 520 MiB now, +2 MiB/min
        memory_limit={"web-1/app": 600 * MIB},
    )

    [f] = oom("web", w, NOW)

    assert f.subject == "web-1/app" and f.time_to_breach_seconds == pytest.approx(40 * 60, rel=1e-3)
    assert "87% of the 600 MiB limit" in f.detail


def test_error_budget_fast_burn_on_both_windows_is_a_breach_now():
    w = WorkloadObservations(
        error_ratio=ramp(0.02, 0.0), burn={"5m": 0.02, "1h": 0.016, "30m": 0.018, "6h": 0.004, "30d": 0.0003}
    )

    f = error_budget("web", w, SLO(), NOW)

    assert f.time_to_breach_seconds == 0 and "fast burn (page)" in f.detail


def test_error_budget_spent_at_the_hourly_burn_rate():
    # 2x burn on the hour, half of the month's budget spent: the rest lasts 15 days / 2 ... 7.5 days
    w = WorkloadObservations(burn={"5m": 0.002, "30m": 0.002, "1h": 0.002, "6h": 0.002, "30d": 0.0005})

    f = error_budget("web", w, SLO(), NOW)

    assert f.time_to_breach_seconds == pytest.approx(0.5 * 30 * 86400 / 2)


def test_latency_creeping_towards_the_slo():
    w = WorkloadObservations(latency_p99=ramp(0.3, 0.01))  # 0.9 s now, +0.01 s/min

    f = latency("web", w, SLO(), NOW)

    assert f.time_to_breach_seconds == pytest.approx(10 * 60, rel=1e-3)


def test_an_hpa_at_max_under_load_is_out_of_capacity_and_one_coping_is_not():
    at_max = Series(tuple((NOW - i * 60, 10.0) for i in range(30, -1, -1)))
    loaded = WorkloadObservations(hpa=HpaObservation(at_max, 10, utilization=95, target=70))
    coping = WorkloadObservations(hpa=HpaObservation(at_max, 10, utilization=60, target=70))

    assert capacity("web", loaded, NOW).time_to_breach_seconds == 0
    assert capacity("web", coping, NOW).time_to_breach_seconds is None


def restarts_at(*minutes: float, span: int = 120) -> WorkloadObservations:
    """A restart counter sampled every minute over `span` minutes, going up at the given minutes before NOW."""
    return WorkloadObservations(
        restarts=Series(
            tuple(
                (
                    NOW - (span - i) * 60,
                    float(sum(1 for m in minutes if NOW - m * 60 <= NOW - (span - i) * 60)),
                )
                for i in range(span + 1)
            )
        )
    )


def test_restarts_coming_ever_faster_are_extrapolated_into_a_crash_loop():
    # intervals 16, 12, 9 min (x0.75 each): next 6.75, 5.06, 3.80 -> 3 restarts within 10 min 7.6 min from now
    f = restart_trend("web", restarts_at(45, 29, 17, 8), NOW)

    assert f is not None and "shrinking x0.75" in f.detail
    assert f.time_to_breach_seconds == pytest.approx((-8 + 6.75 + 5.0625 + 3.796875) * 60)


def test_restarts_that_stopped_coming_or_never_sped_up_forecast_nothing_and_a_crash_loop_is_now():
    stopped = restart_trend("web", restarts_at(95, 79, 67, 58), NOW)  # the same story, 50 min ago
    steady = restart_trend("web", restarts_at(100, 80, 60, 40, 20), NOW)
    looping = restart_trend("web", restarts_at(20, 9, 6, 2), NOW)

    assert (
        stopped is not None and stopped.time_to_breach_seconds is None and "stopped since" in stopped.detail
    )
    assert (
        steady is not None and steady.time_to_breach_seconds is None and "not accelerating" in steady.detail
    )
    assert looping is not None and looping.time_to_breach_seconds == 0 and "3 within 10 min" in looping.detail


def test_missing_series_make_forecasts_unknown_with_the_reason():
    w = WorkloadObservations(
        unknown={"error_ratio": "no series", "latency_p99": "no series", "memory": "no series"}
    )

    assert error_budget("web", w, SLO(), NOW).unknown == "no series"
    assert latency("web", w, SLO(), NOW).unknown == "no series"
    assert [f.unknown for f in oom("web", w, NOW)] == ["no series"]


def five_minute_rate_of_noise(seed: int) -> Series:
    """What `rate(x[5m])` sampled every minute makes of white noise: neighbours share 4 of their 5 minutes."""
    rng = random.Random(seed)
    raw = [rng.gauss(0, 1) for _ in range(66)]
    return Series(tuple((NOW - (60 - i) * 60, 10 + sum(raw[i : i + 5]) / 5) for i in range(61)))


def test_a_5_minute_rate_of_flat_noise_is_no_trend():
    """Taken for 61 independent points, 19 % of these series had a 'significant' slope; allowing for the
    autocorrelation (at most one independent value per 5-minute window) leaves the 95 % interval honest."""
    significant = sum(
        1 for seed in range(300) if (f := fit(five_minute_rate_of_noise(seed))) and f.slope_low > 0
    )

    assert significant / 300 < 0.025


def test_capacity_follows_the_load_not_the_replica_staircase():
    """Load +0.03 cores/min under an HPA (70 % target, 10 % tolerance, max 10): after each scale-up utilisation
    dips below target, yet the forecast holds at every pass, and counts down with the clock."""
    minutes = range(-120, 1)
    load = {m: 6.4 + 0.03 * m for m in minutes}  # 7 cores (10 replicas x 70 %) at NOW + 20 min
    replicas, current = {}, 3
    for m in minutes:
        if load[m] / current > 0.77:
            current = min(10, -(-load[m] // 0.7))
        replicas[m] = float(current)
    etas = []
    for now in range(-20, 1):
        pts = [m for m in minutes if now - 60 <= m <= now]
        hpa = HpaObservation(
            Series(tuple((NOW + m * 60, replicas[m]) for m in pts)),
            10,
            utilization=100 * load[now] / replicas[now],
            target=70,
            utilization_series=Series(tuple((NOW + m * 60, 100 * load[m] / replicas[m]) for m in pts)),
        )
        f = capacity("web", WorkloadObservations(hpa=hpa), NOW + now * 60)
        assert f is not None and f.time_to_breach_seconds is not None, (now, f)
        etas.append(f.time_to_breach_seconds / 60 + now)
    assert all(e == pytest.approx(20, abs=0.5) for e in etas), (
        etas
    )  # the same breach time, seen from every pass


def test_a_bursty_series_breaches_on_its_bursts_before_its_average(monkeypatch):
    """Error ratio +0.0005 %/min with a burst every 5 minutes: the breach is of the series, not of its line."""
    bursty = Series(
        tuple(
            (NOW - (60 - i) * 60, 0.0002 + 0.000005 * i + (0.0002 if i % 5 == 0 else 0.0)) for i in range(61)
        )
    )

    t, f = time_to_reach(bursty, 0.001, NOW)
    monkeypatch.setattr("selfheal.forecast.BAND", 0.0)
    t_line, _ = time_to_reach(bursty, 0.001, NOW)

    assert f is not None and f.spread > 0
    assert t is not None and t_line is not None and t < t_line
    assert t == pytest.approx(t_line - 2 * f.spread / f.slope)
