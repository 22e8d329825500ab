"""Replica drift (with the HPA owning replicas when there is one) and availability drift."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from selfheal.detectors import replica_drift
from selfheal.detectors.base import DetectorConfig
from selfheal.findings import ActionKind, CauseCode, SkipCode
from selfheal.kube.requests import ContentType
from tests.builders import NOW, make_deployment, make_hpa, make_pod, make_replicaset, snapshot_of

CONFIG = DetectorConfig()


def scale_targets(snapshot):
    return [
        (f.cause.code, f.actions[0].writes[0].document()["spec"]["replicas"])
        for f in replica_drift.detect(snapshot, CONFIG, NOW)
        if f.actions and f.actions[0].writes
    ]


@pytest.mark.parametrize(
    ("replicas", "hpa_min", "hpa_max", "expected"),
    [
        (1, 2, 10, [(CauseCode.HPA_CLAMP, 2)]),  # below the floor: raise to min
        (12, 2, 10, [(CauseCode.HPA_CLAMP, 10)]),  # above the ceiling: lower to max
        (5, 2, 10, []),  # inside the bounds: the HPA's business, even if the annotation says 3
        (2, 2, 10, []),  # on the bound
        (0, 2, 10, []),  # replicas 0 switches the HPA off on purpose (ScalingDisabled)
        (5, None, 4, [(CauseCode.HPA_CLAMP, 4)]),  # minReplicas defaults to 1, max still applies
        (1, 3, 2, []),  # an invalid HPA (max < min) is not ours to interpret
    ],
)
def test_with_an_hpa_only_replicas_outside_its_bounds_are_drift(replicas, hpa_min, hpa_max, expected):
    dep = make_deployment(
        "web", replicas=replicas, available=replicas, annotations={"selfheal.dev/desired-replicas": "3"}
    )
    hpa = make_hpa(dep, min_replicas=hpa_min, max_replicas=hpa_max)

    assert scale_targets(snapshot_of(dep, hpa)) == expected


def test_an_hpa_for_another_deployment_does_not_protect_this_one():
    dep = make_deployment("web", replicas=5, annotations={"selfheal.dev/desired-replicas": "3"})
    other = make_deployment("api", replicas=2)

    assert scale_targets(snapshot_of(dep, other, make_hpa(other))) == [(CauseCode.REPLICA_DRIFT, 3)]


@pytest.mark.parametrize(
    ("annotations", "last_applied", "expected"),
    [
        ({"selfheal.dev/desired-replicas": "3"}, None, [(CauseCode.REPLICA_DRIFT, 3)]),
        ({}, {"spec": {"replicas": 4}}, [(CauseCode.REPLICA_DRIFT, 4)]),
        ({"selfheal.dev/desired-replicas": "2"}, {"spec": {"replicas": 4}}, [(CauseCode.REPLICA_DRIFT, 2)]),
        ({}, {"spec": {}}, []),  # replicas not in the manifest: no opinion
        ({}, None, []),
        ({"selfheal.dev/desired-replicas": "5"}, None, []),  # no drift
    ],
)
def test_desired_replicas_come_from_the_annotation_else_last_applied(annotations, last_applied, expected):
    dep = make_deployment("web", replicas=5, annotations=annotations, last_applied=last_applied)

    assert scale_targets(snapshot_of(dep)) == expected


def test_the_scale_patch_is_a_merge_patch_with_its_inverse():
    dep = make_deployment("web", replicas=10, annotations={"selfheal.dev/desired-replicas": "3"})

    [finding] = replica_drift.detect(snapshot_of(dep), CONFIG, NOW)

    [write] = finding.actions[0].writes
    assert write.content_type == ContentType.MERGE_PATCH
    assert (write.document(), write.inverse_document()) == (
        {"spec": {"replicas": 3}},
        {"spec": {"replicas": 10}},
    )


BAD_DESIRED = [
    "1_000",
    "\uff15",
    "99999999999999999999",
    "-1",
    "+3",
    "3.0",
    "",
    "0x10",
    "1e3",
    "three",
    "1001",
    "\t3",
    "  ",
]


@pytest.mark.parametrize("value", BAD_DESIRED)
def test_an_invalid_desired_replicas_annotation_is_reported_and_the_scale_refused(value):
    dep = make_deployment("web", replicas=5, annotations={"selfheal.dev/desired-replicas": value})

    [finding] = replica_drift.detect(snapshot_of(dep), CONFIG, NOW)

    assert finding.cause.code == CauseCode.INVALID_ANNOTATION
    assert finding.cause.summary.startswith(
        f"selfheal.dev/desired-replicas={json.dumps(value, ensure_ascii=False)}"
    )
    [action] = finding.actions
    assert action.action == ActionKind.SCALE and action.writes == ()
    assert action.refusal is not None and action.refusal.code == SkipCode.INVALID_ANNOTATION
    assert action.refusal.text == finding.cause.summary


def test_the_finding_quotes_the_value_and_says_why():
    dep = make_deployment("web", replicas=5, annotations={"selfheal.dev/desired-replicas": "1_000"})

    [finding] = replica_drift.detect(snapshot_of(dep), CONFIG, NOW)

    assert finding.evidence == ('selfheal.dev/desired-replicas="1_000": not a decimal integer',)


@pytest.mark.parametrize(("value", "expected"), [(" 3 ", 3), ("0", 0), ("1000", 1000)])
def test_ascii_spaces_around_a_decimal_count_up_to_the_cap_are_fine(value, expected):
    dep = make_deployment("web", replicas=5, annotations={"selfheal.dev/desired-replicas": value})

    assert scale_targets(snapshot_of(dep)) == [(CauseCode.REPLICA_DRIFT, expected)]


def test_under_an_hpa_a_desired_count_above_its_max_is_reported_and_the_clamp_still_applies():
    dep = make_deployment("web", replicas=12, annotations={"selfheal.dev/desired-replicas": "11"})

    findings = replica_drift.detect(
        snapshot_of(dep, make_hpa(dep, min_replicas=2, max_replicas=10)), CONFIG, NOW
    )

    assert [f.cause.code for f in findings] == [CauseCode.INVALID_ANNOTATION, CauseCode.HPA_CLAMP]
    assert findings[0].cause.summary == 'selfheal.dev/desired-replicas="11": above HPA web maxReplicas 10'
    assert findings[0].actions[0].refusal is not None and findings[1].actions[0].refusal is None


def test_a_huge_last_applied_count_is_refused_not_sent():
    dep = make_deployment("web", replicas=5, last_applied={"spec": {"replicas": 99999999999999999999}})

    [finding] = replica_drift.detect(snapshot_of(dep), CONFIG, NOW)

    assert finding.cause.code == CauseCode.INVALID_ANNOTATION and finding.actions[0].writes == ()


def unavailable_web(
    *,
    since_seconds: float,
    pods_waiting: str | None = None,
    progressing="NewReplicaSetAvailable",
    paused=False,
):
    dep = make_deployment(
        "web",
        replicas=3,
        available=2,
        progressing=progressing,
        paused=paused,
        available_since=NOW - timedelta(seconds=since_seconds),
    )
    rs = make_replicaset(dep, revision=1, available=2)
    pods = [
        make_pod("web-a", owner=rs),
        make_pod("web-b", owner=rs),
        make_pod(
            "web-c",
            owner=rs,
            ready=False,
            waiting=pods_waiting,
            restarts=1,
            ready_since=NOW - timedelta(seconds=since_seconds),
        ),
    ]
    return snapshot_of(dep, rs, *pods)


def test_a_deployment_short_of_available_replicas_past_its_deadline_gets_a_rolling_restart():
    [finding] = replica_drift.detect(unavailable_web(since_seconds=900), CONFIG, NOW)

    assert finding.cause.code == CauseCode.UNAVAILABLE and finding.failing
    [action] = finding.actions
    assert action.action == ActionKind.ROLLOUT_RESTART
    [write] = action.writes
    assert write.content_type == ContentType.STRATEGIC_MERGE_PATCH
    assert write.document() == {
        "spec": {
            "template": {
                "metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "2024-05-01T12:00:00Z"}}
            }
        }
    }
    assert write.inverse_document() == {
        "spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": None}}}}
    }
    assert any("web-c" in e for e in finding.evidence)


@pytest.mark.parametrize(
    ("since", "waiting", "progressing", "paused"),
    [
        (300, None, "NewReplicaSetAvailable", False),  # not yet past progressDeadlineSeconds (600)
        (900, "CrashLoopBackOff", "NewReplicaSetAvailable", False),  # explained by the crash-loop detector
        (900, "ImagePullBackOff", "NewReplicaSetAvailable", False),
        (900, None, "ReplicaSetUpdated", False),  # a rollout is in progress
        (900, None, "NewReplicaSetAvailable", True),  # paused
    ],
)
def test_availability_drift_is_not_reported_when_something_else_explains_it(
    since, waiting, progressing, paused
):
    snap = unavailable_web(since_seconds=since, pods_waiting=waiting, progressing=progressing, paused=paused)

    assert [f for f in replica_drift.detect(snap, CONFIG, NOW) if f.cause.code == CauseCode.UNAVAILABLE] == []


def test_an_aborted_canary_is_not_scaled_back_to_its_recorded_replicas():
    """The canary's replicas follow its gate: last-applied's 1 must not bring back an aborted canary."""
    split = {"rollout.argoproj.io/traffic-split": '{"canary":0,"stable":100}'}
    stable = make_deployment("web", annotations=split)
    canary = make_deployment("web-canary", replicas=0, last_applied={"spec": {"replicas": 1}})

    assert [
        f
        for f in replica_drift.detect(snapshot_of(stable, canary), CONFIG, NOW)
        if f.workload.name == "web-canary"
    ] == []
