"""The garbage collector follows ownerReferences: background, orphan and foreground deletion."""

from __future__ import annotations

from typing import Any

from kubesandbox.controllers.disruption import orphan_dependents
from tests.builders import deployment, pod
from tests.kubesandbox.controllers.world import World

Obj = dict[str, Any]


def rolled_out() -> World:
    world = World()
    world.create(deployment("web", image="shop/web:1", replicas=2))
    world.advance(5)
    return world


def test_deleting_a_deployment_garbage_collects_its_replica_set_and_pods() -> None:
    world = rolled_out()
    world.delete("Deployment", "web")
    world.advance(0)
    assert world.all("ReplicaSet") == []
    assert len(world.pods(terminating=True)) == 2 and world.pods() == []
    world.advance(1)
    assert world.all("Pod") == []


def test_orphan_propagation_keeps_the_replica_set_and_its_pods() -> None:
    world = rolled_out()
    uid = world.deployment("web")["metadata"]["uid"]
    orphan_dependents(world.store, uid)
    world.delete("Deployment", "web")
    world.advance(30)
    rs = world.all("ReplicaSet")
    assert len(rs) == 1 and "ownerReferences" not in rs[0]["metadata"]
    pods = world.pods()
    assert len(pods) == 2
    assert all(p["metadata"]["ownerReferences"][0]["uid"] == rs[0]["metadata"]["uid"] for p in pods)


def test_the_orphan_finalizer_orphans_dependents_then_lets_the_owner_go() -> None:
    world = rolled_out()

    def orphan(d: Obj) -> None:
        d["metadata"]["finalizers"] = ["orphan"]

    world.patch("Deployment", "web", orphan)
    world.delete("Deployment", "web")
    world.advance(0)
    assert world.find("Deployment", "web") is None
    assert "ownerReferences" not in world.all("ReplicaSet")[0]["metadata"]


def test_foreground_deletion_waits_for_the_dependents_to_be_gone() -> None:
    world = rolled_out()

    def foreground(d: Obj) -> None:
        d["metadata"]["finalizers"] = ["foregroundDeletion"]

    world.patch("Deployment", "web", foreground)
    world.delete("Deployment", "web")
    world.advance(0)
    deployment = world.get("Deployment", "web")
    assert deployment["metadata"]["deletionTimestamp"]
    rs = world.all("ReplicaSet")[0]
    assert rs["metadata"]["deletionTimestamp"] and rs["metadata"]["finalizers"] == ["foregroundDeletion"]
    assert len(world.pods(terminating=True)) == 2
    world.advance(1)
    assert world.all("Pod") == [] and world.all("ReplicaSet") == []
    assert world.find("Deployment", "web") is None


def test_pods_owned_by_a_kind_the_sandbox_does_not_serve_are_left_alone() -> None:
    owner = {
        "apiVersion": "apps.kruise.io/v1alpha1",
        "kind": "CloneSet",
        "metadata": {"name": "db", "uid": "55555555-5555-4555-8555-555555555555"},
    }
    world = World(scenario=[pod("db-0", image="shop/db:1", owner=owner, labels={"app": "db"})])
    world.advance(30)
    assert world.find("Pod", "db-0") is not None


def test_a_dependent_with_another_live_owner_only_loses_the_dangling_reference() -> None:
    world = rolled_out()
    cm = world.create(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "shared", "namespace": "shop"}}
    )
    deployment = world.deployment("web")

    def owned_by_both(o: Obj) -> None:
        o["metadata"]["ownerReferences"] = [
            {"apiVersion": "v1", "kind": "ConfigMap", "name": "shared", "uid": cm["metadata"]["uid"]},
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "name": "web",
                "uid": deployment["metadata"]["uid"],
            },
        ]

    secret = world.create(
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "token", "namespace": "shop"}}
    )
    world.patch("Secret", "token", owned_by_both)
    world.delete("Deployment", "web")
    world.advance(0)
    token = world.get("Secret", "token")
    assert token["metadata"]["uid"] == secret["metadata"]["uid"]
    assert [r["kind"] for r in token["metadata"]["ownerReferences"]] == ["ConfigMap"]
