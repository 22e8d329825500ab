"""Bad revision: roll back exactly as `kubectl rollout undo` would, and only when the new revision is to blame."""

from __future__ import annotations

import json

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
LAST_APPLIED = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
                "spec": {"replicas": 3, "template": make_template("web", image=V2)}}


def rollout_of_v2(*, failing: int = 1, healthy: int = 0, last=("Error", 1), progressing="ReplicaSetUpdated",
                  old_available: int = 3):
    """web is rolling out 1.1 (revision 2) over a healthy 1.0 (revision 1)."""
    dep = make_deployment("web", image=V2, revision=2, progressing=progressing, updated=failing + healthy,
                          available=old_available, annotations={"team": "payments"}, last_applied=LAST_APPLIED)
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


@pytest.mark.parametrize(("failing", "healthy", "found"), [(1, 0, True), (2, 1, True), (1, 1, False), (1, 2, False)])
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


def test_every_pod_of_a_completed_rollout_failing_is_left_to_the_crash_loop_ladder():
    dep = make_deployment("web", image=V2, revision=2)
    old = make_replicaset(dep, revision=1, image=V1, replicas=0)
    new = make_replicaset(dep, revision=2)

    assert bad_revision.detect(snapshot_of(dep, old, new, *crashing_pods(new, 3)), CONFIG, NOW) == []


def test_a_rollout_past_its_deadline_with_no_available_pod_is_stuck_and_rolled_back():
    dep = make_deployment("web", image=V2, revision=2, progressing="ProgressDeadlineExceeded", updated=1)
    old = make_replicaset(dep, revision=1, image=V1, replicas=3)
    new = make_replicaset(dep, revision=2, replicas=1, available=0)
    unready = make_pod(f"{new.metadata.name}-x", owner=new, ready=False)

    [finding] = bad_revision.detect(snapshot_of(dep, old, new, unready), CONFIG, NOW)

    assert finding.cause.code == CauseCode.ROLLOUT_STUCK
    assert any("ProgressDeadlineExceeded" in e for e in finding.evidence)


def test_without_an_older_revision_the_rollback_is_refused():
    dep = make_deployment("web", image=V2, revision=1, progressing="ReplicaSetUpdated", updated=1, available=0)
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
