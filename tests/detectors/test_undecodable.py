"""Objects that could not be decoded: each one a finding, none acted on, and none taken for healthy by the
rails and verdicts that count what they see (mass failure, "most pods of the revision are failing")."""

from __future__ import annotations

from datetime import timedelta

from selfheal.detectors import (
    bad_revision,
    config_drift,
    crashloop,
    replica_drift,
    run_detectors,
    undecodable,
)
from selfheal.detectors.base import DetectorConfig
from selfheal.findings import ActionKind, CauseCode, Severity, SkipCode
from selfheal.planning import Limits, mass_failure, plan
from selfheal.snapshot.reader import read_snapshot
from tests.builders import (
    NOW,
    crashing_pods,
    healthy_pods,
    make_configmap,
    make_deployment,
    make_hpa,
    make_pod,
    make_replicaset,
    make_template,
    snapshot_of,
)
from tests.detectors.problems import undecodable as broken
from tests.detectors.problems import with_problems
from tests.fakes import FakeTransport, Lists
from tests.snapshot.test_decode import pod_json
from tests.snapshot.test_reader import all_lists

CONFIG = DetectorConfig()
V1 = "registry.example/shop/web:1.0"
V2 = "registry.example/shop/web:1.1"


def skips(snapshot):
    result = plan(run_detectors(snapshot, CONFIG, NOW), snapshot, [], Limits(), NOW)
    return result, {(s.action.action, s.action.target.name): s.code for s in result.skipped}


def no_rollback_rung(finding) -> bool:
    """The ladder has no rollback to climb to: none proposed, or one refused for a human with no write."""
    e = finding.escalation
    return e is None or (e.refusal is not None and e.refusal.code == SkipCode.NEEDS_HUMAN and e.writes == ())


def test_every_undecodable_object_is_a_warning_naming_the_object_and_the_field_and_proposes_nothing():
    dep = make_deployment("web")
    rs = make_replicaset(dep, revision=1)
    problems = (
        broken(make_pod("web-1", owner=rs)),
        broken(make_hpa(dep)),
        broken(make_configmap("web-config")),
    )

    findings = undecodable.detect(with_problems(snapshot_of(dep, rs), *problems), CONFIG, NOW)

    assert [(f.cause.code, f.severity, f.actions) for f in findings] == [
        (CauseCode.UNDECODABLE_OBJECT, Severity.WARNING, ())
    ] * 3
    pod, hpa, cm = findings
    assert str(pod.workload) == "Deployment/web" and str(pod.subject) == "Pod/web-1" and pod.failing
    assert pod.evidence == ("pods page 1: item 0 (web-1): status.phase: Expected str, got int",)
    assert (
        pod.cause.summary
        == "Pod web-1 could not be decoded (status.phase: Expected str, got int); left out of this pass"
    )
    assert str(hpa.workload) == "Deployment/web" and not hpa.failing  # an HPA says nothing about health
    assert str(cm.workload) == "ConfigMap/web-config" and cm.subject is None and not cm.failing


def test_an_object_whose_name_is_unreadable_is_named_by_its_place_on_the_page():
    [finding] = undecodable.detect(with_problems(snapshot_of(), broken(make_pod("x"), name=5)), CONFIG, NOW)

    assert str(finding.workload) == "Pod/item 0"
    assert finding.evidence == ("pods page 1: item 0: metadata.name: Expected str, got int",)


# --- mass failure: unknown counts as failing ---------------------------------------------------------------


def namespace_of(names, *, crashing=(), unreadable=()):
    objects, problems = [], []
    for name in names:
        dep = make_deployment(name)
        rs = make_replicaset(dep, revision=1)
        pods = crashing_pods(rs, 1) if name in crashing else healthy_pods(rs, 2)
        objects += [dep, rs, *pods]
        if name in unreadable:
            problems.append(broken(make_pod(f"{name}-x", owner=rs)))
    return with_problems(snapshot_of(*objects), *problems)


def test_a_deployment_with_an_undecodable_pod_counts_as_failing_for_the_mass_failure_rail():
    names = ["a", "b", "c", "d", "e"]
    two_crashing = namespace_of(names, crashing=("a", "b"))
    and_one_unreadable = namespace_of(names, crashing=("a", "b"), unreadable=("c",))

    assert mass_failure(run_detectors(two_crashing, CONFIG, NOW), two_crashing, Limits()) == (False, 2, 5)
    findings = run_detectors(and_one_unreadable, CONFIG, NOW)
    assert mass_failure(findings, and_one_unreadable, Limits()) == (True, 3, 5)
    result, _ = skips(and_one_unreadable)
    assert result.approved == ()
    assert {(s.action.workload.name, s.code) for s in result.skipped} == {
        ("a", SkipCode.MASS_FAILURE),
        ("b", SkipCode.MASS_FAILURE),
    }


# --- "more than half of the current revision's pods are failing" -------------------------------------------


def rollout_of_v2(*, failing: int, healthy: int, unreadable: int):
    dep = make_deployment(
        "web",
        image=V2,
        revision=2,
        progressing="ReplicaSetUpdated",
        updated=failing + healthy + unreadable,
        available=3,
    )
    old = make_replicaset(dep, revision=1, image=V1, replicas=3)
    new = make_replicaset(dep, revision=2, replicas=failing + healthy + unreadable, available=healthy)
    pods = crashing_pods(new, failing) + healthy_pods(new, healthy)
    problems = [broken(make_pod(f"web-unread-{i}", owner=new)) for i in range(unreadable)]
    return with_problems(snapshot_of(dep, old, new, *pods), *problems)


def test_undecodable_pods_that_could_overturn_the_verdict_refuse_the_rollback():
    snap = rollout_of_v2(failing=2, healthy=1, unreadable=1)  # 2 of 4 (not systemic) or 3 of 4 (systemic)

    [finding] = bad_revision.detect(snap, CONFIG, NOW)

    assert finding.cause.code == CauseCode.BAD_REVISION and finding.failing
    [action] = finding.actions
    assert action.writes == () and action.refusal is not None
    assert action.refusal.code == SkipCode.UNDECODABLE_OBJECT
    assert "Pod web-unread-0 (status.phase: Expected str, got int)" in action.refusal.text
    assert any(e.startswith("not decoded: pods page 1: item 0 (web-unread-0)") for e in finding.evidence)


def test_a_verdict_that_holds_whichever_way_the_unseen_pods_go_is_acted_on():
    snap = rollout_of_v2(failing=3, healthy=0, unreadable=1)  # 3 of 4 at worst: systemic anyway

    [finding] = bad_revision.detect(snap, CONFIG, NOW)

    assert finding.actions[0].refusal is None and finding.actions[0].writes


def test_unseen_pods_of_an_older_replicaset_do_not_put_the_verdict_in_doubt():
    dep = make_deployment(
        "web", image=V2, revision=2, progressing="ReplicaSetUpdated", updated=2, available=3
    )
    old = make_replicaset(dep, revision=1, image=V1, replicas=3)
    new = make_replicaset(dep, revision=2, replicas=2, available=1)
    pods = crashing_pods(new, 1) + healthy_pods(new, 1)
    snap = with_problems(snapshot_of(dep, old, new, *pods), broken(make_pod("web-old-x", owner=old)))

    [finding] = crashloop.detect(snap, CONFIG, NOW)

    assert bad_revision.detect(snap, CONFIG, NOW) == []  # 1 of 2: not systemic, and nothing unseen counts
    assert finding.escalation is not None  # the ladder keeps its rollback rung


def test_an_undecodable_replicaset_refuses_the_rollback_and_takes_the_rollback_rung_away():
    snap = rollout_of_v2(failing=3, healthy=0, unreadable=0)
    dep = snap.deployments[0]
    lost = broken(make_replicaset(dep, revision=3, image="registry.example/shop/web:0.9"))
    snap = with_problems(snap, lost)

    [revision] = bad_revision.detect(snap, CONFIG, NOW)
    crashes = crashloop.detect(snap, CONFIG, NOW)

    assert revision.actions[0].refusal is not None
    assert revision.actions[0].refusal.code == SkipCode.UNDECODABLE_OBJECT
    assert crashes and all(no_rollback_rung(f) for f in crashes)  # restart, then a human


def test_in_doubt_the_crash_loop_ladder_has_no_rollback_rung():
    snap = rollout_of_v2(failing=1, healthy=1, unreadable=1)  # 1 of 3 or 2 of 3

    [finding] = crashloop.detect(snap, CONFIG, NOW)

    assert finding.actions[0].refusal is None  # the pod itself is fully seen: its restart stands
    assert no_rollback_rung(finding)


# --- the owner chain: a pod whose ReplicaSet or Deployment did not decode is left alone ---------------------


def test_a_crash_looping_pod_of_an_undecodable_deployment_is_reported_under_it_and_not_restarted():
    dep = make_deployment("web")
    rs = make_replicaset(dep, revision=1)
    pod = make_pod("web-1", owner=rs, restarts=9, waiting="CrashLoopBackOff", last_terminated=("Error", 1))
    snap = with_problems(snapshot_of(rs, pod), broken(dep))

    [finding] = crashloop.detect(snap, CONFIG, NOW)

    assert str(finding.workload) == "Deployment/web" and finding.escalation is None
    [action] = finding.actions
    assert action.refusal is not None and action.refusal.code == SkipCode.UNDECODABLE_OBJECT
    assert action.refusal.text.startswith(
        "the owner of pod web-1 cannot be seen: Deployment web (status.replicas"
    )
    result, skipped = skips(snap)
    assert result.approved == () and skipped == {
        (ActionKind.RESTART_POD, "web-1"): SkipCode.UNDECODABLE_OBJECT
    }


def test_a_crash_looping_pod_of_an_undecodable_replicaset_is_not_restarted_either():
    dep = make_deployment("web")
    rs = make_replicaset(dep, revision=1)
    pod = make_pod("web-1", owner=rs, restarts=9, waiting="CrashLoopBackOff", last_terminated=("Error", 1))
    snap = with_problems(snapshot_of(dep, pod), broken(rs))

    result, skipped = skips(snap)

    assert result.approved == ()
    assert skipped[(ActionKind.RESTART_POD, "web-1")] == SkipCode.UNDECODABLE_OBJECT


def test_a_pod_whose_replicaset_is_gone_and_a_bare_pod_keep_their_usual_treatment():
    orphan = make_pod(
        "orphan",
        owner=("ReplicaSet", "web-gone"),
        restarts=9,
        waiting="CrashLoopBackOff",
        last_terminated=("Error", 1),
    )
    bare = make_pod("debug", restarts=9, waiting="CrashLoopBackOff", last_terminated=("Error", 1))
    snap = with_problems(snapshot_of(orphan, bare), broken(make_configmap("unrelated")))

    result, skipped = skips(snap)

    assert [a.target.name for a in result.approved] == ["orphan"]
    assert skipped == {(ActionKind.RESTART_POD, "debug"): SkipCode.BARE_POD}


# --- replicas, availability, ConfigMaps ---------------------------------------------------------------------


def test_an_undecodable_hpa_targeting_the_deployment_refuses_the_scale():
    dep = make_deployment("web", replicas=5, annotations={"selfheal.dev/desired-replicas": "3"})
    snap = with_problems(snapshot_of(dep), broken(make_hpa(dep)))

    [finding] = replica_drift.detect(snap, CONFIG, NOW)

    assert finding.cause.code == CauseCode.REPLICA_DRIFT
    [action] = finding.actions
    assert action.writes == () and action.refusal is not None
    assert (
        action.refusal.code == SkipCode.UNDECODABLE_OBJECT
        and "an HPA may own the replica count" in action.refusal.text
    )


def test_an_undecodable_hpa_of_another_deployment_does_not_block_the_scale():
    dep = make_deployment("web", replicas=5, annotations={"selfheal.dev/desired-replicas": "3"})
    other = make_deployment("api")
    snap = with_problems(snapshot_of(dep, other), broken(make_hpa(other)))

    [finding] = replica_drift.detect(snap, CONFIG, NOW)

    assert finding.actions[0].refusal is None and finding.actions[0].writes


def test_availability_drift_with_an_undecodable_pod_gets_no_rolling_restart():
    dep = make_deployment("web", replicas=3, available=2, available_since=NOW - timedelta(seconds=900))
    rs = make_replicaset(dep, revision=1, available=2)
    pods = [make_pod("web-a", owner=rs), make_pod("web-b", owner=rs)]
    snap = with_problems(snapshot_of(dep, rs, *pods), broken(make_pod("web-c", owner=rs)))

    [finding] = replica_drift.detect(snap, CONFIG, NOW)

    assert finding.cause.code == CauseCode.UNAVAILABLE and finding.escalation is None
    [action] = finding.actions
    assert action.action == ActionKind.ROLLOUT_RESTART and action.writes == ()
    assert action.refusal is not None and action.refusal.code == SkipCode.UNDECODABLE_OBJECT


def test_an_undecodable_configmap_is_not_missing_its_content_is_unknown():
    template = make_template(
        "web",
        env_from_configmap="web-config",
        annotations={"selfheal.dev/config-checksum": "sha256:" + "0" * 64},
    )
    dep = make_deployment("web", template=template)
    snap = with_problems(snapshot_of(dep), broken(make_configmap("web-config")))

    [finding] = config_drift.detect(snap, CONFIG, NOW)

    refusal = finding.actions[0].refusal
    assert refusal is not None and refusal.code == SkipCode.UNDECODABLE_OBJECT


# --- through the reader's decoding: a whole namespace with one bad pod ----------------------------------------


def test_a_namespace_with_one_undecodable_pod_is_still_healed():
    lists = all_lists(pods=3)
    lists["deployments"][0]["metadata"]["annotations"] = {"selfheal.dev/desired-replicas": "4"}
    del lists["horizontalpodautoscalers"][0]
    bad = pod_json("web-bad")
    bad["status"]["containerStatuses"][0]["restartCount"] = "lots"
    lists["pods"].append(bad)

    snap = read_snapshot(FakeTransport(Lists(lists)), "shop")
    result = plan(run_detectors(snap, CONFIG, NOW), snap, [], Limits(), NOW)

    assert [(a.action, a.target.name) for a in result.approved] == [(ActionKind.SCALE, "web")]
    assert any(
        f.cause.code == CauseCode.UNDECODABLE_OBJECT and "web-bad" in f.evidence[0] for f in result.findings
    )
