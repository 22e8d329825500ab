"""Deployments roll out, roll over, stall and roll back like the real controller makes them."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kubesandbox.resources.defaults import apply_defaults
from tests.builders import deployment, pod, replicaset
from tests.kubesandbox.controllers.world import World, container_status

Obj = dict[str, Any]
REVISION = "deployment.kubernetes.io/revision"


def set_image(image: str) -> Any:
    def fn(d: Obj) -> None:
        d["spec"]["template"]["spec"]["containers"][0]["image"] = image

    return fn


def is_ready(pod: Obj) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in pod["status"].get("conditions", []))


def test_a_new_deployment_rolls_out_three_healthy_pods_and_becomes_available() -> None:
    world = World()
    world.create(deployment("web", image="shop/web:1", replicas=3))
    world.advance(0)
    progressing = world.condition(world.deployment("web"), "Progressing")
    rs = world.replicasets("web")[0]
    # NewReplicaSetCreated, then at once ReplicaSetUpdated as the ReplicaSet reports its pods
    assert progressing["reason"] == "ReplicaSetUpdated"
    assert progressing["message"] == f'ReplicaSet "{rs["metadata"]["name"]}" is progressing.'
    world.advance(5)

    d = world.deployment("web")
    rs = world.replicasets("web")[0]
    pod_hash = rs["metadata"]["labels"]["pod-template-hash"]
    assert rs["metadata"]["name"] == f"web-{pod_hash}"
    assert rs["spec"]["selector"] == {"matchLabels": {"app": "web", "pod-template-hash": pod_hash}}
    assert rs["metadata"]["ownerReferences"] == [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": "web",
            "uid": d["metadata"]["uid"],
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]
    assert rs["metadata"]["annotations"] == {
        REVISION: "1",
        "deployment.kubernetes.io/desired-replicas": "3",
        "deployment.kubernetes.io/max-replicas": "4",
    }
    assert d["metadata"]["annotations"][REVISION] == "1"
    assert {k: v for k, v in d["status"].items() if k != "conditions"} == {
        "observedGeneration": 1,
        "replicas": 3,
        "updatedReplicas": 3,
        "readyReplicas": 3,
        "availableReplicas": 3,
        "terminatingReplicas": 0,
    }
    available = world.condition(d, "Available")
    assert (available["status"], available["reason"], available["message"]) == (
        "True",
        "MinimumReplicasAvailable",
        "Deployment has minimum availability.",
    )
    progressing = world.condition(d, "Progressing")
    assert (progressing["status"], progressing["reason"], progressing["message"]) == (
        "True",
        "NewReplicaSetAvailable",
        f'ReplicaSet "web-{pod_hash}" has successfully progressed.',
    )
    assert [c["type"] for c in d["status"]["conditions"]] == ["Available", "Progressing"]
    pods = world.pods()
    assert len(pods) == 3 and all(is_ready(p) for p in pods)
    assert all(
        p["metadata"]["name"].startswith(f"web-{pod_hash}-")
        and len(p["metadata"]["name"]) == len(f"web-{pod_hash}-") + 5
        for p in pods
    )
    assert [e["message"] for e in world.events(reason="ScalingReplicaSet")] == [
        f"Scaled up replica set web-{pod_hash} from 0 to 3"
    ]
    assert len(world.events(reason="SuccessfulCreate")) == 3


@pytest.mark.parametrize(
    ("replicas", "surge", "unavailable", "max_total", "min_ready"),
    [
        (3, 1, 0, 4, 3),
        (4, 0, 1, 4, 3),
        (4, "25%", "25%", 5, 3),
        (10, "30%", "20%", 13, 8),  # surge rounds up (3), unavailable rounds down (2)
        (3, "10%", "10%", 4, 3),  # 0.3 → surge 1, unavailable 0
    ],
)
def test_a_rolling_update_respects_max_surge_and_max_unavailable_at_every_second(
    replicas: int, surge: int | str, unavailable: int | str, max_total: int, min_ready: int
) -> None:
    world = World()
    world.create(
        deployment("web", image="shop/web:1", replicas=replicas, max_surge=surge, max_unavailable=unavailable)
    )
    world.advance(5)
    world.patch("Deployment", "web", set_image("shop/web:2"))
    for _ in world.step(60):
        pods = world.pods()
        rs_total = sum(rs["spec"]["replicas"] for rs in world.replicasets("web"))
        assert len(pods) <= max_total and rs_total <= max_total
        assert sum(1 for p in pods if is_ready(p)) >= min_ready
    d = world.deployment("web")
    old, new = world.replicasets("web")
    assert old["spec"]["replicas"] == 0 and new["spec"]["replicas"] == replicas
    assert new["metadata"]["annotations"][REVISION] == "2" and d["metadata"]["annotations"][REVISION] == "2"
    assert all(container_status(p)["image"] == "docker.io/shop/web:2" for p in world.pods())
    assert world.condition(d, "Progressing")["reason"] == "NewReplicaSetAvailable"
    assert any(
        e["message"].startswith(f"Scaled down replica set {old['metadata']['name']} from ")
        for e in world.events(reason="ScalingReplicaSet")
    )


def test_a_crash_looping_image_never_becomes_available_and_the_rollout_times_out() -> None:
    world = World(behaviors={"shop/web:bad": "CrashLoop"})
    world.create(deployment("web", image="shop/web:1", replicas=3, progress_deadline=120))
    world.advance(5)
    world.patch("Deployment", "web", set_image("shop/web:bad"))
    world.advance(0)
    new_rs = world.replicasets("web")[-1]["metadata"]["name"]
    last_progress = world.condition(world.deployment("web"), "Progressing")["lastUpdateTime"]
    for t in world.step(121):
        d = world.deployment("web")
        new = world.get("ReplicaSet", new_rs)
        assert new["status"].get("availableReplicas", 0) == 0
        assert world.condition(d, "Available")["status"] == "True"  # the old pods stay (maxUnavailable 0)
        if t < 120:
            assert world.condition(d, "Progressing")["status"] == "True"
    progressing = world.condition(world.deployment("web"), "Progressing")
    assert (progressing["status"], progressing["reason"], progressing["message"]) == (
        "False",
        "ProgressDeadlineExceeded",
        f'ReplicaSet "{new_rs}" has timed out progressing.',
    )
    assert last_progress == "2026-01-01T12:00:05Z"
    assert progressing["lastUpdateTime"] == "2026-01-01T12:02:06Z"  # strictly after 12:00:05 + 120 s
    world.advance(600)
    assert world.condition(world.deployment("web"), "Progressing")["reason"] == "ProgressDeadlineExceeded"


def test_rollout_undo_brings_the_old_replica_set_back_with_the_next_revision() -> None:
    world = World()
    world.create(deployment("web", image="shop/web:1", replicas=2))
    world.advance(5)
    world.patch("Deployment", "web", set_image("shop/web:2"))
    world.advance(10)
    first, second = world.replicasets("web")
    template = copy.deepcopy(first["spec"]["template"])
    del template["metadata"]["labels"]["pod-template-hash"]

    def undo(d: Obj) -> None:  # what `kubectl rollout undo` patches in
        d["spec"]["template"] = template

    world.patch("Deployment", "web", undo)
    world.advance(10)

    rss = world.replicasets("web")
    assert [rs["metadata"]["name"] for rs in rss] == [second["metadata"]["name"], first["metadata"]["name"]]
    back = world.get("ReplicaSet", first["metadata"]["name"])
    assert back["metadata"]["annotations"][REVISION] == "3"
    assert back["metadata"]["annotations"]["deployment.kubernetes.io/revision-history"] == "1"
    assert (
        back["spec"]["replicas"] == 2
        and world.get("ReplicaSet", second["metadata"]["name"])["spec"]["replicas"] == 0
    )
    assert world.deployment("web")["metadata"]["annotations"][REVISION] == "3"
    assert all(container_status(p)["image"] == "docker.io/shop/web:1" for p in world.pods())


def test_recreate_removes_every_old_pod_before_creating_new_ones() -> None:
    world = World()
    world.create(deployment("web", image="shop/web:1", replicas=3, recreate=True))
    world.advance(5)
    world.patch("Deployment", "web", set_image("shop/web:2"))
    for _ in world.step(30):
        images = {p["spec"]["containers"][0]["image"] for p in world.all("Pod")}
        assert len(images) <= 1
    assert len(world.pods()) == 3 and all(is_ready(p) for p in world.pods())
    assert {p["spec"]["containers"][0]["image"] for p in world.pods()} == {"shop/web:2"}


def test_a_paused_deployment_does_not_roll_out_until_resumed() -> None:
    world = World()
    world.create(deployment("web", image="shop/web:1", replicas=2))
    world.advance(5)

    def pause(d: Obj) -> None:
        d["spec"]["paused"] = True

    world.patch("Deployment", "web", pause)
    world.patch("Deployment", "web", set_image("shop/web:2"))
    world.advance(30)
    d = world.deployment("web")
    assert len(world.replicasets("web")) == 1
    progressing = world.condition(d, "Progressing")
    assert (progressing["status"], progressing["reason"], progressing["message"]) == (
        "Unknown",
        "DeploymentPaused",
        "Deployment is paused",
    )
    assert d["status"]["observedGeneration"] == d["metadata"]["generation"]

    def resume(d: Obj) -> None:
        d["spec"]["paused"] = False

    world.patch("Deployment", "web", resume)
    world.advance(0)
    assert world.condition(world.deployment("web"), "Progressing")["reason"] in (
        "DeploymentResumed",
        "NewReplicaSetCreated",
        "ReplicaSetUpdated",
    )
    world.advance(20)
    assert len(world.replicasets("web")) == 2
    assert world.condition(world.deployment("web"), "Progressing")["reason"] == "NewReplicaSetAvailable"


def test_revision_history_limit_deletes_the_oldest_empty_replica_sets() -> None:
    world = World()
    world.create(deployment("web", image="shop/web:1", replicas=1, revision_history_limit=1))
    for version in range(2, 5):
        world.advance(10)
        world.patch("Deployment", "web", set_image(f"shop/web:{version}"))
    world.advance(10)
    rss = world.replicasets("web")
    assert [rs["metadata"]["annotations"][REVISION] for rs in rss] == ["3", "4"]


def test_a_scenario_replica_set_is_adopted_not_duplicated() -> None:
    deploy = deployment("web", image="shop/web:1", replicas=2)
    deploy["metadata"]["uid"] = "dddddddd-dddd-4ddd-8ddd-dddddddddddd"
    deploy["metadata"]["annotations"] = {REVISION: "4"}
    apply_defaults(deploy)
    rs = replicaset(
        "web-6d4cf56db6",
        image="shop/web:1",
        replicas=2,
        uid="eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee",
        labels={"app": "web", "pod-template-hash": "6d4cf56db6"},
        owner=deploy,
        revision="4",
    )
    rs["spec"]["selector"] = {"matchLabels": {"app": "web", "pod-template-hash": "6d4cf56db6"}}
    pods = [
        pod(
            f"web-6d4cf56db6-{s}",
            image="shop/web:1",
            owner=rs,
            labels={"app": "web", "pod-template-hash": "6d4cf56db6"},
        )
        for s in ("bcdfg", "hjklm")
    ]
    world = World(scenario=[deploy, rs, *pods])
    world.advance(30)
    assert [r["metadata"]["name"] for r in world.replicasets("web")] == ["web-6d4cf56db6"]
    assert world.deployment("web")["metadata"]["annotations"][REVISION] == "4"
    assert world.deployment("web")["status"]["availableReplicas"] == 2
    assert {p["metadata"]["name"] for p in world.pods()} == {"web-6d4cf56db6-bcdfg", "web-6d4cf56db6-hjklm"}


def test_min_ready_seconds_delays_availability() -> None:
    world = World()
    world.create(deployment("web", image="shop/web:1", replicas=2, min_ready_seconds=10))
    world.advance(10)  # ready at 1 s; available once more than 10 s have passed
    assert world.deployment("web")["status"].get("availableReplicas", 0) == 0
    assert world.deployment("web")["status"]["unavailableReplicas"] == 2
    world.advance(2)
    assert world.deployment("web")["status"]["availableReplicas"] == 2


def test_scaling_a_deployment_scales_its_replica_set() -> None:
    world = World()
    world.create(deployment("web", image="shop/web:1", replicas=3))
    world.advance(5)

    def scale(d: Obj) -> None:
        d["spec"]["replicas"] = 5

    world.patch("Deployment", "web", scale)
    world.advance(5)
    rs = world.replicasets("web")[0]
    assert (
        rs["spec"]["replicas"] == 5
        and rs["metadata"]["annotations"]["deployment.kubernetes.io/desired-replicas"] == "5"
    )
    assert (
        world.events(reason="ScalingReplicaSet")[-1]["message"]
        == f"Scaled up replica set {rs['metadata']['name']} from 3 to 5"
    )
    assert world.deployment("web")["status"]["availableReplicas"] == 5


def test_deployment_annotations_are_copied_to_its_replica_sets_but_not_last_applied() -> None:
    world = World()
    world.create(
        deployment(
            "web",
            image="shop/web:1",
            replicas=1,
            annotations={"team": "shop", "kubectl.kubernetes.io/last-applied-configuration": "{}"},
        )
    )
    world.advance(2)
    annotations = world.replicasets("web")[0]["metadata"]["annotations"]
    assert annotations["team"] == "shop"
    assert "kubectl.kubernetes.io/last-applied-configuration" not in annotations


def test_the_replica_set_deletes_the_newest_and_unready_pods_first_on_scale_down() -> None:
    world = World(behaviors={"shop/web:bad": "CrashLoop"})
    world.create(deployment("web", image="shop/web:1", replicas=2))
    world.advance(100)
    rs = world.replicasets("web")[0]["metadata"]["name"]

    def scale(n: int) -> Any:
        def fn(d: Obj) -> None:
            d["spec"]["replicas"] = n

        return fn

    world.patch("Deployment", "web", scale(3))
    world.advance(0)
    newest = max(world.pods(), key=lambda p: p["metadata"]["creationTimestamp"])["metadata"]["name"]
    world.patch("Deployment", "web", scale(2))
    world.advance(0)
    assert newest in {p["metadata"]["name"] for p in world.pods(terminating=True)}
    assert world.events(reason="SuccessfulDelete", involved=rs)[0]["message"] == f"Deleted pod: {newest}"
