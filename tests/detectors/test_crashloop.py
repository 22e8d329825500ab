"""Crash loops: which pods are findings, what their cause is, and what restart is proposed."""

from __future__ import annotations

from datetime import timedelta

import pytest

from selfheal.detectors import crashloop
from selfheal.detectors.base import DetectorConfig
from selfheal.findings import ActionKind, CauseCode, Severity, SkipCode
from selfheal.kube.requests import ContentType
from tests.builders import NOW, healthy_pods, make_deployment, make_pod, make_replicaset, snapshot_of

CONFIG = DetectorConfig(restart_threshold=3)


def _web():
    dep = make_deployment("web", image="registry.example/shop/web:1.1", revision=2)
    old = make_replicaset(dep, revision=1, image="registry.example/shop/web:1.0", replicas=0)
    new = make_replicaset(dep, revision=2, created=NOW - timedelta(hours=2))  # a recent change
    return dep, old, new


@pytest.mark.parametrize(("restarts", "found"), [(2, False), (3, True), (9, True)])
def test_the_restart_threshold_decides_whether_a_crash_loop_is_a_finding(restarts, found):
    dep, old, new = _web()
    pod = make_pod(
        "web-1", owner=new, restarts=restarts, waiting="CrashLoopBackOff", last_terminated=("Error", 1)
    )

    findings = crashloop.detect(snapshot_of(dep, old, new, pod), CONFIG, NOW)

    assert bool(findings) is found


@pytest.mark.parametrize(
    ("last", "cause", "restart_allowed"),
    [
        (("Error", 1), CauseCode.APP_ERROR, True),
        (("Error", 137), CauseCode.APP_ERROR, True),
        (("OOMKilled", 137), CauseCode.OOM_KILLED, False),
        (("Completed", 0), CauseCode.BAD_COMMAND, False),
    ],
)
def test_the_cause_comes_from_the_last_termination(last, cause, restart_allowed):
    dep, old, new = _web()
    pod = make_pod("web-1", owner=new, restarts=9, waiting="CrashLoopBackOff", last_terminated=last)

    [finding] = crashloop.detect(snapshot_of(dep, old, new, pod), CONFIG, NOW)

    assert finding.cause.code == cause
    assert finding.cause.reason == last[0] and finding.cause.exit_code == last[1]
    [restart] = finding.actions
    assert restart.action == ActionKind.RESTART_POD
    assert (restart.refusal is None) is restart_allowed
    if not restart_allowed:
        assert restart.refusal is not None and restart.refusal.code == SkipCode.RESTART_NOT_HELPFUL


@pytest.mark.parametrize(
    ("waiting", "cause"),
    [
        ("ImagePullBackOff", CauseCode.IMAGE_PULL),
        ("ErrImagePull", CauseCode.IMAGE_PULL),
        ("CreateContainerConfigError", CauseCode.CONTAINER_CONFIG),
    ],
)
def test_failures_no_restart_fixes_are_reported_with_the_restart_refused(waiting, cause):
    dep, old, new = _web()
    pod = make_pod("web-1", owner=new, restarts=0, waiting=waiting)

    [finding] = crashloop.detect(snapshot_of(dep, old, new, pod), CONFIG, NOW)

    assert finding.cause.code == cause and finding.failing
    assert finding.actions[0].refusal is not None
    assert finding.escalation is None  # a rollback for these is the bad-revision detector's call


def test_a_fresh_pod_pulling_its_image_gets_a_grace_period():
    dep, old, new = _web()
    pod = make_pod("web-1", owner=new, waiting="ErrImagePull", created=NOW)

    assert crashloop.detect(snapshot_of(dep, old, new, pod), CONFIG, NOW) == []


def test_a_crash_looping_init_container_is_found_and_named():
    dep, old, new = _web()
    pod = make_pod(
        "web-1",
        owner=new,
        restarts=5,
        waiting="CrashLoopBackOff",
        last_terminated=("Error", 2),
        init=True,
        container="migrate",
    )

    [finding] = crashloop.detect(snapshot_of(dep, old, new, pod), CONFIG, NOW)

    assert finding.cause.container == "init-migrate"
    assert finding.evidence[0].startswith("init container init-migrate: CrashLoopBackOff, 5 restarts")


def test_an_application_crash_proposes_an_eviction_of_that_pod_and_a_rollback_as_escalation():
    dep, old, new = _web()
    pod = make_pod("web-1", owner=new, restarts=9, waiting="CrashLoopBackOff", last_terminated=("Error", 1))
    siblings = healthy_pods(new, 2)  # one flaky pod among healthy ones: a restart case

    [finding] = crashloop.detect(snapshot_of(dep, old, new, pod, *siblings), CONFIG, NOW)

    assert finding.workload.kind == "Deployment" and finding.workload.name == "web"
    assert finding.subject is not None and finding.subject.name == "web-1"
    assert finding.severity == Severity.CRITICAL
    [write] = finding.actions[0].writes
    assert (write.verb, write.subresource, write.content_type) == ("create", "eviction", ContentType.JSON)
    assert write.document() == {
        "apiVersion": "policy/v1",
        "kind": "Eviction",
        "metadata": {"name": "web-1", "namespace": "shop"},
        "deleteOptions": {"preconditions": {"uid": pod.metadata.uid}},
    }
    assert write.inverse is None and "replaced by its controller" in write.inverse_note
    assert finding.escalation is not None and finding.escalation.action == ActionKind.ROLLBACK
    assert (
        finding.escalation.writes[0].document()[0]["value"]["spec"]["containers"][0]["image"].endswith(":1.0")
    )


def test_a_bare_pod_is_still_reported_with_itself_as_the_workload():
    pod = make_pod("debug", owner=None, restarts=9, waiting="CrashLoopBackOff", last_terminated=("Error", 1))

    [finding] = crashloop.detect(snapshot_of(pod), CONFIG, NOW)

    assert str(finding.workload) == "Pod/debug" and finding.escalation is None


def test_running_pods_and_waiting_for_other_reasons_are_not_findings():
    dep, old, new = _web()
    pods = [
        make_pod("web-1", owner=new, restarts=12),
        make_pod("web-2", owner=new, waiting="ContainerCreating"),
    ]

    assert crashloop.detect(snapshot_of(dep, old, new, *pods), CONFIG, NOW) == []
