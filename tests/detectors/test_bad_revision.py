"""Bad revision: roll back exactly as `kubectl rollout undo` would, and only when the new revision is to blame."""

from __future__ import annotations

import json
from datetime import timedelta

import msgspec
import pytest

from selfheal.detectors import bad_revision
from selfheal.detectors.base import DetectorConfig
from selfheal.findings import ActionKind, CauseCode, SkipCode
from selfheal.kube.requests import ContentType
from tests.builders import (
    NOW,
    crashing_pods,
    healthy_pods,
    make_deployment,
    make_pod,
    make_replicaset,
    make_template,
    served,
    snapshot_of,
)

CONFIG = DetectorConfig()
V1 = "registry.example/shop/web:1.0"
V2 = "registry.example/shop/web:1.1"
LAST_APPLIED = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web"},
    "spec": {"replicas": 3, "template": make_template("web", image=V2)},
}


def rollout_of_v2(
    *,
    failing: int = 1,
    healthy: int = 0,
    last=("Error", 1),
    progressing="ReplicaSetUpdated",
    old_available: int = 3,
):
    """web is rolling out 1.1 (revision 2) over a healthy 1.0 (revision 1)."""
    dep = make_deployment(
        "web",
        image=V2,
        revision=2,
        progressing=progressing,
        updated=failing + healthy,
        available=old_available,
        annotations={"team": "payments"},
        last_applied=LAST_APPLIED,
    )
    old = make_replicaset(dep, revision=1, image=V1, replicas=old_available, extra_annotations={"note": "v1"})
    new = make_replicaset(dep, revision=2, replicas=failing + healthy, available=healthy)
    pods = crashing_pods(new, failing, last_terminated=last) + healthy_pods(new, healthy)
    return dep, old, new, pods


def test_a_crashing_new_revision_over_a_healthy_old_one_is_rolled_back_like_kubectl_rollout_undo():
    dep, old, new, pods = rollout_of_v2(failing=1)

    [finding] = bad_revision.detect(snapshot_of(dep, old, new, *pods), CONFIG, NOW)

    assert finding.cause.code == CauseCode.BAD_REVISION and finding.failing
    [action] = finding.actions
    assert action.action == ActionKind.ROLLBACK and action.refusal is None
    [write] = action.writes
    assert (write.verb, write.content_type) == ("patch", ContentType.JSON_PATCH)
    template_op, annotations_op = write.document()
    # /spec/template: the old ReplicaSet's template minus pod-template-hash
    assert template_op["op"] == "replace" and template_op["path"] == "/spec/template"
    expected = old.template_doc()
    del expected["metadata"]["labels"]["pod-template-hash"]
    assert template_op["value"] == expected
    # /metadata/annotations: kubectl's skip list from the Deployment, everything else from the ReplicaSet
    assert annotations_op["op"] == "replace" and annotations_op["path"] == "/metadata/annotations"
    assert annotations_op["value"] == {
        "deployment.kubernetes.io/revision": "2",
        "kubectl.kubernetes.io/last-applied-configuration": json.dumps(LAST_APPLIED),
        "note": "v1",
        "team": "payments",
    }
    # the inverse puts back today's template and annotations
    inverse_template, inverse_annotations = write.inverse_document()
    assert inverse_template["value"] == dep.template_doc()
    assert inverse_annotations["value"] == dep.metadata.annotations


@pytest.mark.parametrize(
    ("failing", "healthy", "found"), [(1, 0, True), (2, 1, True), (1, 1, False), (1, 2, False)]
)
def test_most_of_the_new_revision_must_fail(failing, healthy, found):
    dep, old, new, pods = rollout_of_v2(failing=failing, healthy=healthy)

    assert bool(bad_revision.detect(snapshot_of(dep, old, new, *pods), CONFIG, NOW)) is found


@pytest.mark.parametrize("last", [("OOMKilled", 137), ("Completed", 0)])
def test_failures_restarts_cannot_fix_are_rolled_back_when_confined_to_the_new_revision(last):
    dep, old, new, pods = rollout_of_v2(failing=2, last=last)

    [finding] = bad_revision.detect(snapshot_of(dep, old, new, *pods), CONFIG, NOW)

    assert finding.actions[0].action == ActionKind.ROLLBACK


def test_a_single_crashing_pod_in_a_long_healthy_revision_is_not_a_rollback_case():
    dep = make_deployment("web", image=V2, revision=2)  # NewReplicaSetAvailable
    old = make_replicaset(dep, revision=1, image=V1, replicas=0)
    new = make_replicaset(dep, revision=2)
    pods = crashing_pods(new, 1) + healthy_pods(new, 2)

    assert bad_revision.detect(snapshot_of(dep, old, new, *pods), CONFIG, NOW) == []


def completed_v2(
    *,
    became_current_ago: timedelta,
    last=("Error", 1),
    failing: int = 3,
    healthy: int = 0,
    waiting: str = "CrashLoopBackOff",
):
    """web completed its rollout of 1.1 (revision 2) `became_current_ago`; revision 1 is scaled to 0."""
    dep = make_deployment("web", image=V2, revision=2)  # Progressing: NewReplicaSetAvailable
    old = make_replicaset(dep, revision=1, image=V1, replicas=0, created=NOW - timedelta(days=30))
    new = make_replicaset(dep, revision=2, created=NOW - became_current_ago)
    pods = [
        make_pod(
            f"{new.metadata.name}-p{i}",
            owner=new,
            restarts=9,
            waiting=waiting,
            created=NOW - became_current_ago,
            last_terminated=last if waiting == "CrashLoopBackOff" else None,
            ready_since=NOW - timedelta(minutes=12),
        )
        for i in range(failing)
    ]
    return dep, old, new, pods + healthy_pods(new, healthy)


CAUSES = [  # (waiting reason, last termination): every way a bad deploy fails after its rollout completed
    ("CrashLoopBackOff", ("Error", 1)),  # a crash on first real traffic
    ("CrashLoopBackOff", ("OOMKilled", 137)),  # a leak that OOMs
    ("CrashLoopBackOff", ("Completed", 0)),  # a bad flag read lazily ends the command
    ("ImagePullBackOff", None),
    ("CreateContainerConfigError", None),
]


@pytest.mark.parametrize(
    ("waiting", "last"), CAUSES, ids=[c[0] + (f"-{c[1][0]}" if c[1] else "") for c in CAUSES]
)
def test_a_bad_deploy_that_passed_its_rollout_is_rolled_back_whatever_the_cause(waiting, last):
    dep, old, new, pods = completed_v2(became_current_ago=timedelta(minutes=40), waiting=waiting, last=last)
    config = DetectorConfig(waiting_grace_seconds=300)

    [finding] = bad_revision.detect(snapshot_of(dep, old, new, *pods), config, NOW)

    assert finding.cause.code == CauseCode.BAD_REVISION and finding.failing
    [action] = finding.actions
    assert action.action == ActionKind.ROLLBACK and action.refusal is None
    assert action.writes[0].document()[0]["value"]["spec"]["containers"][0]["image"] == V1
    became, onset = finding.evidence[1], "failures since 2024-05-01T11:48:00Z"
    assert "revision 2 became current at 2024-05-01T11:20:00Z (40-minute-old)" in became and onset in became


def test_the_window_is_a_setting_measured_from_when_the_revision_became_current():
    dep, old, new, pods = completed_v2(became_current_ago=timedelta(hours=2))
    snap = snapshot_of(dep, old, new, *pods)

    [inside] = bad_revision.detect(snap, DetectorConfig(rollback_window_seconds=3 * 3600), NOW)
    [outside] = bad_revision.detect(snap, DetectorConfig(rollback_window_seconds=3600), NOW)

    assert inside.actions[0].writes and inside.cause.code == CauseCode.BAD_REVISION
    assert outside.actions[0].writes == () and outside.cause.code == CauseCode.ENVIRONMENT


HINTS = [
    (("OOMKilled", 137), "oom_killed", "raise the memory limit or find the leak"),
    (("Error", 1), "app_error", "look at what it depends on"),
    (("Completed", 0), "bad_command", "what it reads at start"),
]


@pytest.mark.parametrize(("last", "cause", "hint"), HINTS, ids=[h[1] for h in HINTS])
def test_an_established_revision_failing_everywhere_is_handed_to_a_human_not_rolled_back(last, cause, hint):
    dep, old, new, pods = completed_v2(became_current_ago=timedelta(days=20), last=last)

    [finding] = bad_revision.detect(snapshot_of(dep, old, new, *pods), CONFIG, NOW)

    assert finding.cause.code == CauseCode.ENVIRONMENT and finding.cause.reason == cause and finding.failing
    [action] = finding.actions
    assert action.writes == () and action.refusal is not None and action.refusal.code == SkipCode.NEEDS_HUMAN
    assert f"{cause} in 3 of 3 pods of a 20-day-old revision (2)" in action.refusal.text
    assert hint in action.refusal.text


def test_a_revision_made_current_again_by_a_rollback_counts_from_the_rollback():
    """`kubectl rollout undo` re-activates an old ReplicaSet: its creation is old, the change is not."""
    dep, old, new, pods = completed_v2(became_current_ago=timedelta(days=20))
    progressing = next(c for c in dep.status.conditions if c.type == "Progressing")
    moved = msgspec.structs.replace(
        progressing,
        message=f'ReplicaSet "{new.metadata.name}" has successfully progressed.',
        last_update_time=NOW - timedelta(minutes=30),
    )
    dep = msgspec.structs.replace(
        dep,
        status=msgspec.structs.replace(
            dep.status, conditions=(*(c for c in dep.status.conditions if c.type != "Progressing"), moved)
        ),
    )

    [finding] = bad_revision.detect(snapshot_of(dep, old, new, *pods), CONFIG, NOW)

    assert finding.cause.code == CauseCode.BAD_REVISION and finding.actions[0].writes


def test_a_rollout_past_its_deadline_with_no_available_pod_is_stuck_and_rolled_back():
    dep = make_deployment("web", image=V2, revision=2, progressing="ProgressDeadlineExceeded", updated=1)
    old = make_replicaset(dep, revision=1, image=V1, replicas=3)
    new = make_replicaset(dep, revision=2, replicas=1, available=0)
    unready = make_pod(f"{new.metadata.name}-x", owner=new, ready=False)

    [finding] = bad_revision.detect(snapshot_of(dep, old, new, unready), CONFIG, NOW)

    assert finding.cause.code == CauseCode.ROLLOUT_STUCK
    assert any("ProgressDeadlineExceeded" in e for e in finding.evidence)


def test_without_an_older_revision_the_rollback_is_refused():
    dep = make_deployment(
        "web", image=V2, revision=1, progressing="ReplicaSetUpdated", updated=1, available=0
    )
    only = make_replicaset(dep, revision=1, replicas=1, available=0)

    [finding] = bad_revision.detect(snapshot_of(dep, only, *crashing_pods(only, 1)), CONFIG, NOW)

    refusal = finding.actions[0].refusal
    assert refusal is not None and refusal.code == SkipCode.NO_PREVIOUS_REVISION
    assert finding.actions[0].writes == ()


def test_the_rollback_target_is_the_second_highest_revision_not_the_oldest():
    dep, old, new, pods = rollout_of_v2(failing=1)
    older = make_replicaset(dep, revision=0, image="registry.example/shop/web:0.9", replicas=0)

    [finding] = bad_revision.detect(snapshot_of(dep, older, old, new, *pods), CONFIG, NOW)

    value = finding.actions[0].writes[0].document()[0]["value"]
    assert value["spec"]["containers"][0]["image"] == V1


def test_replicasets_of_other_deployments_are_never_rollback_targets():
    dep, old, new, pods = rollout_of_v2(failing=1)
    other = make_deployment("api", image=V1, revision=5)
    foreign = make_replicaset(other, revision=5, template=served(make_template("api", image=V1)))

    [finding] = bad_revision.detect(snapshot_of(dep, old, new, other, foreign, *pods), CONFIG, NOW)

    assert finding.workload.name == "web"
    assert finding.actions[0].writes[0].document()[0]["value"] != foreign.template_doc()
