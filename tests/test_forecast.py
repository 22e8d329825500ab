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
    return Series(tuple((NOW - (minutes - i) * 60, start + per_minute * i + rng.gauss(0, noise))
                        for i in range(minutes + 1)))


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

    assert t is None or t > 6 * 3600  # never a breach "soon" out of noise


def test_too_little_data_is_no_trend():
    assert fit(Series(((NOW - 60, 1.0), (NOW, 2.0)))) is None
    assert fit(ramp(1, 1, minutes=5)) is None  # 6 points over 5 minutes: less than 10 minutes


def test_a_leak_is_an_oom_forecast_per_container_against_its_limit():
    w = WorkloadObservations(memory={"web-1/app": ramp(400 * MIB, 2 * MIB)},  # 520 MiB now, +2 MiB/min
                             memory_limit={"web-1/app": 600 * MIB})

    [f] = oom("web", w, NOW)

    assert f.subject == "web-1/app" and f.time_to_breach_seconds == pytest.approx(40 * 60, rel=1e-3)
    assert "87% of the 600 MiB limit" in f.detail


def test_error_budget_fast_burn_on_both_windows_is_a_breach_now():
    w = WorkloadObservations(error_ratio=ramp(0.02, 0.0), burn={"5m": 0.02, "1h": 0.016, "30m": 0.018,
                                                                 "6h": 0.004, "30d": 0.0003})

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


def test_restarts_accelerating_into_a_crash_loop():
    counts = [0] * 40 + [0, 0, 1, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9]
    w = WorkloadObservations(restarts=Series(tuple((NOW - (60 - i) * 60, float(c)) for i, c in enumerate(counts))))

    f = restart_trend("web", w, NOW)

    assert f is not None and f.time_to_breach_seconds is not None and "accelerating" in f.detail


def test_missing_series_make_forecasts_unknown_with_the_reason():
    w = WorkloadObservations(unknown={"error_ratio": "no series", "latency_p99": "no series", "memory": "no series"})

    assert error_budget("web", w, SLO(), NOW).unknown == "no series"
    assert latency("web", w, SLO(), NOW).unknown == "no series"
    assert [f.unknown for f in oom("web", w, NOW)] == ["no series"]
