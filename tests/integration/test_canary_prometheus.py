"""Canary health against a real Prometheus (Debian's), fed by `promtool tsdb create-blocks-from openmetrics`.

The pass queries at an explicit `time` — its own `now`, the sandbox clock (2026-01-01T12:00:00Z) —
so the backfilled hour before it is what decides, however long the test takes.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from kubesandbox.resources.clock import DEFAULT_EPOCH
from selfheal.signals import read_canary_signals
from selfheal.view import SourceState
from tests.integration.harness import healing_world
from tests.servers import prometheus

CANARY, STABLE = "dese-ea-plan-v5-canary", "dese-ea-plan-v5"


def openmetrics(canary_error_ratio: float, start: datetime, minutes: int = 60, step: int = 15) -> str:
    """Counters growing at fixed rates: stable 100 req/s at 0.05 % errors, canary 20 req/s at the given ratio."""
    lines = ["# HELP http_requests_total Requests served.", "# TYPE http_requests_total counter"]
    series = {(STABLE, "200"): 100 * 0.9995, (STABLE, "500"): 100 * 0.0005,
              (CANARY, "200"): 20 * (1 - canary_error_ratio), (CANARY, "500"): 20 * canary_error_ratio}
    for (deployment, code), rate in series.items():
        for i in range(minutes * 60 // step + 1):
            t = start + timedelta(seconds=i * step)
            lines.append(f'http_requests_total{{deployment="{deployment}",code="{code}"}} '
                         f"{rate * i * step:.3f} {t.timestamp():.0f}")
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module", params=[0.09, 0.04], ids=["canary-9pct-errors", "canary-4pct-errors"])
def prom(request):
    with prometheus(openmetrics(request.param, DEFAULT_EPOCH - timedelta(hours=1))) as url:
        yield request.param, url


def test_the_error_ratio_read_at_an_explicit_time_is_the_backfilled_one(prom):
    ratio, url = prom
    signals = read_canary_signals(url, [CANARY, "nobody-canary"], at=DEFAULT_EPOCH)
    assert signals.state is SourceState.AVAILABLE
    assert signals.error_rates[CANARY] == pytest.approx(ratio, rel=1e-3)
    assert signals.error_rates["nobody-canary"] is None  # no traffic: unknown, not zero
    before = read_canary_signals(url, [CANARY], at=DEFAULT_EPOCH - timedelta(hours=2))
    assert before.error_rates[CANARY] is None  # nothing was recorded then


def test_the_pass_aborts_a_canary_above_5_percent_and_leaves_one_below(prom, tmp_path):
    """Heal the world first: with its other failures and a bad canary, 4 of 7 Deployments fail and the
    mass-failure rail (rightly) makes the pass report-only."""
    ratio, url = prom
    with healing_world("ea-plan-v5", tmp_path) as world:
        world.run()
        world.advance(180)
        result = world.run(prometheus_url=url)
        canary = [o for o in result.outcomes if o.action.action.value == "canary_abort"]
        finding = next(f for f in result.findings if f.detector == "canary")
        if ratio > 0.05:
            assert [(o.result.value, o.action.target.name) for o in canary] == [("applied", CANARY)]
            assert world.sb.get("Deployment", CANARY)["spec"]["replicas"] == 0
            split = world.kubectl("get", "deploy", CANARY, "-o",  # the scenario annotates the canary
                                  r"jsonpath={.metadata.annotations.rollout\.argoproj\.io/traffic-split}")
            assert split == '{"canary":0,"stable":100}'
        else:
            assert canary == [] and finding.cause.code.value != "canary_errors"
            assert world.sb.get("Deployment", CANARY)["spec"]["replicas"] == 1
        assert world.risk()["sources"]["prometheus"] == "available"
