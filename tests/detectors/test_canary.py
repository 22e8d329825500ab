"""Canary health: abort above the error threshold, unknown without Prometheus, promote only when enabled."""

from __future__ import annotations

from datetime import timedelta

import pytest

from selfheal.detectors import canary
from selfheal.detectors.base import DetectorConfig
from selfheal.findings import ActionKind, CauseCode, Severity
from selfheal.kube.requests import ContentType
from selfheal.view import CanarySignals, SourceState
from tests.builders import NOW, make_deployment, make_replicaset, make_template, snapshot_of

SPLIT = '{"canary":10,"stable":90}'


def canary_story(rate, *, state=SourceState.AVAILABLE, canary_age=timedelta(hours=2), canary_replicas=1):
    stable = make_deployment("dese-ea-plan-v5", template=make_template("cpt", image="registry.example/cpt:1.0"),
                             revision=3, annotations={"rollout.argoproj.io/traffic-split": SPLIT})
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
