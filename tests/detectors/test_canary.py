"""Canary health from counts: abort on a failing verdict, nothing on an inconclusive or unknown one, and a
healthy canary, baked and allowed, stepped along 10 → 25 → 50 → 100 and then promoted."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from selfheal.detectors import canary, run_detectors
from selfheal.detectors.base import DetectorConfig
from selfheal.findings import ActionKind, CauseCode, Ladder, Severity, SkipCode
from selfheal.kube.annotations import ANN_CANARY_STEP, CanaryStep, parse_canary_step
from selfheal.kube.requests import ContentType
from selfheal.planning import Limits, plan
from selfheal.reporting.risk import build_risk_report
from selfheal.view import CanarySignals, Counts, SourceState
from tests.builders import (
    NOW,
    history_entry,
    make_deployment,
    make_hpa,
    make_replicaset,
    make_template,
    snapshot_of,
)

SPLIT = '{"canary":10,"stable":90}'
SPLIT_ANN = "rollout.argoproj.io/traffic-split"
DESIRED = "selfheal.dev/desired-replicas"
AUTO = "selfheal.dev/canary-auto-promote"
STABLE, CANARY = "dese-ea-plan-v5", "dese-ea-plan-v5-canary"
HEALTHY = (36000, 18)  # 0.05 % of 30 minutes at 20 requests/s, like stable
ON = DetectorConfig(canary_auto_promote=True)


def record(percent, ago, *, stable_replicas=3, stable_desired=None, canary_desired=None):
    return CanaryStep(percent, NOW - ago, stable_replicas, stable_desired, canary_desired).value()


def canary_story(
    counts=HEALTHY,
    *,
    stable_counts=HEALTHY,
    state=SourceState.AVAILABLE,
    canary_age=timedelta(hours=2),
    canary_replicas=1,
    stable_replicas=3,
    split=SPLIT,
    stable_annotations=None,
    step=None,
    hpa=False,
    canary_annotations=None,
):
    annotations = {SPLIT_ANN: split, **(stable_annotations or {})}
    if step is not None:
        annotations[ANN_CANARY_STEP] = step
    stable = make_deployment(
        STABLE,
        template=make_template("cpt", image="registry.example/cpt:1.0"),
        revision=3,
        replicas=stable_replicas,
        annotations=annotations,
    )
    cand = make_deployment(
        CANARY,
        template=make_template("cpt", image="registry.example/cpt:1.1"),
        replicas=canary_replicas,
        revision=1,
        annotations=canary_annotations,
    )
    rs = make_replicaset(cand, revision=1, created=NOW - canary_age)
    measured = {}
    if counts is not None:
        measured[CANARY] = Counts(*counts)
    if stable_counts is not None:
        measured[STABLE] = Counts(*stable_counts)
    signals = CanarySignals(state, "", {}, measured if state == SourceState.AVAILABLE else {})
    extra = [make_hpa(stable, min_replicas=1, max_replicas=10)] if hpa else []
    return snapshot_of(stable, cand, rs, *extra, canary=signals), stable, cand


def one(snap, config=None):
    [finding] = canary.detect(snap, config or DetectorConfig(), NOW)
    return finding


# --- fail: abort ----------------------------------------------------------------------------------------


def test_a_canary_whose_whole_interval_is_above_five_percent_is_aborted_with_both_writes_and_their_inverses():
    snap, _, _ = canary_story((36000, 2520))  # 7 %

    finding = one(snap)

    assert finding.cause.code == CauseCode.CANARY_ERRORS and finding.severity == Severity.CRITICAL
    assert finding.cause.summary == (
        f"canary {CANARY} error ratio above 5 % (36000 requests, 2520 errors, "
        "95 % interval 6.74–7.27 %: all of it above the threshold)"  # noqa: RUF001
    )
    assert "stable 0.05 % (18 of 36000 requests), z = 50.56" in finding.evidence
    [action] = finding.actions
    assert action.action == ActionKind.CANARY_ABORT
    split, scale = action.writes
    assert (split.target.name, split.content_type) == (STABLE, ContentType.MERGE_PATCH)
    assert split.document() == {"metadata": {"annotations": {SPLIT_ANN: '{"canary":0,"stable":100}'}}}
    assert split.inverse_document() == {"metadata": {"annotations": {SPLIT_ANN: SPLIT}}}
    assert scale.target.name == CANARY
    assert (scale.document(), scale.inverse_document()) == (
        {"spec": {"replicas": 0}},
        {"spec": {"replicas": 1}},
    )


def test_an_abort_rewrites_the_split_on_both_deployments_when_both_carry_one():
    """Stable's split is the one read; a copy left on the canary saying 10 % would tell whoever reads it next
    (a person, a mesh) that traffic still goes there."""
    snap, _, _ = canary_story((36000, 2520), canary_annotations={SPLIT_ANN: SPLIT})

    [action] = one(snap).actions

    splits = [w for w in action.writes if SPLIT_ANN in json.dumps(w.document())]
    assert [w.target.name for w in splits] == [STABLE, CANARY]
    assert all(
        w.document()["metadata"]["annotations"][SPLIT_ANN] == '{"canary":0,"stable":100}' for w in splits
    )
    assert all(w.inverse_document()["metadata"]["annotations"][SPLIT_ANN] == SPLIT for w in splits)


def test_a_canary_significantly_worse_than_a_healthy_stable_is_aborted_though_below_five_percent():
    snap, _, _ = canary_story((36000, 360))  # 1 % against stable's 0.05 %

    finding = one(snap)

    assert finding.cause.code == CauseCode.CANARY_ERRORS and finding.failing
    assert "significantly worse than stable's 0.05 %" in finding.cause.summary
    assert [a.action for a in finding.actions] == [ActionKind.CANARY_ABORT]


def test_an_abort_after_the_jobs_steps_gives_the_stable_its_replicas_back():
    step = record(50, timedelta(minutes=3), stable_desired=None, canary_desired=None)
    snap, _, _ = canary_story(
        (36000, 2520),
        split='{"canary":50,"stable":50}',
        step=step,
        stable_replicas=2,
        canary_replicas=2,
        stable_annotations={DESIRED: "2"},
    )

    [action] = one(snap).actions

    stable_write, canary_write = action.writes
    assert stable_write.target.name == STABLE and stable_write.document() == {
        "metadata": {
            "annotations": {SPLIT_ANN: '{"canary":0,"stable":100}', ANN_CANARY_STEP: None, DESIRED: None}
        },
        "spec": {"replicas": 3},
    }
    assert stable_write.inverse_document() == {
        "metadata": {
            "annotations": {SPLIT_ANN: '{"canary":50,"stable":50}', ANN_CANARY_STEP: step, DESIRED: "2"}
        },
        "spec": {"replicas": 2},
    }
    assert canary_write.document() == {"spec": {"replicas": 0}}


# --- unknown and inconclusive: nothing ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("counts", "state"),
    [
        (None, SourceState.UNAVAILABLE),
        (None, SourceState.ERROR),
        (None, SourceState.AVAILABLE),  # no series: no traffic recorded
        ((0.0, 0.0), SourceState.AVAILABLE),  # no requests in the window
        ((0.3, 0.0), SourceState.AVAILABLE),  # less than one
    ],
)
def test_without_counts_the_canary_is_unknown_and_nothing_is_done(counts, state):
    snap, _, _ = canary_story(counts, state=state)

    finding = one(snap, ON)

    assert finding.cause.code == CauseCode.CANARY_UNKNOWN and finding.actions == ()


@pytest.mark.parametrize(
    ("counts", "stable_counts", "why"),
    [
        ((2, 1), HEALTHY, "fewer than 100 requests"),  # "50 %" of two requests
        ((36000, 1800), (36000, 1800), "the interval straddles the 5 % threshold"),  # exactly at it
        ((300, 2), (20000, 10), "too few errors expected to tell it from stable's 0.05 %"),
    ],
)
def test_an_inconclusive_canary_is_neither_aborted_nor_promoted_and_says_why_plainly(
    counts, stable_counts, why
):
    snap, _, _ = canary_story(counts, stable_counts=stable_counts)

    finding = one(snap, ON)

    assert finding.cause.code == CauseCode.CANARY_INCONCLUSIVE and finding.actions == ()
    assert finding.cause.summary.startswith(
        f"canary {CANARY}: not enough traffic to judge ({counts[0]} requests, "
    )
    assert finding.cause.summary.endswith(f"): {why}") and not finding.failing


def test_one_error_in_two_requests_reads_as_what_it_is():
    snap, _, _ = canary_story((2, 1))

    assert one(snap).cause.summary == (
        f"canary {CANARY}: not enough traffic to judge (2 requests, 1 error, "
        "95 % interval 9.45–90.55 %): fewer than 100 requests"  # noqa: RUF001
    )


# --- healthy: bake, then progress -----------------------------------------------------------------------


def test_a_healthy_canary_is_baking_until_the_bake_time_has_passed():
    snap, _, _ = canary_story(canary_age=timedelta(minutes=3))

    finding = one(snap, ON)

    assert finding.cause.code == CauseCode.CANARY_BAKING and finding.actions == ()


def test_healthy_without_auto_promotion_is_reported_and_left_alone():
    snap, _, _ = canary_story()

    finding = one(snap)

    assert finding.cause.code == CauseCode.CANARY_HEALTHY and finding.actions == ()
    assert "auto-promotion off: SELFHEAL_CANARY_AUTO_PROMOTE=false" in finding.evidence


def test_the_first_step_moves_the_split_and_records_it_and_the_replicas_already_match():
    snap, _, _ = canary_story(stable_annotations={AUTO: "true"})  # the annotation allows it: setting off

    finding = one(snap)

    assert finding.cause.code == CauseCode.CANARY_HEALTHY
    [action] = finding.actions
    assert (action.action, action.ladder, action.target.name) == (
        ActionKind.CANARY_STEP,
        Ladder.CANARY_PROGRESS,
        CANARY,
    )
    [write] = action.writes  # 25 % of 4 replicas is the 1 canary it has
    doc = write.document()["metadata"]["annotations"]
    assert write.target.name == STABLE and doc[SPLIT_ANN] == '{"canary":25,"stable":75}'
    assert parse_canary_step(doc[ANN_CANARY_STEP]) == CanaryStep(25, NOW, 3, None, None)
    assert write.inverse_document() == {
        "metadata": {"annotations": {SPLIT_ANN: SPLIT, ANN_CANARY_STEP: None}}
    }
    assert action.summary == (
        f"step canary {CANARY} from 10 % to 25 % of traffic (canary 1 replica, stable 3 replicas)"
    )


def test_a_step_scales_the_canary_first_then_the_stable_with_desired_replicas_matching():
    step = record(25, timedelta(minutes=11))
    snap, _, _ = canary_story(split='{"canary":25,"stable":75}', step=step)

    [action] = one(snap, ON).actions

    canary_write, stable_write = action.writes
    assert canary_write.target.name == CANARY and canary_write.document() == {
        "metadata": {"annotations": {DESIRED: "2"}},
        "spec": {"replicas": 2},
    }
    assert canary_write.inverse_document() == {
        "metadata": {"annotations": {DESIRED: None}},
        "spec": {"replicas": 1},
    }
    stable_doc = stable_write.document()
    assert stable_doc["spec"] == {"replicas": 2} and stable_doc["metadata"]["annotations"][DESIRED] == "2"
    assert stable_doc["metadata"]["annotations"][SPLIT_ANN] == '{"canary":50,"stable":50}'
    assert parse_canary_step(stable_doc["metadata"]["annotations"][ANN_CANARY_STEP]) == CanaryStep(
        50, NOW, 3, None, None
    )


def test_the_bake_time_applies_per_step():
    snap, _, _ = canary_story(split='{"canary":25,"stable":75}', step=record(25, timedelta(minutes=4)))

    finding = one(snap, ON)

    assert finding.cause.code == CauseCode.CANARY_BAKING and finding.actions == ()
    assert any(e.startswith("at 25 % for 240 s (split set to 25 % by the job") for e in finding.evidence)


def test_a_split_between_steps_moves_to_the_next_step_above_it():
    snap, _, _ = canary_story(split='{"canary":17,"stable":83}')

    [action] = one(snap, ON).actions

    assert json.loads(action.writes[-1].document()["metadata"]["annotations"][SPLIT_ANN]) == {
        "canary": 25,
        "stable": 75,
    }


def test_a_split_moved_by_someone_after_the_jobs_step_holds_the_progression():
    snap, _, _ = canary_story(split='{"canary":40,"stable":60}', step=record(25, timedelta(minutes=30)))

    finding = one(snap, ON)

    assert finding.cause.code == CauseCode.CANARY_BAKING and finding.actions == ()
    assert any("it was moved since, at a time nobody recorded" in e for e in finding.evidence)


def test_a_record_older_than_the_canarys_replicaset_is_of_an_earlier_canary():
    snap, _, _ = canary_story(step=record(50, timedelta(hours=3)), canary_age=timedelta(hours=2))

    [action] = one(snap, ON).actions

    assert action.action == ActionKind.CANARY_STEP
    assert (
        parse_canary_step(action.writes[-1].document()["metadata"]["annotations"][ANN_CANARY_STEP]).canary
        == 25
    )


def test_an_unreadable_step_record_holds_the_progression():
    snap, _, _ = canary_story(step='{"canary":25}')

    finding = one(snap, ON)

    assert finding.cause.code == CauseCode.CANARY_BAKING and finding.actions == ()


@pytest.mark.parametrize(
    ("value", "setting", "allowed"),
    [("true", False, True), ("TRUE ", False, True), ("false", True, False), ("yes", True, False)],
)
def test_the_stable_annotation_decides_auto_promotion_strictly(value, setting, allowed):
    snap, _, _ = canary_story(stable_annotations={AUTO: value})

    finding = one(snap, DetectorConfig(canary_auto_promote=setting))

    assert bool(finding.actions) is allowed
    if value == "yes":
        assert f'{AUTO}="yes": not "true" or "false"; read as "false" (no automatic progression)' in " ".join(
            finding.evidence
        )


def test_with_an_hpa_on_the_stable_only_the_canary_is_scaled():
    snap, _, _ = canary_story(
        split='{"canary":25,"stable":75}', step=record(25, timedelta(minutes=11)), hpa=True
    )

    [action] = one(snap, ON).actions

    canary_write, stable_write = action.writes
    assert canary_write.document()["spec"] == {"replicas": 2}
    assert (
        "spec" not in stable_write.document()
        and DESIRED not in stable_write.document()["metadata"]["annotations"]
    )
    assert "stable kept by its HPA" in action.summary


def test_at_one_hundred_percent_the_canary_is_promoted_and_the_steps_are_undone():
    step = record(100, timedelta(minutes=11), stable_desired=None, canary_desired=None)
    snap, _, _ = canary_story(
        split='{"canary":100,"stable":0}',
        step=step,
        stable_replicas=0,
        canary_replicas=4,
        stable_annotations={DESIRED: "0"},
    )

    finding = one(snap, ON)

    [action] = finding.actions
    assert action.action == ActionKind.CANARY_PROMOTE and action.ladder == Ladder.CANARY
    stable_write, canary_write = action.writes
    assert stable_write.content_type == ContentType.JSON_PATCH
    assert stable_write.document() == [
        {
            "op": "add",
            "path": "/metadata/annotations/rollout.argoproj.io~1traffic-split",
            "value": '{"canary":0,"stable":100}',
        },
        {"op": "remove", "path": "/metadata/annotations/selfheal.dev~1canary-step"},
        {"op": "remove", "path": "/metadata/annotations/selfheal.dev~1desired-replicas"},
        {"op": "test", "path": "/spec/template/spec/containers/0/name", "value": "cpt"},
        {
            "op": "replace",
            "path": "/spec/template/spec/containers/0/image",
            "value": "registry.example/cpt:1.1",
        },
        {"op": "replace", "path": "/spec/replicas", "value": 3},
    ]
    assert stable_write.inverse_document() == [
        {
            "op": "add",
            "path": "/metadata/annotations/rollout.argoproj.io~1traffic-split",
            "value": '{"canary":100,"stable":0}',
        },
        {"op": "add", "path": "/metadata/annotations/selfheal.dev~1canary-step", "value": step},
        {"op": "add", "path": "/metadata/annotations/selfheal.dev~1desired-replicas", "value": "0"},
        {"op": "test", "path": "/spec/template/spec/containers/0/name", "value": "cpt"},
        {
            "op": "replace",
            "path": "/spec/template/spec/containers/0/image",
            "value": "registry.example/cpt:1.0",
        },
        {"op": "replace", "path": "/spec/replicas", "value": 0},
    ]
    assert canary_write.target.name == CANARY and canary_write.document() == {"spec": {"replicas": 0}}


def test_a_promotion_without_steps_is_one_write_per_deployment():
    snap, _, _ = canary_story(split='{"canary":100,"stable":0}')

    [action] = one(snap, ON).actions

    images, scale = action.writes
    assert images.target.name == STABLE and images.content_type == ContentType.JSON_PATCH
    assert [op["path"] for op in images.document()] == [
        "/metadata/annotations/rollout.argoproj.io~1traffic-split",
        "/spec/template/spec/containers/0/name",
        "/spec/template/spec/containers/0/image",
    ]
    assert scale.document() == {"spec": {"replicas": 0}}


def test_steps_are_not_a_ladder_one_step_per_pass_after_the_cooldown():
    snap, _, _ = canary_story(split='{"canary":25,"stable":75}', step=record(25, timedelta(minutes=11)))
    findings = run_detectors(snap, ON, NOW)
    earlier = [
        history_entry(
            "canary_step",
            f"Deployment/{CANARY}",
            ago=ago,
            reason="canary_healthy",
            ladder="canary_progress",
            detector="canary",
        )
        for ago in (1300, 660)
    ]

    result = plan(findings, snap, earlier, Limits(cooldown_seconds=600), NOW)

    assert [a.action for a in result.approved] == [ActionKind.CANARY_STEP]
    held = plan(findings, snap, earlier, Limits(cooldown_seconds=900), NOW)
    assert [(s.action.action, s.code) for s in held.skipped] == [(ActionKind.CANARY_STEP, SkipCode.COOLDOWN)]


def test_an_aborted_canary_with_zero_replicas_is_quiet():
    snap, _, _ = canary_story((1000, 500), canary_replicas=0)

    assert canary.detect(snap, DetectorConfig(), NOW) == []


def test_a_canary_named_deployment_without_a_traffic_split_is_not_a_canary():
    stable = make_deployment("web")
    cand = make_deployment("web-canary")

    assert canary.detect(snapshot_of(stable, cand), DetectorConfig(), NOW) == []


# --- an invalid split: never an action ------------------------------------------------------------------

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
FAILING, HEALTHY_COUNTS = (1000, 500), HEALTHY


@pytest.mark.parametrize("split", BAD_SPLITS)
@pytest.mark.parametrize("counts", [FAILING, HEALTHY_COUNTS, (2, 1), None])
def test_an_invalid_traffic_split_is_reported_quoted_and_the_pair_gets_no_action(split, counts):
    snap, _, _ = canary_story(counts, split=split)

    finding = one(snap, ON)

    assert finding.cause.code == CauseCode.TRAFFIC_SPLIT_INVALID
    assert finding.cause.summary.startswith(
        f"canary {CANARY}: rollout.argoproj.io/traffic-split={json.dumps(split)}"
    )
    assert all(a.writes == () and a.refusal is not None for a in finding.actions)  # never an abort or a step
    if counts == FAILING:
        [abort] = finding.actions
        assert abort.action == ActionKind.CANARY_ABORT and abort.refusal.code == SkipCode.INVALID_ANNOTATION
        assert finding.severity == Severity.CRITICAL and finding.failing
    else:
        assert finding.actions == () and finding.severity == Severity.WARNING and not finding.failing


def test_an_invalid_split_is_reported_even_on_an_inactive_canary():
    snap, _, _ = canary_story(FAILING, canary_replicas=0, split='{"canary":1e999,"stable":0}')

    finding = one(snap)

    assert finding.cause.code == CauseCode.TRAFFIC_SPLIT_INVALID and finding.actions == ()


def test_a_pass_over_an_invalid_split_plans_nothing_for_the_pair_and_the_risk_report_is_built():
    snap, _, _ = canary_story(FAILING, split='{"canary":1e999,"stable":0}')
    findings = run_detectors(snap, DetectorConfig(), NOW)

    result = plan(findings, snap, [], Limits(), NOW)
    report = build_risk_report(
        namespace="shop", findings=findings, snapshot=snap, outcomes=(), generated_at=NOW, sources={}
    )

    assert result.approved == ()
    assert [(s.action.action, s.code) for s in result.skipped] == [
        (ActionKind.CANARY_ABORT, SkipCode.INVALID_ANNOTATION)
    ]
    assert 0.0 <= report.risk_score <= 1.0
