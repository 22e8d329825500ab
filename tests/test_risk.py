"""The risk model, recomputed by hand and held to its properties (bounded, monotone, explained)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from selfheal.forecast import Forecast
from selfheal.risk import WEIGHTS, Factor, combine, forecast_factors, level_for, urgency

unit = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
weight = st.floats(min_value=0.01, max_value=1.0, allow_nan=False)


def factors(values: list[float], weights: list[float]) -> list[Factor]:
    return [Factor(f"f{i}", v, w, "") for i, (v, w) in enumerate(zip(values, weights, strict=False))]


def test_one_crash_looping_deployment_and_an_oom_in_half_the_horizon_by_hand():
    # failing_workloads: 1 Deployment -> v = 1 - 0.5 = 0.5, p = 0.9 * 0.5 = 0.45
    # oom: breach in 30 of 60 min -> urgency 0.5, p = 0.8 * 0.5 = 0.40
    a = combine([Factor("failing_workloads", 0.5, 0.9, ""), Factor("oom", urgency(1800, 3600), 0.8, "")])

    assert a.score == pytest.approx(1 - (1 - 0.45) * (1 - 0.40))  # 0.67
    assert a.level == "high"
    assert sum(a.contributions.values()) == pytest.approx(a.score)
    assert a.contributions["failing_workloads"] / a.contributions["oom"] == pytest.approx(
        math.log(1 - 0.45) / math.log(1 - 0.40)
    )


@given(st.lists(unit, min_size=1, max_size=10), st.lists(weight, min_size=10, max_size=10))
def test_the_score_is_a_probability_and_the_contributions_add_up_to_it(values, weights):
    a = combine(factors(values, weights))

    assert 0.0 <= a.score <= 1.0
    assert sum(a.contributions.values()) == pytest.approx(a.score, abs=1e-9)
    assert all(c >= 0 for c in a.contributions.values())


@given(
    st.lists(unit, min_size=1, max_size=10),
    st.lists(weight, min_size=10, max_size=10),
    st.integers(min_value=0, max_value=9),
    unit,
)
def test_the_score_never_falls_when_a_factor_rises(values, weights, i, more):
    i %= len(values)
    raised = list(values)
    raised[i] = max(values[i], more)

    assert combine(factors(raised, weights)).score >= combine(factors(values, weights)).score


@given(
    st.lists(unit, min_size=1, max_size=10),
    st.lists(weight, min_size=10, max_size=10),
    st.integers(min_value=0, max_value=9),
    weight,
)
def test_the_score_never_falls_when_a_weight_rises(values, weights, i, more):
    i %= len(values)
    raised = list(weights)
    raised[i] = max(weights[i], more)

    assert combine(factors(values, raised)).score >= combine(factors(values, weights)).score


@given(
    st.floats(min_value=0, max_value=1e6, allow_nan=False),
    st.floats(min_value=0, max_value=1e6, allow_nan=False),
)
def test_a_breach_weighs_more_the_sooner_it_comes(t1, t2):
    sooner, later = sorted((t1, t2))
    assert urgency(sooner, 3600) >= urgency(later, 3600)
    assert urgency(0, 3600) == 1.0 and urgency(3600, 3600) == 0.0 and urgency(None, 3600) == 0.0


def test_each_forecast_factor_takes_its_soonest_known_breach_and_says_so():
    found = [
        Forecast("oom", "web", 1200.0, "working set 90%", subject="web-1/app"),
        Forecast("oom", "api", 3000.0, "working set 60%"),
        Forecast("latency", "web", None, "P99 0.2 s"),
        Forecast("error_budget", "web", None, "", unknown="no request metrics"),
    ]

    by_name = {f.name: f for f in forecast_factors(found, 3600)}

    assert by_name["oom"].time_to_breach_seconds == 1200.0 and by_name["oom"].value == pytest.approx(2 / 3)
    assert "web/web-1/app" in by_name["oom"].detail
    assert by_name["latency"].value == 0.0 and by_name["error_budget"].detail == "not forecast"
    assert set(by_name) == {"oom", "error_budget", "latency", "capacity", "restart_trend"}
    assert all(f.weight == WEIGHTS[f.name] for f in by_name.values())


@pytest.mark.parametrize(
    ("score", "level"),
    [(0.0, "low"), (0.149, "low"), (0.15, "medium"), (0.4, "high"), (0.7, "critical"), (1.0, "critical")],
)
def test_levels(score, level):
    assert level_for(score) == level
