"""The read-only view: how pods, ReplicaSets and Deployments are tied together."""

from __future__ import annotations

import dataclasses

from selfheal.kube.refs import ObjectRef
from tests.builders import make_configmap, make_deployment, make_hpa, make_pod, make_replicaset, snapshot_of
from tests.detectors.problems import undecodable, with_problems


def test_pods_are_tied_to_their_deployment_through_the_replicaset_uid():
    dep = make_deployment("web")
    rs = make_replicaset(dep, revision=1)
    other = make_deployment("api")
    pod = make_pod("web-1", owner=rs)
    stray = make_pod("stray", owner=("ReplicaSet", "web-gone"))  # its ReplicaSet is not in the namespace

    snap = snapshot_of(dep, other, rs, pod, stray)

    assert snap.replicasets_of(dep) == (rs,) and snap.replicasets_of(other) == ()
    assert snap.pods_of(dep) == (pod,)
    assert str(snap.workload_of(pod)) == "Deployment/web"
    assert str(snap.workload_of(stray)) == "ReplicaSet/web-gone"
    assert str(snap.workload_of(make_pod("bare"))) == "Pod/bare"


def test_the_container_count_is_the_risk_denominator():
    snap = snapshot_of(make_deployment("web"), make_deployment("api"))

    assert snap.container_count() == 2


# --- objects that could not be decoded ------------------------------------------------------------------


def web_story():
    dep = make_deployment("web")
    rs = make_replicaset(dep, revision=1)
    return dep, rs, make_pod("web-1", owner=rs)


def test_a_pod_whose_replicaset_did_not_decode_has_an_unknown_owner_but_is_still_tied_to_its_deployment():
    dep, rs, pod = web_story()
    bad_rs = undecodable(rs)

    snap = with_problems(snapshot_of(dep, pod), bad_rs)

    assert pod.metadata.controller_ref() is not None  # not a bare pod
    assert snap.owner_unknown(pod) == bad_rs
    assert str(snap.workload_of(pod)) == "Deployment/web"
    assert snap.unseen(dep) == (bad_rs,)


def test_the_pods_of_a_deployment_that_did_not_decode_belong_to_that_deployment_and_to_no_one_known():
    dep, rs, pod = web_story()
    bad_dep = undecodable(dep)

    snap = with_problems(snapshot_of(rs, pod), bad_dep)

    assert snap.deployment_of(pod) is None
    assert snap.owner_unknown(pod) == bad_dep
    assert snap.workload_of(pod) == ObjectRef("Deployment", "web", "shop", dep.metadata.uid)
    assert snap.workload_of_problem(bad_dep) == ObjectRef("Deployment", "web", "shop", dep.metadata.uid)


def test_a_pod_whose_replicaset_is_simply_gone_is_not_unknown():
    stray = make_pod("stray", owner=("ReplicaSet", "web-gone"))
    other = undecodable(make_replicaset(make_deployment("api"), revision=1))

    snap = with_problems(snapshot_of(stray), other)

    assert snap.owner_unknown(stray) is None
    assert str(snap.workload_of(stray)) == "ReplicaSet/web-gone"


def test_a_replicaset_problem_whose_uid_and_name_are_unreadable_may_be_any_missing_replicaset():
    dep, rs, pod = web_story()
    anonymous = undecodable(rs, name=..., uid=...)

    snap = with_problems(snapshot_of(dep, pod), anonymous)

    assert anonymous.name == "item 0" and not anonymous.named
    assert snap.owner_unknown(pod) == anonymous
    assert snap.owner_unknown(make_pod("web-2", owner=rs)) == anonymous


def test_undecodable_pods_belong_to_the_deployment_their_owner_chain_names():
    dep, rs, pod = web_story()
    api = make_deployment("api")
    api_rs = make_replicaset(api, revision=1)
    bad_pod = undecodable(make_pod("web-2", owner=rs))
    bare = undecodable(make_pod("debug"))

    snap = with_problems(snapshot_of(dep, rs, pod, api, api_rs), bad_pod, bare)

    assert snap.unseen(dep) == (bad_pod,) and snap.unseen(api) == ()
    assert str(snap.workload_of_problem(bad_pod)) == "Deployment/web"
    assert str(snap.workload_of_problem(bare)) == "Pod/debug" and bare.owners == ()


def test_an_undecodable_pod_whose_owners_cannot_be_read_may_belong_to_any_deployment_selecting_it():
    dep, rs, _ = web_story()
    api = make_deployment("api")
    by_labels = undecodable(make_pod("web-2", owner=rs), ownerReferences="garbage", labels={"app": "web"})
    unreadable = undecodable(make_pod("web-3", owner=rs), ownerReferences="garbage", labels=[1])

    assert with_problems(snapshot_of(dep, api), by_labels).unseen(dep) == (by_labels,)
    assert with_problems(snapshot_of(dep, api), by_labels).unseen(api) == ()
    snap = with_problems(snapshot_of(dep, api), unreadable)
    assert snap.unseen(dep) == (unreadable,) and snap.unseen(api) == (unreadable,)
    assert str(snap.workload_of_problem(unreadable)) == "Pod/web-3"


def test_an_undecodable_hpa_belongs_to_its_target_or_when_that_is_unreadable_to_every_deployment():
    dep, api = make_deployment("web"), make_deployment("api")
    targeted = undecodable(make_hpa(dep))
    blind = undecodable(make_hpa(dep))
    blind = dataclasses.replace(blind, scale_target=None)

    snap = with_problems(snapshot_of(dep, api), targeted)
    assert snap.unseen(dep) == (targeted,) and snap.unseen(api) == ()
    assert str(snap.workload_of_problem(targeted)) == "Deployment/web"
    snap = with_problems(snapshot_of(dep, api), blind)
    assert snap.unseen(dep) == (blind,) and snap.unseen(api) == (blind,)


def test_an_undecodable_configmap_is_found_by_name_and_belongs_to_no_deployment():
    cm = undecodable(make_configmap("web-config"))

    snap = with_problems(snapshot_of(make_deployment("web")), cm)

    assert snap.configmap_problem("web-config") == cm and snap.configmap_problem("other") is None
    assert snap.unseen(snap.deployments[0]) == ()
    assert cm.line == "configmaps page 1: item 0 (web-config): data[...]: Expected str, got int"
