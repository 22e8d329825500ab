"""Metrics: the guide's names, counters that stay cumulative across runs, and a POST to the Pushgateway."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from selfheal.detectors import DetectorConfig, run_detectors
from selfheal.reporting.metrics import (
    SLO_HISTOGRAMS,
    RunMetrics,
    action_totals,
    build_registry,
    canary_traffic,
    drift_total,
    push,
)
from selfheal.reporting.risk import build_risk_report
from selfheal.verify import SLOS
from tests.builders import NOW, history_entry, make_deployment, snapshot_of


def samples(registry) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = generate_latest(registry).decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


HISTORY = [
    history_entry("scale", "Deployment/web", ago=9000, ladder="replicas", detector="replica_drift"),
    history_entry("restore_template", "Deployment/api", ago=5000, detector="config_drift"),
    history_entry("restore_template", "Deployment/api", ago=100, result="skipped", detector="config_drift"),
    history_entry("restart_pod", "Deployment/web", ago=50, kind="Pod", name="web-1"),
]


def test_counters_are_the_running_totals_from_the_history_file():
    totals = action_totals(HISTORY)

    assert totals == {
        ("scale", "applied"): 1,
        ("restore_template", "applied"): 1,
        ("restore_template", "skipped"): 1,
        ("restart_pod", "applied"): 1,
    }
    assert drift_total(HISTORY) == 2


def test_the_registry_exposes_the_guides_metric_names():
    registry = build_registry(
        RunMetrics(
            action_totals=action_totals(HISTORY),
            drift_total=2,
            risk_score=0.42,
            canary_traffic={"cpt": 10},
            run_actions={("restart_pod", "applied"): 1},
            run_duration_seconds=1.5,
            last_success_timestamp=1714564800.0,
        )
    )

    got = samples(registry)

    assert got[("self_healing_actions_total", (("action", "scale"), ("result", "applied")))] == 1
    assert got[("config_drift_detected_total", ())] == 2
    assert got[("aiops_risk_score", ())] == 0.42
    assert got[("canary_traffic_percentage", (("deployment", "cpt"),))] == 10
    assert got[("selfheal_last_run_actions", (("action", "restart_pod"), ("result", "applied")))] == 1
    assert got[("selfheal_run_duration_seconds", ())] == 1.5
    assert got[("selfheal_last_success_timestamp_seconds", ())] == 1714564800.0
    assert not any(name.endswith("_created") for name, _ in got)


def test_every_slo_has_its_own_histogram_pushed_from_the_first_run():
    got = samples(build_registry(RunMetrics()))

    assert set(SLO_HISTOGRAMS) == set(SLOS)  # a new SLO in verify.py needs its histogram here
    for name, _help in SLO_HISTOGRAMS.values():
        assert got[(f"{name}_count", ())] == 0
        assert got[(f"{name}_bucket", (("le", "300.0"),))] == 0


def test_a_failed_pass_does_not_push_a_last_success_time():
    got = samples(build_registry(RunMetrics(risk_score=0.1)))

    assert ("selfheal_last_success_timestamp_seconds", ()) not in got


def test_canary_traffic_comes_from_the_traffic_split_annotation():
    stable = make_deployment(
        "cpt", annotations={"rollout.argoproj.io/traffic-split": '{"canary":25,"stable":75}'}
    )

    assert canary_traffic(snapshot_of(stable, make_deployment("cpt-canary"))) == {"cpt": 25}


def test_canary_traffic_is_read_from_the_canary_when_stable_does_not_carry_the_split():
    canary = make_deployment(
        "cpt-canary", annotations={"rollout.argoproj.io/traffic-split": '{"canary":5,"stable":95}'}
    )

    assert canary_traffic(snapshot_of(make_deployment("cpt"), canary)) == {"cpt": 5}


@pytest.mark.parametrize(
    "split",
    [
        '{"canary":1e999,"stable":0}',
        '{"canary":20,"stable":100}',
        "not json",
        '{"canary":true,"stable":false}',
        "null",
        '{"canary":-5,"stable":105}',
    ],
)
def test_a_pair_with_an_invalid_split_is_left_out_of_canary_traffic_and_the_others_stay(split):
    bad = make_deployment("cpt", annotations={"rollout.argoproj.io/traffic-split": split})
    good = make_deployment(
        "web", annotations={"rollout.argoproj.io/traffic-split": '{"canary":10,"stable":90}'}
    )
    snap = snapshot_of(bad, make_deployment("cpt-canary"), good, make_deployment("web-canary"))

    assert canary_traffic(snap) == {"web": 10}
    risk = build_risk_report(
        namespace="shop",
        findings=run_detectors(snap, DetectorConfig(), NOW),
        snapshot=snap,
        outcomes=(),
        generated_at=NOW,
        sources={},
    )
    assert 0.0 <= risk.risk_score <= 1.0


def test_push_posts_to_the_job_and_namespace_group():
    received: list[tuple[str, str, bytes]] = []

    class Gateway(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.command, self.path, body))
            self.send_response(200)
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Gateway)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        push(
            build_registry(RunMetrics(risk_score=0.3)),
            f"http://127.0.0.1:{server.server_address[1]}",
            grouping_key={"namespace": "dese-ea-plan-v5"},
        )
    finally:
        server.shutdown()
        server.server_close()

    [(method, path, body)] = received
    assert (method, path) == ("POST", "/metrics/job/self-heal-cpt/namespace/dese-ea-plan-v5")
    assert b"aiops_risk_score 0.3" in body
