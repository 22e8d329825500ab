"""The risk report: an explainable score whose factor contributions add up, written atomically."""

from __future__ import annotations

import json
import multiprocessing
import os

import pytest

from selfheal.detectors import DetectorConfig, run_detectors
from selfheal.findings import ActionOutcome, Result
from selfheal.reporting.risk import (
    WEIGHTS,
    build_risk_report,
    level_for,
    read_risk_report,
    write_atomic,
    write_risk_report,
)
from selfheal.view import CanarySignals, SourceState
from tests.builders import NOW, crashing_pods, healthy_pods, make_deployment, make_replicaset, snapshot_of

SOURCES = {"kubernetes": "available", "prometheus": "unavailable"}


def shop(canary=None):
    """Four Deployments: web crash-looping, api without probes, cart drifted to 5 replicas, db fine."""
    web = make_deployment("web")
    web_rs = make_replicaset(web, revision=1)
    api = make_deployment("api", probes=False)
    cart = make_deployment("cart", replicas=5, annotations={"selfheal.dev/desired-replicas": "2"})
    db = make_deployment("db")
    return snapshot_of(web, web_rs, *crashing_pods(web_rs, 1), *healthy_pods(web_rs, 2), api, cart, db,
                       canary=canary)


def report_for(snap, outcomes=()):
    findings = run_detectors(snap, DetectorConfig(), NOW)
    return build_risk_report(namespace="shop", findings=findings, snapshot=snap, outcomes=list(outcomes),
                             generated_at=NOW, sources=SOURCES)


def test_the_score_is_the_sum_of_weighted_factors_and_each_factor_says_why():
    report = report_for(shop())

    factors = {f.name: f for f in report.factors}
    assert list(factors) == list(WEIGHTS)
    assert factors["crash_loops"].value == 0.25 and factors["crash_loops"].detail == "1/4 Deployments: web"
    assert factors["unavailability"].value == 0.25  # cart's replica drift
    assert factors["missing_probes"].value == 0.25 and factors["missing_probes"].detail == "1/4 containers"
    assert factors["bad_revisions"].value == factors["config_drift"].value == 0.0
    for f in report.factors:
        assert f.contribution == pytest.approx(f.value * f.weight)
    assert report.risk_score == pytest.approx(sum(f.contribution for f in report.factors))
    assert report.risk_score == pytest.approx(0.25 * 0.30 + 0.25 * 0.15 + 0.25 * 0.10)
    assert report.level == "low"


def test_failed_actions_and_a_bad_canary_raise_the_score():
    snap = shop()
    findings = run_detectors(snap, DetectorConfig(), NOW)
    action = next(f.actions[0] for f in findings if f.actions)
    quiet = report_for(snap, [ActionOutcome(action, Result.APPLIED)])
    loud = report_for(snap, [ActionOutcome(action, Result.FAILED, "http_403", "forbidden")])

    assert {f.name: f.value for f in loud.factors}["failed_actions"] == 1.0
    assert loud.risk_score == pytest.approx(quiet.risk_score + 0.05)
    assert loud.actions[0].result == "failed" and loud.actions[0].reason == "http_403"


def test_a_measured_canary_counts_relative_to_the_threshold_and_an_unmeasured_one_does_not():
    split = {"rollout.argoproj.io/traffic-split": '{"canary":10,"stable":90}'}
    stable, cand = make_deployment("cpt", annotations=split), make_deployment("cpt-canary", replicas=1)
    measured = snapshot_of(stable, cand, canary=CanarySignals(SourceState.AVAILABLE, "", {"cpt-canary": 0.025}))
    unknown = snapshot_of(stable, cand)

    assert {f.name: f.value for f in report_for(measured).factors}["canary_errors"] == 0.5
    assert {f.name: f.value for f in report_for(unknown).factors}["canary_errors"] == 0.0


@pytest.mark.parametrize(("score", "level"), [(0.0, "low"), (0.149, "low"), (0.15, "medium"), (0.4, "high"),
                                              (0.7, "critical"), (1.0, "critical")])
def test_levels(score, level):
    assert level_for(score) == level


def test_the_file_has_the_documented_shape(tmp_path):
    path = tmp_path / "aiops" / "risk-prediction.json"

    write_risk_report(path, report_for(shop()))

    doc = json.loads(path.read_text())
    assert set(doc) == {"schema_version", "generated_at", "namespace", "risk_score", "level", "factors",
                        "findings", "actions", "sources"}
    assert doc["generated_at"] == "2024-05-01T12:00:00Z" and doc["sources"]["prometheus"] == "unavailable"
    assert set(doc["factors"][0]) == {"name", "value", "weight", "contribution", "detail"}
    assert {f["detector"] for f in doc["findings"]} == {"crashloop", "probes", "replica_drift"}
    assert read_risk_report(path).risk_score == doc["risk_score"]


def _crash_while_writing(path: str) -> None:
    def die(fd: int) -> None:
        os._exit(17)  # the process dies after writing the bytes, before the rename

    os.fsync = die
    write_atomic(path, b'{"half": ')


def test_a_crash_mid_write_leaves_the_previous_report_intact(tmp_path):
    path = tmp_path / "risk-prediction.json"
    write_risk_report(path, report_for(shop()))
    before = path.read_bytes()

    child = multiprocessing.get_context("fork").Process(target=_crash_while_writing, args=(str(path),))
    child.start()
    child.join()

    assert child.exitcode == 17
    assert path.read_bytes() == before
    assert json.loads(before)["namespace"] == "shop"


def test_a_failed_write_removes_its_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "risk-prediction.json"
    path.write_text("{}")

    def refuse(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        write_atomic(path, b"{}")

    assert [p.name for p in tmp_path.iterdir()] == ["risk-prediction.json"]
