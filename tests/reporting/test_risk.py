"""The risk report file: the model's score with every factor and forecast explained, in the documented
shape (its JSON Schema), written atomically."""

from __future__ import annotations

import json
import multiprocessing
import os
import stat
from pathlib import Path

import jsonschema
import pytest

from selfheal.detectors import DetectorConfig, run_detectors
from selfheal.findings import ActionOutcome, RecordError, Result
from selfheal.forecast import Forecast
from selfheal.reporting.risk import (
    build_risk_report,
    check_writable,
    read_risk_report,
    write_atomic,
    write_risk_report,
)
from selfheal.risk import WEIGHTS
from selfheal.view import CanarySignals, SourceState
from tests.builders import NOW, crashing_pods, healthy_pods, make_deployment, make_replicaset, snapshot_of

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "aiops/risk-prediction.schema.json").read_text())
SOURCES = {"kubernetes": "available", "prometheus": "unavailable"}


def shop(canary=None):
    """Four Deployments: web crash-looping, api without probes, cart drifted to 5 replicas, db fine."""
    web = make_deployment("web")
    web_rs = make_replicaset(web, revision=1)
    api = make_deployment("api", probes=False)
    cart = make_deployment("cart", replicas=5, annotations={"selfheal.dev/desired-replicas": "2"})
    db = make_deployment("db")
    return snapshot_of(
        web, web_rs, *crashing_pods(web_rs, 1), *healthy_pods(web_rs, 2), api, cart, db, canary=canary
    )


def report_for(snap, outcomes=(), forecasts=(), sources=SOURCES):
    findings = run_detectors(snap, DetectorConfig(), NOW)
    return build_risk_report(
        namespace="shop",
        findings=findings,
        snapshot=snap,
        outcomes=list(outcomes),
        generated_at=NOW,
        sources=sources,
        forecasts=forecasts,
    )


def test_each_factor_says_why_and_the_score_is_their_noisy_or():
    report = report_for(shop())

    factors = {f.name: f for f in report.factors}
    assert list(factors) == list(WEIGHTS)
    assert factors["failing_workloads"].value == 0.5 and factors["failing_workloads"].detail.startswith(
        "1 Deployments: web"
    )
    assert factors["config_drift"].value == 0.5  # cart's replica drift
    assert factors["missing_probes"].value == 0.25
    survive = 1.0
    for f in report.factors:
        assert f.probability == pytest.approx(f.value * f.weight, abs=1e-4)
        survive *= 1 - f.probability
    assert report.risk_score == pytest.approx(1 - survive, abs=1e-4)
    assert report.risk_score == pytest.approx(sum(f.contribution for f in report.factors), abs=1e-3)
    assert report.level == "high"  # a crash-looping workload is a recovery-SLO breach in progress


def test_a_forecast_breach_raises_the_score_and_carries_its_time():
    quiet = report_for(shop())
    oom = Forecast("oom", "web", 900.0, "working set 95% of the 512 MiB limit", subject="web-x/app")

    loud = report_for(shop(), forecasts=[oom])

    factor = {f.name: f for f in loud.factors}["oom"]
    assert factor.time_to_breach_seconds == 900.0 and factor.value == pytest.approx(0.75)
    assert loud.risk_score > quiet.risk_score
    assert loud.forecasts[0].kind == "oom" and loud.forecasts[0].time_to_breach_seconds == 900.0


def test_confidence_names_what_could_not_be_measured():
    unknown = Forecast("latency", "web", None, "", unknown="no latency histogram")

    measured = report_for(
        shop(), forecasts=[unknown], sources={"kubernetes": "available", "prometheus": "available"}
    )
    blind = report_for(shop())

    assert measured.confidence.level == "partial" and measured.confidence.missing == [
        "web/latency: no latency histogram"
    ]
    assert blind.confidence.level == "partial" and "prometheus: unavailable" in blind.confidence.missing


def test_failed_actions_raise_the_score():
    snap = shop()
    findings = run_detectors(snap, DetectorConfig(), NOW)
    action = next(f.actions[0] for f in findings if f.actions)

    quiet = report_for(snap, [ActionOutcome(action, Result.APPLIED)])
    loud = report_for(snap, [ActionOutcome(action, Result.FAILED, "http_403", "forbidden")])

    assert {f.name: f.value for f in loud.factors}["failed_actions"] == 1.0
    assert loud.risk_score > quiet.risk_score
    assert loud.actions[0].result == "failed" and loud.actions[0].reason == "http_403"


def test_a_measured_canary_counts_relative_to_the_threshold_and_an_unmeasured_one_does_not():
    split = {"rollout.argoproj.io/traffic-split": '{"canary":10,"stable":90}'}
    stable, cand = make_deployment("cpt", annotations=split), make_deployment("cpt-canary", replicas=1)
    measured = snapshot_of(
        stable, cand, canary=CanarySignals(SourceState.AVAILABLE, "", {"cpt-canary": 0.025})
    )
    unknown = snapshot_of(stable, cand)

    assert {f.name: f.value for f in report_for(measured).factors}["canary_errors"] == 0.5
    assert {f.name: f.value for f in report_for(unknown).factors}["canary_errors"] == 0.0


def test_the_file_has_the_documented_shape_and_validates_against_its_schema(tmp_path):
    path = tmp_path / "aiops" / "risk-prediction.json"
    forecasts = [
        Forecast("oom", "web", 900.0, "leak", subject="web-x/app"),
        Forecast("latency", "web", None, "", unknown="no latency histogram"),
    ]

    write_risk_report(path, report_for(shop(), forecasts=forecasts))

    doc = json.loads(path.read_text())
    jsonschema.validate(doc, SCHEMA)
    assert doc["schema_version"] == 2 and doc["horizon_seconds"] == 3600
    assert doc["generated_at"] == "2024-05-01T12:00:00Z" and doc["sources"]["prometheus"] == "unavailable"
    assert {f["detector"] for f in doc["findings"]} == {"crashloop", "probes", "replica_drift"}
    assert read_risk_report(path).risk_score == doc["risk_score"]


@pytest.mark.parametrize(
    "broken", [{"risk_score": 1.5}, {"level": "dire"}, {"schema_version": 1}, {"factors": [{"name": "x"}]}]
)
def test_the_schema_refuses_what_the_job_never_writes(tmp_path, broken):
    path = tmp_path / "r.json"
    write_risk_report(path, report_for(shop()))
    doc = {**json.loads(path.read_text()), **broken}

    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, SCHEMA)


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


def test_a_pipe_where_the_report_goes_is_refused_and_left_a_pipe(tmp_path):
    """As root, renaming over /dev/null turns the device into a file: the writer itself refuses."""
    pipe = tmp_path / "risk-prediction.json"
    os.mkfifo(pipe)

    for attempt in (lambda: write_risk_report(pipe, report_for(shop())), lambda: check_writable(pipe)):
        with pytest.raises(RecordError, match=r"risk-prediction.json: is not a regular file \(a device"):
            attempt()

    assert stat.S_ISFIFO(os.stat(pipe).st_mode)
