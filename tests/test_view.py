"""The read-only view: how pods, ReplicaSets and Deployments are tied together."""

from __future__ import annotations

from tests.builders import make_deployment, make_pod, make_replicaset, snapshot_of


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
