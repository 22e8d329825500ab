"""PodDisruptionBudgets guard evictions exactly as the eviction subresource and the PDB controller do."""

from __future__ import annotations

from typing import Any

import pytest

from kubesandbox.controllers.disruption import evict
from kubesandbox.resources.errors import ApiError
from tests.builders import NS, deployment, pdb
from tests.kubesandbox.controllers.world import World, pod_condition

Obj = dict[str, Any]
TOO_MANY = "Cannot evict pod as it would violate the pod's disruption budget."


def eviction(name: str, **delete_options: Any) -> Obj:
    body: Obj = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": name, "namespace": NS}}
    if delete_options:
        body["deleteOptions"] = delete_options
    return body


def running_world(
    replicas: int = 3, image: str = "shop/web:1", behaviors: dict[str, str] | None = None, **budget: Any
) -> World:
    world = World(behaviors=behaviors)
    world.create(deployment("web", image=image, replicas=replicas))
    world.create(pdb("web-pdb", selector={"app": "web"}, **budget))
    world.advance(10)
    return world


def names(pods: list[Obj]) -> list[str]:
    return [p["metadata"]["name"] for p in pods]


@pytest.mark.parametrize(
    ("budget", "expected", "desired", "allowed"),
    [
        ({"min_available": 2}, 3, 2, 1),
        ({"min_available": "50%"}, 3, 2, 1),  # 1.5 rounds up
        ({"max_unavailable": 1}, 3, 2, 1),
        ({"max_unavailable": "34%"}, 3, 1, 2),  # 1.02 rounds up to 2 unavailable
        ({"min_available": 3}, 3, 3, 0),
    ],
)
def test_the_budget_status_counts_expected_desired_and_current_healthy_pods(
    budget: dict[str, Any], expected: int, desired: int, allowed: int
) -> None:
    world = running_world(**budget)
    status = world.get("PodDisruptionBudget", "web-pdb")["status"]
    condition = status.pop("conditions")
    assert status == {
        "observedGeneration": 1,
        "disruptionsAllowed": allowed,
        "currentHealthy": 3,
        "desiredHealthy": desired,
        "expectedPods": expected,
    }
    assert condition == [
        {
            "type": "DisruptionAllowed",
            "status": "True" if allowed else "False",
            "observedGeneration": 1,
            "lastTransitionTime": condition[0]["lastTransitionTime"],
            "reason": "SufficientPods" if allowed else "InsufficientPods",
            "message": "",
        }
    ]


def test_an_eviction_within_budget_deletes_the_pod_and_spends_the_budget() -> None:
    world = running_world(min_available=2)
    first, second = names(world.pods())[:2]
    evict(world.store, NS, first, eviction(first), False)

    pod = world.get("Pod", first)
    assert pod["metadata"]["deletionTimestamp"] == "2026-01-01T12:00:40Z"  # default 30 s grace
    disruption = pod_condition(pod, "DisruptionTarget")
    assert (disruption["status"], disruption["reason"], disruption["message"]) == (
        "True",
        "EvictionByEvictionAPI",
        "Eviction API: evicting",
    )
    status = world.get("PodDisruptionBudget", "web-pdb")["status"]
    assert status["disruptionsAllowed"] == 0 and status["disruptedPods"] == {first: "2026-01-01T12:00:10Z"}
    assert (
        world.condition(world.get("PodDisruptionBudget", "web-pdb"), "DisruptionAllowed")["reason"]
        == "InsufficientPods"
    )

    with pytest.raises(ApiError) as refused:
        evict(world.store, NS, second, eviction(second), False)
    assert refused.value.status() == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": TOO_MANY,
        "reason": "TooManyRequests",
        "code": 429,
        "details": {
            "causes": [
                {
                    "reason": "DisruptionBudget",
                    "message": "The disruption budget web-pdb needs 2 healthy pods and has 3 currently",
                }
            ]
        },
    }
    assert world.get("Pod", second)["metadata"].get("deletionTimestamp") is None

    world.advance(5)  # the replacement is ready and the evicted pod gone: the budget refills
    assert world.get("PodDisruptionBudget", "web-pdb")["status"]["disruptionsAllowed"] == 1
    evict(world.store, NS, second, eviction(second), False)


def test_an_eviction_honours_the_grace_period_and_preconditions_it_carries() -> None:
    world = running_world(min_available=1)
    pod = world.pods()[0]
    name = pod["metadata"]["name"]
    with pytest.raises(ApiError) as conflict:
        evict(world.store, NS, name, eviction(name, preconditions={"uid": "not-the-uid"}), False)
    assert conflict.value.code == 409 and conflict.value.message == (
        f'Operation cannot be fulfilled on Pod "{name}": the UID in the precondition (not-the-uid) does not match '
        f"the UID in record ({pod['metadata']['uid']}). The object might have been deleted and then recreated"
    )
    evict(world.store, NS, name, eviction(name, gracePeriodSeconds=5), False)
    assert world.get("Pod", name)["metadata"]["deletionGracePeriodSeconds"] == 5


def test_a_dry_run_eviction_changes_nothing() -> None:
    world = running_world(min_available=2)
    name = names(world.pods())[0]
    before = world.store.resource_version
    evict(world.store, NS, name, eviction(name), True)
    evict(world.store, NS, name, eviction(name, dryRun=["All"]), False)
    assert world.store.resource_version == before


def test_a_budget_not_yet_observed_by_the_controller_refuses_with_retry_after() -> None:
    world = World()
    world.create(deployment("web", image="shop/web:1", replicas=2))
    world.advance(5)
    world.create(pdb("web-pdb", selector={"app": "web"}, min_available=1))
    name = names(world.pods())[0]
    with pytest.raises(ApiError) as refused:
        evict(world.store, NS, name, eviction(name), False)
    assert refused.value.code == 429 and refused.value.headers == {"Retry-After": "10"}
    assert refused.value.details == {
        "causes": [
            {
                "reason": "DisruptionBudget",
                "message": "The disruption budget web-pdb is still being processed by the server.",
            }
        ],
        "retryAfterSeconds": 10,
    }


def test_more_than_one_budget_is_a_server_error() -> None:
    world = running_world(min_available=1)
    world.create(pdb("web-pdb-2", selector={"app": "web"}, max_unavailable=1))
    world.advance(1)
    name = names(world.pods())[0]
    with pytest.raises(ApiError) as failed:
        evict(world.store, NS, name, eviction(name), False)
    assert failed.value.status() == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "code": 500,
        "message": "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.",
    }


BAD = "shop/web:bad"


def crashing_world(policy: str | None, min_available: int) -> World:
    """Two healthy pods of `web`, one crash-looping pod of `canary`, one budget over both."""
    world = World(behaviors={BAD: "CrashLoop"})
    world.create(deployment("web", image="shop/web:1", replicas=2))
    canary = deployment("canary", image=BAD, replicas=1)
    canary["spec"]["template"]["metadata"]["labels"]["tier"] = "front"
    world.create(canary)
    for d in ("web",):

        def label(o: Obj) -> None:
            o["spec"]["template"]["metadata"]["labels"]["tier"] = "front"

        world.patch("Deployment", d, label)
    world.create(pdb("front", selector={"tier": "front"}, min_available=min_available, policy=policy))
    world.advance(60)
    return world


@pytest.mark.parametrize(
    ("policy", "min_available", "allowed"),
    [
        (None, 2, True),  # IfHealthyBudget (default): 2 healthy ≥ 2 desired → the unready pod may go
        ("IfHealthyBudget", 3, False),  # budget not healthy: even an unready pod is refused
        ("AlwaysAllow", 3, True),  # unready pods may always go
    ],
)
def test_unready_pods_follow_the_unhealthy_pod_eviction_policy(
    policy: str | None, min_available: int, allowed: bool
) -> None:
    world = crashing_world(policy, min_available)
    unready = next(p for p in world.pods() if p["spec"]["containers"][0]["image"] == BAD)
    name = unready["metadata"]["name"]
    if allowed:
        evict(world.store, NS, name, eviction(name), False)
        assert world.get("Pod", name)["metadata"].get("deletionTimestamp")
        assert "disruptedPods" not in world.get("PodDisruptionBudget", "front")["status"]
    else:
        with pytest.raises(ApiError) as refused:
            evict(world.store, NS, name, eviction(name), False)
        assert refused.value.code == 429


def test_a_pending_pod_is_evicted_without_consulting_the_budget() -> None:
    world = running_world(
        replicas=1,
        image="shop/web:missing",
        behaviors={"shop/web:missing": "ImagePullBackOff"},
        min_available=1,
    )
    name = names(world.pods())[0]
    evict(world.store, NS, name, eviction(name), False)
    assert world.get("Pod", name)["metadata"].get("deletionTimestamp")
