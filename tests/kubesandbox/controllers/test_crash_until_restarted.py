"""CrashUntilRestarted: crash-loops until the pod is replaced, then the replacement is healthy."""

from __future__ import annotations

from typing import Any

from kubesandbox.controllers.disruption import evict
from tests.builders import NS, deployment
from tests.kubesandbox.controllers.world import World, container_status

Obj = dict[str, Any]
IMAGE = "shop/web:stuck"


def state(pod: Obj) -> str:
    s = container_status(pod)["state"]
    return s["waiting"]["reason"] if "waiting" in s else next(iter(s))


def stuck_world() -> World:
    world = World(behaviors={IMAGE: "CrashUntilRestarted"})
    world.create(deployment("web", image=IMAGE, replicas=3))
    world.advance(60)
    return world


def test_the_pods_that_exist_when_the_failure_starts_crash_loop_and_container_restarts_do_not_help() -> None:
    world = stuck_world()
    world.advance(1000)
    pods = world.pods()
    assert len(pods) == 3
    assert all(container_status(p)["restartCount"] >= 8 for p in pods)
    assert world.deployment("web")["status"].get("availableReplicas", 0) == 0


def test_an_evicted_pod_is_replaced_by_a_healthy_one() -> None:
    world = stuck_world()
    victim = world.pods()[0]["metadata"]["name"]
    evict(
        world.store,
        NS,
        victim,
        {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": victim, "namespace": NS}},
        False,
    )
    world.advance(5)
    pods = world.pods()
    assert victim not in {p["metadata"]["name"] for p in pods}
    assert sorted(state(p) for p in pods) == ["CrashLoopBackOff", "CrashLoopBackOff", "running"]
    healthy = next(p for p in pods if state(p) == "running")
    assert container_status(healthy)["ready"] is True and container_status(healthy)["restartCount"] == 0


def test_deleting_the_crashing_pods_heals_the_deployment() -> None:
    world = stuck_world()
    for pod in world.pods():
        world.delete("Pod", pod["metadata"]["name"], grace_period_seconds=30)
    world.advance(5)
    assert world.deployment("web")["status"]["availableReplicas"] == 3
    assert all(state(p) == "running" for p in world.pods())


def test_a_rollout_restart_replaces_every_pod_with_a_healthy_one() -> None:
    world = stuck_world()

    def restart(d: Obj) -> None:  # what `kubectl rollout restart` patches in
        d["spec"]["template"]["metadata"].setdefault("annotations", {})[
            "kubectl.kubernetes.io/restartedAt"
        ] = "2026-01-01T12:01:00Z"

    world.patch("Deployment", "web", restart)
    world.advance(60)
    d = world.deployment("web")
    assert d["status"]["availableReplicas"] == 3 and d["status"]["updatedReplicas"] == 3
    assert world.condition(d, "Progressing")["reason"] == "NewReplicaSetAvailable"
    assert len(world.pods()) == 3 and all(state(p) == "running" for p in world.pods())
