"""Canary health: abort above the error threshold, unknown without Prometheus, promote only when enabled."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from selfheal.detectors import canary, run_detectors
from selfheal.detectors.base import DetectorConfig
from selfheal.findings import ActionKind, CauseCode, Severity, SkipCode
from selfheal.kube.requests import ContentType
from selfheal.planning import Limits, plan
from selfheal.reporting.risk import build_risk_report
from selfheal.view import CanarySignals, SourceState
from tests.builders import NOW, make_deployment, make_replicaset, make_template, snapshot_of

SPLIT = '{"canary":10,"stable":90}'


def canary_story(rate, *, state=SourceState.AVAILABLE, canary_age=timedelta(hours=2), canary_replicas=1,
                 split=SPLIT):
    stable = make_deployment("dese-ea-plan-v5", template=make_template("cpt", image="registry.example/cpt:1.0"),
                             revision=3, annotations={"rollout.argoproj.io/traffic-split": split})
    cand = make_deployment("dese-ea-plan-v5-canary", template=make_template("cpt", image="registry.example/cpt:1.1"),
                           replicas=canary_replicas, revision=1)
    rs = make_replicaset(cand, revision=1, created=NOW - canary_age)
    signals = CanarySignals(state, "", {"dese-ea-plan-v5-canary": rate} if state == SourceState.AVAILABLE else {})
    return snapshot_of(stable, cand, rs, canary=signals), stable, cand


def test_an_error_rate_above_five_percent_aborts_the_canary_with_both_writes_and_their_inverses():
    snap, _, _ = canary_story(0.07)

    [finding] = canary.detect(snap, DetectorConfig(), NOW)

    assert finding.cause.code == CauseCode.CANARY_ERRORS and finding.severity == Severity.CRITICAL
    [action] = finding.actions
    assert action.action == ActionKind.CANARY_ABORT
    split, scale = action.writes
    assert (split.target.name, split.content_type) == ("dese-ea-plan-v5", ContentType.MERGE_PATCH)
    assert split.document() == {"metadata": {"annotations": {
        "rollout.argoproj.io/traffic-split": '{"canary":0,"stable":100}'}}}
    assert split.inverse_document() == {"metadata": {"annotations": {"rollout.argoproj.io/traffic-split": SPLIT}}}
    assert scale.target.name == "dese-ea-plan-v5-canary"
    assert (scale.document(), scale.inverse_document()) == ({"spec": {"replicas": 0}}, {"spec": {"replicas": 1}})


@pytest.mark.parametrize(("rate", "state", "cause"), [
    (None, SourceState.UNAVAILABLE, CauseCode.CANARY_UNKNOWN),
    (None, SourceState.ERROR, CauseCode.CANARY_UNKNOWN),
    (None, SourceState.AVAILABLE, CauseCode.CANARY_UNKNOWN),  # no traffic in the window
    (0.05, SourceState.AVAILABLE, CauseCode.CANARY_HEALTHY),  # at the threshold is not above it
    (0.0, SourceState.AVAILABLE, CauseCode.CANARY_HEALTHY),
])
def test_without_a_bad_measurement_there_is_no_action(rate, state, cause):
    snap, _, _ = canary_story(rate, state=state)

    [finding] = canary.detect(snap, DetectorConfig(), NOW)

    assert finding.cause.code == cause and finding.actions == ()


def test_a_healthy_canary_is_baking_until_the_bake_time_has_passed():
    snap, _, _ = canary_story(0.01, canary_age=timedelta(minutes=3))

    [finding] = canary.detect(snap, DetectorConfig(canary_bake_seconds=600), NOW)

    assert finding.cause.code == CauseCode.CANARY_BAKING


def test_promotion_is_proposed_only_when_enabled_and_moves_the_canary_images_into_stable():
    snap, _, _ = canary_story(0.01)

    [finding] = canary.detect(snap, DetectorConfig(canary_auto_promote=True), NOW)

    [action] = finding.actions
    assert action.action == ActionKind.CANARY_PROMOTE
    images, split, scale = action.writes
    assert split.document() == {"metadata": {"annotations": {
        "rollout.argoproj.io/traffic-split": '{"canary":0,"stable":100}'}}}
    assert images.target.name == "dese-ea-plan-v5" and images.content_type == ContentType.JSON_PATCH
    assert images.document() == [
        {"op": "test", "path": "/spec/template/spec/containers/0/name", "value": "cpt"},
        {"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": "registry.example/cpt:1.1"}]
    assert images.inverse_document()[1]["value"] == "registry.example/cpt:1.0"
    assert scale.document() == {"spec": {"replicas": 0}}


def test_an_aborted_canary_with_zero_replicas_is_quiet():
    snap, _, _ = canary_story(0.5, canary_replicas=0)

    assert canary.detect(snap, DetectorConfig(), NOW) == []


def test_a_canary_named_deployment_without_a_traffic_split_is_not_a_canary():
    stable = make_deployment("web")
    cand = make_deployment("web-canary")

    assert canary.detect(snapshot_of(stable, cand), DetectorConfig(), NOW) == []


BAD_SPLITS = [
    "canary=10",  # not JSON
    '{"canary":1e999,"stable":0}',  # int(inf) raised OverflowError: a traceback, exit 1, nothing healed
    '{"canary":20,"stable":100}',  # sums to 120
    '{"canary":-10,"stable":110}',  # negative
    '{"canary":"ten","stable":90}',
    '{"canary":10.0,"stable":90.0}',  # floats
    '{"canary":10.5,"stable":89.5}',
    '{"canary":true,"stable":false}',  # booleans
    '{"canary":10}',  # missing key
    '{"canary":10,"stable":90,"weight":1}',  # extra key
    "[10, 90]",  # a JSON list
    "null",
    "",
]


@pytest.mark.parametrize("split", BAD_SPLITS)
@pytest.mark.parametrize("rate", [0.5, 0.01, None])
def test_an_invalid_traffic_split_is_reported_quoted_and_the_pair_gets_no_action(split, rate):
    snap, _, _ = canary_story(rate, split=split)

    [finding] = canary.detect(snap, DetectorConfig(canary_auto_promote=True), NOW)

    assert finding.cause.code == CauseCode.TRAFFIC_SPLIT_INVALID
    assert finding.cause.summary.startswith(
        f"canary dese-ea-plan-v5-canary: rollout.argoproj.io/traffic-split={json.dumps(split)}")
    assert all(a.writes == () and a.refusal is not None for a in finding.actions)  # never an abort or a promote
    if rate == 0.5:
        [abort] = finding.actions
        assert abort.action == ActionKind.CANARY_ABORT and abort.refusal.code == SkipCode.INVALID_ANNOTATION
        assert finding.severity == Severity.CRITICAL and finding.failing
    else:
        assert finding.actions == () and finding.severity == Severity.WARNING and not finding.failing


def test_an_invalid_split_is_reported_even_on_an_inactive_canary():
    snap, _, _ = canary_story(0.5, canary_replicas=0, split='{"canary":1e999,"stable":0}')

    [finding] = canary.detect(snap, DetectorConfig(), NOW)

    assert finding.cause.code == CauseCode.TRAFFIC_SPLIT_INVALID and finding.actions == ()


def test_a_pass_over_an_invalid_split_plans_nothing_for_the_pair_and_the_risk_report_is_built():
    snap, _, _ = canary_story(0.5, split='{"canary":1e999,"stable":0}')
    findings = run_detectors(snap, DetectorConfig(), NOW)

    result = plan(findings, snap, [], Limits(), NOW)
    report = build_risk_report(namespace="shop", findings=findings, snapshot=snap, outcomes=(), generated_at=NOW,
                               sources={})

    assert result.approved == ()
    assert [(s.action.action, s.code) for s in result.skipped] == [
        (ActionKind.CANARY_ABORT, SkipCode.INVALID_ANNOTATION)]
    assert 0.0 <= report.risk_score <= 1.0
