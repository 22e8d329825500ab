"""The risk model's backtest (bench/backtest.py) as a test: eight timelines backfilled into a real Prometheus
(`promtool tsdb create-blocks-from openmetrics`), the pass's pipeline evaluated against it at an explicit time
every 2 minutes (the CronJob's schedule), each evaluation a real query.

Required: the score reaches `high` (0.40) at least 15 minutes before the breach T of every incident and stays
there up to T; it never reaches `high` while nothing is wrong (the healthy and quiet timelines, and each
incident before it began). T is measured on the backfilled data with the SLO's PromQL, and the healthy
timelines are checked to breach no SLO indicator at all. `python -m bench.backtest` prints the same table,
evaluating every minute.
"""

from __future__ import annotations

import pytest

from bench.backtest import HIGH, REQUIRED_LEAD_MINUTES, backtest, openmetrics, table, timelines
from tests.servers import prometheus


@pytest.fixture(scope="module")
def results():
    chosen = timelines()
    with prometheus(openmetrics(chosen)) as url:
        found = backtest(url, chosen, every_seconds=120)
    print("\n" + "\n".join(table(found)))
    return {r.timeline.name: r for r in found}


def test_there_are_six_incidents_and_two_healthy_timelines(results):
    assert sorted(n for n, r in results.items() if r.timeline.incident) == [
        "canary-bad",
        "error-burst",
        "flapping-pod",
        "hpa-saturation",
        "latency-creep",
        "memory-leak",
    ]
    assert sorted(n for n, r in results.items() if not r.timeline.incident) == ["noisy-healthy", "quiet"]


@pytest.mark.parametrize(
    "name", ["memory-leak", "error-burst", "latency-creep", "hpa-saturation", "canary-bad", "flapping-pod"]
)
def test_each_incident_is_high_risk_15_minutes_before_its_breach(results, name):
    r = results[name]

    assert r.breach_minute is not None and -12 <= r.breach_minute <= 8, r.breaches  # as the timeline planned
    assert r.lead_minutes is not None and r.lead_minutes >= REQUIRED_LEAD_MINUTES, "\n".join(table([r]))
    assert r.false_positives == []  # not before the incident began


@pytest.mark.parametrize("name", ["noisy-healthy", "quiet"])
def test_a_healthy_service_is_never_high_risk(results, name):
    r = results[name]

    assert r.breach_minute is None and r.breaches == ()  # no SLO indicator breached: healthy indeed
    assert max(e.score for e in r.evaluations) < HIGH
    assert len(r.evaluations) == 66  # T-120 .. T+10, every 2 minutes


def test_the_quiet_service_is_too_quiet_to_judge_and_says_so(results):
    missing = {m for e in results["quiet"].evaluations for m in e.missing}

    assert {m.split(":")[0] for m in missing} == {"admin/error_budget", "admin/latency"}
    assert all("too little traffic to judge" in m for m in missing)
