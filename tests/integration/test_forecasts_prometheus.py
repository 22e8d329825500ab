"""Every forecast against a real Prometheus (Debian's), fed by `promtool tsdb create-blocks-from openmetrics`.

One namespace, one Deployment per forecast, under the exact metric names and labels the default queries read
(tests/openmetrics.py). The series run on 60 minutes past the pass's `now` (AT): the forecast, read at AT with
an explicit time, sees only the hour before, and its time to breach is held to when the breach then actually
happened in the data, measured with PromQL (the SLO's own definition). The series are noise-free here, so the
lines are exact; tests/backtest does the noisy timelines.

Also: NaN and ±Inf as a real Prometheus answers them (0/0, x/0) are unknown with the reason, a Deployment
that never failed has an error ratio of 0 (not "no series"), and one healing pass over the sandbox writes
the forecast into the risk report.
"""

from __future__ import annotations

import importlib.util
import json
import urllib.parse
import urllib.request
from datetime import timedelta
from pathlib import Path

import jsonschema
import pytest

from kubesandbox.resources.clock import DEFAULT_EPOCH
from selfheal.forecast import SLO, forecasts
from selfheal.reporting.risk import build_risk_report
from selfheal.risk import urgency
from selfheal.signals import ObserveConfig, read_observations
from selfheal.signals.queries import DEFAULTS
from selfheal.view import SourceState
from tests.integration.harness import EA_NS, healing_world
from tests.openmetrics import Recorder, autoscale, memory, restarts, traffic, workloads
from tests.servers import prometheus

AT = DEFAULT_EPOCH  # the pass's now: the sandbox clock
NS = "shop"
REPO = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((REPO / "aiops/risk-prediction.schema.json").read_text())

SNAPSHOT, PODS = workloads(
    NS,
    {"leaky": 2, "erroring": 2, "slow": 2, "scaling": 3, "flapping": 3, "steady": 2, "idle": 1},
    hpas={"scaling": (3, 10)},
)

# the flapping pod's restarts: intervals shrinking x0.72 from 24 min; the 8th restart is the 3rd within 10
# minutes (the crash loop), 15 minutes after AT
_gaps = [24 * 0.72**k for k in range(9)]
_times = [sum(_gaps[:k]) for k in range(10)]
FLAPS = [round((t - _times[7] + 15) * 2) / 2 for t in _times]


def shop_series() -> str:
    rec = Recorder(AT, before_minutes=100, after_minutes=60)
    for name, count in PODS.items():
        if name not in ("leaky", "flapping"):
            for pod in count:
                memory(rec, NS, pod, lambda m: 200, limit_mib=512)
                restarts(rec, NS, pod, [])
    # oom: 250 MiB at T-100, +3 MiB/min: the 640 MiB limit at AT+30; the other pod flat
    memory(rec, NS, PODS["leaky"][0], lambda m: 250 + 3 * (m + 100), limit_mib=640)
    memory(rec, NS, PODS["leaky"][1], lambda m: 300, limit_mib=640)
    for pod in PODS["leaky"]:
        restarts(rec, NS, pod, [])
    # error_budget: 500 req/s, the error ratio climbing 0.0005 %/min (the 5-minute ratio at 0.1 % near AT+20)
    traffic(
        rec,
        None,
        NS,
        "erroring",
        rps=lambda m: 500,
        errors=lambda m: 0.0004125 + 5e-6 * (m + 100),
        p50=lambda m: 0.1,
    )
    # latency: the median creeping up, P99 (0.5 s at T-100) crossing 1.0 s near AT+30
    traffic(
        rec,
        None,
        NS,
        "slow",
        rps=lambda m: 100,
        errors=lambda m: 0.0001,
        p50=lambda m: 0.12 + 0.0015 * (m + 100),
    )
    # capacity: 2 cores at T-100, +0.04/min: 7 cores (10 replicas at 70 %, the max) at AT+25; never an error
    load = autoscale(rec, NS, "scaling", load=lambda m: 2 + 0.04 * (m + 100), low=3, high=10)
    traffic(rec, None, NS, "scaling", rps=lambda m: 100 * load(m), errors=lambda m: 0.0, p50=lambda m: 0.1)
    # restart_trend
    for i, pod in enumerate(PODS["flapping"]):
        memory(rec, NS, pod, lambda m: 200, limit_mib=512)
        restarts(rec, NS, pod, FLAPS if i == 0 else [])
    traffic(rec, None, NS, "flapping", rps=lambda m: 20, errors=lambda m: 0.0001, p50=lambda m: 0.05)
    traffic(rec, None, NS, "steady", rps=lambda m: 50, errors=lambda m: 0.0001, p50=lambda m: 0.08)
    traffic(rec, None, NS, "leaky", rps=lambda m: 50, errors=lambda m: 0.0001, p50=lambda m: 0.08)
    traffic(rec, None, NS, "idle", rps=lambda m: 0, errors=lambda m: 0, p50=lambda m: 0.1)  # counters at 0
    return rec.openmetrics()


@pytest.fixture(scope="module")
def url():
    with prometheus(shop_series()) as served:
        yield served


def first_breach(url: str, query: str) -> float:
    """Minutes after AT until `query` first has a sample (a range query, one point a minute)."""
    params = urllib.parse.urlencode(
        {
            "query": query,
            "start": AT.timestamp(),
            "end": (AT + timedelta(minutes=60)).timestamp(),
            "step": "60",
        }
    )
    with urllib.request.urlopen(f"{url}/api/v1/query_range?{params}", timeout=10) as resp:
        body = json.load(resp)
    times = [float(t) for s in body["data"]["result"] for t, _ in s["values"]]
    assert times, f"never breached: {query}"
    return (min(times) - AT.timestamp()) / 60


def query(name: str) -> str:
    return DEFAULTS[name].replace("$namespace", NS)


BREACHES = {  # kind -> (workload, the SLO's breach in PromQL, how early and how late the forecast may be, min)
    "oom": ("leaky", f"{query('memory')} >= on (pod, container) {query('memory_limit')}", (1, 1)),
    "error_budget": ("erroring", f"({query('error_ratio')}) >= 0.001", (2, 2)),
    # P99 is interpolated inside histogram buckets: within one it climbs ever slower as the bucket fills (a
    # concave staircase, 0.75 s -> 1.0 s here), so a line through the last minutes arrives early, never late
    "latency": ("slow", f"({query('latency_p99')}) >= 1", (20, 2)),
    "capacity": (
        "scaling",
        f"{query('hpa_replicas')} >= on (horizontalpodautoscaler) {query('hpa_max')} "
        f"and on (horizontalpodautoscaler) {query('hpa_utilization')} "
        f"> on (horizontalpodautoscaler) {query('hpa_target')}",
        (2, 2),
    ),
    "restart_trend": (
        "flapping",
        'max_over_time(kube_pod_container_status_restarts_total{namespace="shop"}[10m])'
        ' - min_over_time(kube_pod_container_status_restarts_total{namespace="shop"}[10m])'
        " >= 3",
        (3, 3),
    ),
}


@pytest.mark.parametrize("kind", list(BREACHES))
def test_each_forecast_at_an_explicit_time_says_when_the_breach_came(url, kind):
    workload, breach, (early, late) = BREACHES[kind]
    observed = read_observations(ObserveConfig(url), SNAPSHOT, AT)
    found = [f for f in forecasts(observed, SLO()) if f.kind == kind and f.workload == workload]

    actual = first_breach(url, breach)

    assert observed.state is SourceState.AVAILABLE
    timed = [f for f in found if f.time_to_breach_seconds is not None]
    assert len(timed) == 1, found  # the leaky Deployment's flat pod: no breach in sight
    eta = timed[0].time_to_breach_seconds / 60
    assert actual - early <= eta <= actual + late, (timed[0].detail, actual)
    assert 10 < actual < 40  # ahead of AT, within the hour's horizon: the forecast had something to foresee


def test_steady_workloads_forecast_nothing_and_a_deployment_that_never_failed_has_an_error_ratio(url):
    observed = read_observations(ObserveConfig(url), SNAPSHOT, AT)
    found = forecasts(observed, SLO())

    steady = [f for f in found if f.workload == "steady"]
    assert {f.kind for f in steady} == {"oom", "error_budget", "latency", "restart_trend"}
    assert all(f.known and f.time_to_breach_seconds is None for f in steady), steady
    assert observed.workloads["scaling"].error_ratio.last() == 0.0  # no 5xx series at all: 0, known
    assert "error_ratio" not in observed.workloads["scaling"].unknown


def test_no_traffic_is_nan_and_the_forecasts_that_need_it_say_so(url):
    observed = read_observations(ObserveConfig(url), SNAPSHOT, AT)
    idle = {f.kind: f for f in forecasts(observed, SLO()) if f.workload == "idle"}

    assert idle["error_budget"].unknown == "no finite value (61 points NaN or ±Inf)"  # 0 errors / 0 requests
    assert idle["latency"].unknown == "no finite value (61 points NaN or ±Inf)"
    assert idle["oom"].known  # its memory is observed all the same


def test_infinite_answers_are_unknown_with_the_reason_and_the_report_says_partial(url):
    """A query setting gone wrong: a real Prometheus answers x/0 with +Inf and -x/0 with -Inf."""
    queries = {
        **DEFAULTS,
        "latency_p99": f"({DEFAULTS['latency_p99']}) / 0",
        "error_ratio": f"-({DEFAULTS['request_rate']}) / 0",
    }
    observed = read_observations(ObserveConfig(url, queries=queries), SNAPSHOT, AT)
    found = forecasts(observed, SLO())

    steady = {f.kind: f for f in found if f.workload == "steady"}
    assert steady["latency"].unknown == "no finite value (61 points NaN or ±Inf)"
    assert observed.workloads["steady"].unknown["error_ratio"].startswith("no finite value")
    assert steady["error_budget"].known  # the burn-rate windows still answer
    assert any(f.kind == "oom" and f.time_to_breach_seconds for f in found)  # the rest is still forecast
    report = build_risk_report(
        namespace=NS,
        findings=[],
        snapshot=SNAPSHOT,
        outcomes=[],
        generated_at=AT,
        sources={"kubernetes": "available", "prometheus": "available"},
        forecasts=found,
    )
    assert report.confidence.level == "partial"
    assert "steady/latency: no finite value (61 points NaN or ±Inf)" in report.confidence.missing


# --- one healing pass: the forecast in the written risk report --------------------------------------------------


def demo_series():
    """tools/demo_series.py: the series `make demo` serves for ea-plan-v5 (a leak in the stable cpt-web, a latency
    creep in cpt-reporting), here ending at the sandbox's time."""
    spec = importlib.util.spec_from_file_location("demo_series", REPO / "tools/demo_series.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_healing_pass_writes_the_demo_worlds_forecasts_into_the_risk_report(tmp_path):
    demo = demo_series()
    with prometheus(demo.series(AT)) as url, healing_world("ea-plan-v5", tmp_path) as world:
        world.run(prometheus_url=url)
        risk = world.risk()

    jsonschema.validate(risk, SCHEMA)
    assert risk["sources"]["prometheus"] == "available"
    timed = {f["kind"]: f for f in risk["forecasts"] if "time_to_breach_seconds" in f}
    assert set(timed) == {"oom", "latency"}, risk["forecasts"]
    oom = timed["oom"]
    assert (oom["workload"], oom["subject"]) == (EA_NS, f"{demo.LEAKING_POD}/cpt-web")
    assert oom["time_to_breach_seconds"] == pytest.approx(25 * 60, abs=90)  # what the demo promises
    assert "of the 1024 MiB limit" in oom["detail"]
    assert timed["latency"]["workload"] == demo.CREEPING and timed["latency"]["time_to_breach_seconds"] < 3600
    factor = next(f for f in risk["factors"] if f["name"] == "oom")
    assert factor["value"] == pytest.approx(
        urgency(oom["time_to_breach_seconds"], risk["horizon_seconds"]), abs=0.01
    )
    assert factor["time_to_breach_seconds"] == oom["time_to_breach_seconds"]
    assert risk["confidence"]["level"] == "full", risk["confidence"]  # every Deployment's series were there
