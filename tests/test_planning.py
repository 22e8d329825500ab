"""Planning: every rail, the cap, cooldown across runs, the escalation ladder and mass failure."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from selfheal.detectors import DetectorConfig, run_detectors
from selfheal.findings import ActionKind, SkipCode
from selfheal.planning import Limits, plan
from tests.builders import (
    NOW,
    crashing_pods,
    healthy_pods,
    history_entry,
    make_configmap,
    make_deployment,
    make_pod,
    make_replicaset,
    make_template,
    snapshot_of,
)

LIMITS = Limits(max_actions=5, cooldown_seconds=600, escalation_window_seconds=3600)
V1, V2 = "registry.example/shop/web:1.0", "registry.example/shop/web:1.1"


def web(
    name="web", *, crashing=1, healthy=2, paused=False, annotations=None, last=("Error", 1), previous=True
):
    """`name` runs revision 2 (rollout completed two hours ago: a recent change) with some crash-looping
    pods; revision 1 is kept."""
    dep = make_deployment(
        name, template=make_template(name, image=V2), revision=2, paused=paused, annotations=annotations
    )
    old = make_replicaset(dep, revision=1, template=make_template(name, image=V1), replicas=0)
    new = make_replicaset(dep, revision=2, created=NOW - timedelta(hours=2))
    objs = [dep, new, *crashing_pods(new, crashing, last_terminated=last), *healthy_pods(new, healthy)]
    return [*objs, old] if previous else objs


CONFIG = DetectorConfig()


def decide(*objects, history=(), limits=LIMITS, config=CONFIG):
    snap = snapshot_of(*objects)
    return plan(run_detectors(snap, config, NOW), snap, history, limits, NOW)


def approved(p):
    return [(a.action.value, a.target.name) for a in p.approved]


def skips(p):
    return [(s.action.action.value, s.action.target.name, s.code) for s in p.skipped]


def test_a_crash_looping_pod_of_a_deployment_is_restarted():
    p = decide(*web())

    [action] = p.approved
    assert action.action == ActionKind.RESTART_POD and str(action.workload) == "Deployment/web"
    assert p.skipped == () and not p.mass_failure


# --- rails on the target ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pod_kwargs", "code"),
    [
        ({"owner": None}, SkipCode.BARE_POD),
        ({"owner": ("DaemonSet", "node-agent")}, SkipCode.DAEMONSET_POD),
        (
            {"owner": ("Node", "node-1"), "annotations": {"kubernetes.io/config.mirror": "abc"}},
            SkipCode.STATIC_POD,
        ),
        ({"owner": ("Node", "node-1")}, SkipCode.STATIC_POD),
        ({"owner": ("ReplicaSet", "orphan-rs"), "deleting": True}, SkipCode.TERMINATING),
        (
            {"owner": ("ReplicaSet", "orphan-rs"), "annotations": {"selfheal.dev/ignore": "true"}},
            SkipCode.IGNORED,
        ),
    ],
)
def test_pods_the_rails_protect_are_never_restarted(pod_kwargs, code):
    pod = make_pod(
        "victim", restarts=9, waiting="CrashLoopBackOff", last_terminated=("Error", 1), **pod_kwargs
    )

    p = decide(pod)

    assert p.approved == ()
    assert skips(p) == [("restart_pod", "victim", code)]
    assert p.skipped[0].text  # every skip explains itself


def test_an_ignored_deployment_is_left_alone_including_its_pods():
    p = decide(*web(annotations={"selfheal.dev/ignore": "true"}))

    assert p.approved == () and {s.code for s in p.skipped} == {SkipCode.IGNORED}


def test_ignore_must_say_true():
    p = decide(*web(annotations={"selfheal.dev/ignore": "false"}))

    assert len(p.approved) == 1


def test_a_paused_deployment_is_not_rolled_back():
    dep = make_deployment(
        "web", image=V2, revision=2, paused=True, progressing="ReplicaSetUpdated", updated=1
    )
    old = make_replicaset(dep, revision=1, image=V1, replicas=3)
    new = make_replicaset(dep, revision=2, replicas=1, available=0)

    p = decide(dep, old, new, *crashing_pods(new, 1))

    assert ("rollback", "web", SkipCode.PAUSED) in skips(p)
    assert approved(p) == []  # nor are the pods of its failing revision evicted behind the pause
    assert [c for a, _, c in skips(p) if a == "restart_pod"] == [SkipCode.PAUSED]


def test_a_restart_that_cannot_help_is_skipped_with_the_detectors_reason():
    p = decide(*web(last=("OOMKilled", 137)))

    assert p.approved == ()
    [skip] = p.skipped
    assert skip.code == SkipCode.RESTART_NOT_HELPFUL and "OOMKilled" in skip.text


# --- cap, cooldown, ladder -----------------------------------------------------------------------------------


def test_at_most_max_actions_are_approved_per_pass():
    p = decide(*web(crashing=7, healthy=8))

    assert len(p.approved) == 5
    assert [s.code for s in p.skipped] == [SkipCode.MAX_ACTIONS, SkipCode.MAX_ACTIONS]


def test_a_recent_action_on_the_workload_holds_the_next_one_back_across_runs():
    history = [history_entry("restart_pod", "Deployment/web", ago=120, kind="Pod", name="web-x")]

    p = decide(*web(), history=history)

    assert p.approved == ()
    [skip] = p.skipped
    assert skip.code == SkipCode.COOLDOWN and "cooldown ends in 480s" in skip.text


def test_restarts_that_did_not_help_escalate_to_a_rollback():
    history = [history_entry("restart_pod", "Deployment/web", ago=700, kind="Pod", name="web-x")]

    p = decide(*web(crashing=2, healthy=3), history=history)

    assert approved(p) == [("rollback", "web")]  # one rollback, however many pods escalated
    assert p.approved[0].writes[0].document()[0]["value"]["spec"]["containers"][0]["image"] == V1


def test_a_rollback_that_did_not_help_hands_the_workload_to_a_human():
    history = [
        history_entry("restart_pod", "Deployment/web", ago=1900),
        history_entry("rollback", "Deployment/web", ago=700, reason="restarts_did_not_help"),
    ]

    p = decide(*web(), history=history)

    assert p.approved == ()
    assert [s.code for s in p.skipped] == [SkipCode.NEEDS_HUMAN]


def test_hands_off_lasts_while_needs_human_keeps_being_recorded():
    history = [
        history_entry("restart_pod", "Deployment/web", ago=300, result="skipped", reason="needs_human")
    ]

    p = decide(*web(), history=history)

    assert [s.code for s in p.skipped] == [SkipCode.NEEDS_HUMAN]


def test_without_a_previous_revision_the_ladder_ends_at_needs_human():
    history = [history_entry("restart_pod", "Deployment/web", ago=700)]

    p = decide(*web(previous=False), history=history)

    [skip] = p.skipped
    assert skip.code == SkipCode.NEEDS_HUMAN and "no previous revision" in skip.text


@pytest.mark.parametrize(
    "entry",
    [
        history_entry("restart_pod", "Deployment/web", ago=7200),  # outside the escalation window
        history_entry(
            "restart_pod", "Deployment/web", ago=120, result="dry_run"
        ),  # a dry run changed nothing
        history_entry("restart_pod", "Deployment/web", ago=120, namespace="other"),  # another namespace
        history_entry("restart_pod", "Deployment/api", ago=120),  # another workload
    ],
)
def test_history_that_does_not_concern_this_workload_now_is_ignored(entry):
    p = decide(*web(), history=[entry])

    assert [a.action for a in p.approved] == [ActionKind.RESTART_POD]


def test_drift_that_comes_back_after_a_restore_goes_to_a_human():
    dep = make_deployment("web", replicas=10, annotations={"selfheal.dev/desired-replicas": "3"})
    history = [
        history_entry(
            "scale",
            "Deployment/web",
            ago=700,
            ladder="replicas",
            reason="replica_drift",
            detector="replica_drift",
        )
    ]

    p = decide(dep, history=history)

    [skip] = p.skipped
    assert skip.code == SkipCode.NEEDS_HUMAN and "replica_drift is back" in skip.text


# --- one action per workload, mass failure, determinism ------------------------------------------------------


def test_a_rollback_supersedes_restarts_of_the_same_workload():
    dep = make_deployment("web", image=V2, revision=2, progressing="ReplicaSetUpdated", updated=2)
    old = make_replicaset(dep, revision=1, image=V1, replicas=3)
    new = make_replicaset(dep, revision=2, replicas=2, available=0)

    p = decide(dep, old, new, *crashing_pods(new, 2))

    assert approved(p) == [("rollback", "web")]
    assert {(a, c) for a, _, c in skips(p)} == {("restart_pod", SkipCode.SUPERSEDED)}


@pytest.mark.parametrize(
    ("failing", "healthy", "mass"),
    [
        (3, 1, True),  # 3 of 4 Deployments
        (3, 3, False),  # half is not more than half
        (2, 0, False),  # fewer than 3 Deployments
        (1, 0, False),  # one Deployment whose every pod fails is an application case
    ],
)
def test_many_unrelated_workloads_failing_at_once_is_report_only(failing, healthy, mass):
    objects = []
    for i in range(failing):
        objects += web(f"app{i}", crashing=3, healthy=0)
    for i in range(healthy):
        dep = make_deployment(f"ok{i}")
        rs = make_replicaset(dep, revision=1)
        objects += [dep, rs, *healthy_pods(rs, 1)]

    p = decide(*objects)

    assert p.mass_failure is mass
    if mass:
        assert p.approved == () and {s.code for s in p.skipped} == {SkipCode.MASS_FAILURE}
        assert "3 of 4 Deployments" in p.skipped[0].text
    else:
        assert p.approved


def test_the_plan_is_the_same_whatever_order_the_findings_arrive_in():
    objects = [*web("web", crashing=4), *web("api", crashing=4)]
    snap = snapshot_of(*objects)
    findings = list(run_detectors(snap, DetectorConfig(), NOW))
    shuffled = findings[:]
    random.Random(3).shuffle(shuffled)

    assert plan(findings, snap, (), LIMITS, NOW) == plan(shuffled, snap, (), LIMITS, NOW)
    assert approved(plan(findings, snap, (), LIMITS, NOW))[0][1].startswith("api")


def test_each_decision_is_logged_as_one_structured_event():
    import structlog
    from structlog.testing import capture_logs

    from selfheal.planning import log_plan

    p = decide(
        *web(), make_pod("debug", restarts=9, waiting="CrashLoopBackOff", last_terminated=("Error", 1))
    )
    with capture_logs() as logs:
        log_plan(p, structlog.get_logger())

    assert [(e["event"], e["action"], e["name"], e["reason"]) for e in logs] == [
        ("action.planned", "restart_pod", p.approved[0].target.name, "app_error"),
        ("action.skipped", "restart_pod", "debug", "bare_pod"),
    ]


ARGO = {"argocd.argoproj.io/tracking-id": "cpt-web:apps/Deployment:dese-ea-plan-v5/web"}


@pytest.mark.parametrize(("guard", "expected"), [(True, []), (False, [("rollback", "web")])])
def test_an_argo_cd_tracked_deployment_is_not_rolled_back_behind_gitops_back(guard, expected):
    """Argo CD with selfHeal re-applies Git within seconds: the fix has to go to Git instead."""
    history = [history_entry("restart_pod", "Deployment/web", ago=700, kind="Pod", name="web-x")]

    p = decide(
        *web(crashing=2, healthy=3, annotations=ARGO),
        history=history,
        limits=Limits(**{**LIMITS.__dict__, "gitops_guard": guard}),
    )

    assert approved(p) == expected
    if guard:
        assert [(a, c) for a, _, c in skips(p)] == [("rollback", SkipCode.GITOPS_MANAGED)]
        assert "revert the commit in Git" in p.skipped[0].text


def test_an_argo_cd_tracked_deployment_may_still_have_its_crashing_pod_restarted():
    p = decide(*web(annotations=ARGO))

    assert [a for a, _ in approved(p)] == ["restart_pod"]


# --- judging like an SRE: the change that broke things, or the environment ----------------------------------


def completed(name="web", *, ago, crashing=3, healthy=0, last=("Error", 1)):
    """`name` completed its rollout of revision 2 `ago`; revision 1 (scaled to 0) ran before it."""
    dep = make_deployment(name, template=make_template(name, image=V2), revision=2)
    old = make_replicaset(
        dep, revision=1, template=make_template(name, image=V1), replicas=0, created=NOW - timedelta(days=60)
    )
    new = make_replicaset(dep, revision=2, created=NOW - ago)
    return [dep, old, new, *crashing_pods(new, crashing, last_terminated=last), *healthy_pods(new, healthy)]


def test_a_recent_bad_deploy_is_rolled_back_at_once_and_the_rollback_supersedes_its_restarts():
    p = decide(*completed(ago=timedelta(minutes=30)))

    assert approved(p) == [("rollback", "web")]
    assert {(a, c) for a, _, c in skips(p)} == {("restart_pod", SkipCode.SUPERSEDED)}


def test_a_recent_bad_deploy_that_ooms_is_rolled_back_though_restarting_it_would_not_help():
    p = decide(*completed(ago=timedelta(minutes=30), last=("OOMKilled", 137)))

    assert approved(p) == [("rollback", "web")]
    assert {c for a, _, c in skips(p) if a == "restart_pod"} == {SkipCode.RESTART_NOT_HELPFUL}


def test_an_established_revision_failing_is_restarted_once_then_handed_to_a_human():
    first = decide(*completed(ago=timedelta(days=20), crashing=2))

    assert [a for a, _ in approved(first)] == ["restart_pod", "restart_pod"]
    [hand_off] = [s for s in first.skipped if s.action.action == ActionKind.ROLLBACK]
    assert hand_off.code == SkipCode.NEEDS_HUMAN and "20-day-old revision" in hand_off.text

    history = [
        history_entry("restart_pod", "Deployment/web", ago=700, kind="Pod", name="web-x"),
        history_entry(
            "rollback",
            "Deployment/web",
            ago=700,
            result="skipped",
            reason="needs_human",
            detector="bad_revision",
        ),
    ]
    later = decide(*completed(ago=timedelta(days=20), crashing=2), history=history)

    assert approved(later) == []  # no rollback of 20 days of releases, no endless evictions
    assert {c for _, _, c in skips(later)} == {SkipCode.NEEDS_HUMAN}


def test_an_established_revision_oomkilled_everywhere_is_a_human_case_with_a_hint():
    p = decide(*completed(ago=timedelta(days=20), last=("OOMKilled", 137)))

    assert approved(p) == []
    assert any(
        c == SkipCode.NEEDS_HUMAN and "raise the memory limit or find the leak" in s.text
        for s, (_, _, c) in zip(p.skipped, skips(p), strict=True)
    )


def test_when_the_whole_namespace_fails_the_environment_is_the_platform_mass_failure():
    objects = [o for i in range(3) for o in completed(f"app{i}", ago=timedelta(days=20))]
    dep = make_deployment("ok")
    rs = make_replicaset(dep, revision=1)

    p = decide(*objects, dep, rs, *healthy_pods(rs, 1))

    assert p.mass_failure and p.approved == ()
    assert {s.code for s in p.skipped} == {SkipCode.MASS_FAILURE}


def test_an_established_revision_is_never_rolled_back_for_one_pod_restarts_do_not_cure():
    """21 days of the same code, three healthy siblings: a pod restarts do not cure goes to a human."""
    history = [history_entry("restart_pod", "Deployment/web", ago=700, kind="Pod", name="web-x")]
    objects = completed(ago=timedelta(days=21), crashing=1, healthy=3)

    p = decide(*objects, history=history)

    assert approved(p) == []
    assert [c for _, _, c in skips(p)] == [SkipCode.NEEDS_HUMAN]
    assert "no previous revision to roll back to" not in p.skipped[0].text


def test_a_drift_on_the_config_ladder_is_not_blocked_by_an_unrelated_earlier_one():
    """A template restore 12 minutes ago does not make a new ConfigMap change "come back"."""
    history = [
        history_entry(
            "restore_template",
            "Deployment/web",
            ago=700,
            ladder="config",
            reason="config_hash_drift",
            detector="config_drift",
        )
    ]
    dep = make_deployment(
        "web",
        template=make_template(
            "web",
            image=V1,
            configmap_volume="web-config",
            annotations={"selfheal.dev/config-checksum": "sha256:" + "0" * 64},
        ),
    )
    rs = make_replicaset(dep, revision=1)

    p = decide(dep, rs, *healthy_pods(rs, 2), make_configmap("web-config"), history=history)

    assert approved(p) == [("rollout_restart", "web")]
