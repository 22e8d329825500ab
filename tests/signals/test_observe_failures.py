"""Prometheus failing the forecasts: unreachable, slow, out of budget, answering HTML, NaN, ±Inf or nothing.

Healing never stops (a pass through the sandbox completes and writes its report), a forecast that could not be
made is unknown with the reason, and the risk report's `confidence` says partial and names it. The answers a
real Prometheus rarely gives are played by a tiny HTTP server; tests/integration/test_forecasts_prometheus.py
gets NaN and ±Inf out of a real one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import msgspec
import pytest

from kubesandbox.resources.clock import DEFAULT_EPOCH
from selfheal.forecast import SLO, forecasts
from selfheal.reporting.risk import build_risk_report
from selfheal.signals import ObserveConfig, read_observations
from selfheal.view import SourceState
from tests.builders import healthy_pods, make_deployment, make_hpa, make_replicaset, snapshot_of
from tests.integration.harness import healing_world
from tests.servers import free_port

AT = DEFAULT_EPOCH
WEB = make_deployment("web")
RS = make_replicaset(WEB)
PODS = healthy_pods(RS, 2)
SNAPSHOT = snapshot_of(WEB, RS, *PODS, make_hpa(WEB))

Answer = Callable[[str, dict[str, list[str]]], tuple[int, str, bytes]]  # (path, params) -> status, type, body


@contextmanager
def fake_prometheus(answer: Answer, delay: float = 0.0) -> Iterator[Any]:
    """A server on 127.0.0.1 that answers every request with `answer(path, params)` after `delay` seconds;
    `.url`, `.requests` (the paths asked)."""
    state = type("Fake", (), {"requests": [], "url": ""})()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            url = urlparse(self.path)
            state.requests.append(url.path)
            time.sleep(delay)
            status, kind, body = answer(url.path, parse_qs(url.query))
            try:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:  # the client gave up waiting
                pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def html(path: str, params: dict[str, list[str]]) -> tuple[int, str, bytes]:
    return 200, "text/html", b"<html><body><h1>Sign in</h1></body></html>"  # e.g. an auth proxy's login page


def values(by_query: Callable[[str], str | None]) -> Answer:
    """Every query answered for every grouping label (deployment, pod/container, HPA) with the value
    `by_query(query)` at every point (None: an empty result)."""

    def answer(path: str, params: dict[str, list[str]]) -> tuple[int, str, bytes]:
        query = params["query"][0]
        value = by_query(query)
        labels = [
            {"deployment": "web"},
            *({"pod": p.metadata.name, "container": "web"} for p in PODS),
            {"horizontalpodautoscaler": "web"},
        ]
        points = [[AT.timestamp() - 60 * i, value] for i in range(60, -1, -1)]
        result = (
            [] if value is None else [{"metric": m, "values": points, "value": points[-1]} for m in labels]
        )
        kind = "matrix" if path.endswith("query_range") else "vector"
        return (
            200,
            "application/json",
            msgspec.json.encode({"status": "success", "data": {"resultType": kind, "result": result}}),
        )

    return answer


def plausible(query: str) -> str:
    """50 requests/s, 0.01 % errors, 0.5 (seconds, bytes or replicas) for the rest: no breach in sight."""
    return "0.0001" if "code=~" in query else "50" if "http_requests_total" in query else "0.5"


def by_kind(found: list[Any]) -> dict[str, Any]:
    return {f.kind: f for f in found if f.workload == "web"}


def report(found: list[Any], state: SourceState) -> Any:
    return build_risk_report(
        namespace="shop",
        findings=[],
        snapshot=SNAPSHOT,
        outcomes=[],
        generated_at=AT,
        sources={"kubernetes": "available", "prometheus": state.value},
        forecasts=found,
    )


def test_unreachable_is_an_error_noticed_once_and_the_forecasts_are_not_made():
    url = f"http://127.0.0.1:{free_port()}"  # nobody listens

    observed = read_observations(ObserveConfig(url), SNAPSHOT, AT)
    found = forecasts(observed, SLO())

    assert observed.state is SourceState.ERROR and observed.detail.startswith("NewConnectionError")
    assert "Connection refused" in observed.detail
    assert found == []
    risk = report(found, observed.state)
    assert risk.confidence.level == "partial"
    assert risk.confidence.missing == [
        "prometheus: error",
        "forecasts: not made (Prometheus is not available)",
    ]
    assert {f.name: f.detail for f in risk.factors}["oom"] == "not forecast"


def test_slower_than_the_timeout_is_given_up_after_one_retry():
    with fake_prometheus(values(lambda q: "1"), delay=3.0) as prom:
        started = time.monotonic()
        observed = read_observations(ObserveConfig(prom.url, timeout_seconds=0.3), SNAPSHOT, AT)
        elapsed = time.monotonic() - started

    assert observed.state is SourceState.ERROR and "ReadTimeout" in observed.detail
    assert elapsed < 2.5 and len(prom.requests) == 2  # one retry after a pause, not one per query
    assert forecasts(observed, SLO()) == []


def test_what_the_budget_leaves_unasked_is_unknown_for_that_reason():
    with fake_prometheus(values(plausible), delay=0.15) as prom:
        started = time.monotonic()
        observed = read_observations(
            ObserveConfig(prom.url, timeout_seconds=2, budget_seconds=0.5), SNAPSHOT, AT
        )
        elapsed = time.monotonic() - started

    web = observed.workloads["web"]
    assert observed.state is SourceState.AVAILABLE and elapsed < 1.0
    assert web.request_rate and web.error_ratio  # asked in time
    assert web.unknown["memory"] == "not asked: the 0.5 s budget for Prometheus was spent"
    found = by_kind(forecasts(observed, SLO()))
    assert found["oom"].unknown == "not asked: the 0.5 s budget for Prometheus was spent"
    assert found["error_budget"].known


def test_html_instead_of_json_makes_every_forecast_unknown_with_the_reason():
    with fake_prometheus(html) as prom:
        observed = read_observations(ObserveConfig(prom.url), SNAPSHOT, AT)
    found = by_kind(forecasts(observed, SLO()))

    for kind in ("oom", "error_budget", "latency"):
        assert found[kind].unknown.startswith("QueryFailed: not JSON from /api/v1/query"), found[kind]
    risk = report(list(found.values()), observed.state)
    assert risk.confidence.level == "partial"
    assert any(m.startswith("web/latency: QueryFailed: not JSON") for m in risk.confidence.missing)
    assert risk.risk_score == 0.0  # nothing is made up: a lower bound, and the report says so


@pytest.mark.parametrize("bad", ["NaN", "+Inf", "-Inf"])
def test_nan_and_infinite_values_are_no_values(bad):
    with fake_prometheus(values(lambda q: bad)) as prom:
        observed = read_observations(ObserveConfig(prom.url), SNAPSHOT, AT)
    found = by_kind(forecasts(observed, SLO()))

    assert observed.state is SourceState.AVAILABLE
    assert found["latency"].unknown == "no finite value (61 points NaN or ±Inf)"
    assert found["error_budget"].unknown == "no finite value (61 points NaN or ±Inf)"
    assert found["oom"].unknown == "no finite value (61 points NaN or ±Inf)"
    assert found["capacity"].unknown == "HPA web: no finite value (61 points NaN or ±Inf)"


def test_empty_results_are_no_series():
    with fake_prometheus(values(lambda q: None)) as prom:
        observed = read_observations(ObserveConfig(prom.url), SNAPSHOT, AT)
    found = by_kind(forecasts(observed, SLO()))

    assert {k: f.unknown for k, f in found.items()} == {
        "oom": "no working-set series",
        "error_budget": "no series",
        "latency": "no series",
        "capacity": "HPA web: no series",
    }


def test_one_signal_answering_nonsense_leaves_the_others_forecast():
    def mixed(query: str) -> str | None:
        return "NaN" if "http_request_duration_seconds" in query else plausible(query)

    with fake_prometheus(values(mixed)) as prom:
        observed = read_observations(ObserveConfig(prom.url), SNAPSHOT, AT)
    found = by_kind(forecasts(observed, SLO()))

    assert found["latency"].unknown.startswith("no finite value")
    assert found["error_budget"].known and found["error_budget"].time_to_breach_seconds is None


@pytest.mark.parametrize("failure", ["unreachable", "slow", "html"])
def test_healing_never_stops_for_prometheus(failure, tmp_path):
    """The bundled world's first pass heals what it heals whatever Prometheus does, and says what it missed."""
    with healing_world("ea-plan-v5", tmp_path / "calm") as world:
        calm = world.run()
    with (
        fake_prometheus(html, delay=3.0 if failure == "slow" else 0.0) as prom,
        healing_world("ea-plan-v5", tmp_path / failure) as world,
    ):
        url = f"http://127.0.0.1:{free_port()}" if failure == "unreachable" else prom.url
        started = time.monotonic()
        result = world.run(prometheus_url=url, prometheus_timeout_seconds=0.5)
        elapsed = time.monotonic() - started
        risk = world.risk()

    assert result.status.value == "completed" and result.exit_code == calm.exit_code
    assert sorted((o.action.action.value, o.result.value) for o in result.outcomes) == sorted(
        (o.action.action.value, o.result.value) for o in calm.outcomes
    )
    assert risk["confidence"]["level"] == "partial"
    if failure == "html":
        assert risk["sources"]["prometheus"] == "available"
        assert any("/latency: QueryFailed: not JSON" in m for m in risk["confidence"]["missing"])
    else:
        assert risk["sources"]["prometheus"] == "error"
        assert "forecasts: not made (Prometheus is not available)" in risk["confidence"]["missing"]
    assert elapsed < 10  # the canary query's and the forecasts' timeouts, not a hang
