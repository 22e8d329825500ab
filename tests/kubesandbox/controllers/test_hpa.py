"""The HPA enforces its bounds even without a metrics server, and says why it cannot do more."""

from __future__ import annotations

from typing import Any

import pytest

from tests.builders import deployment, hpa
from tests.kubesandbox.controllers.world import World

Obj = dict[str, Any]
NO_METRICS = (
    "failed to get cpu utilization: unable to get metrics for resource cpu: unable to fetch metrics from "
    "resource metrics API: the server could not find the requested resource (get pods.metrics.k8s.io)"
)


def scaled(world: World, replicas: int) -> None:
    def fn(d: Obj) -> None:
        d["spec"]["replicas"] = replicas

    world.patch("Deployment", "web", fn)


WEB_HPA = hpa("web", min_replicas=2, max_replicas=5)  # keeps Deployment web between 2 and 5 replicas


@pytest.mark.parametrize(
    ("start", "expected", "reason"),
    [
        (8, 5, "Current number of replicas above Spec.MaxReplicas"),
        (1, 2, "Current number of replicas below Spec.MinReplicas"),
    ],
)
def test_the_hpa_clamps_the_target_into_its_bounds(start: int, expected: int, reason: str) -> None:
    world = World()
    world.create(deployment("web", image="shop/web:1", replicas=start))
    world.create(WEB_HPA)
    world.advance(0)
    assert world.deployment("web")["spec"]["replicas"] == expected
    hpa = world.get("HorizontalPodAutoscaler", "web")
    assert {k: v for k, v in hpa["status"].items() if k != "conditions"} == {
        "lastScaleTime": "2026-01-01T12:00:00Z",
        "currentReplicas": start,
        "desiredReplicas": expected,
    }
    assert [(c["type"], c["status"], c["reason"], c["message"]) for c in hpa["status"]["conditions"]] == [
        (
            "AbleToScale",
            "True",
            "SucceededRescale",
            f"the HPA controller was able to update the target scale to {expected}",
        )
    ]
    assert world.events(reason="SuccessfulRescale")[0]["message"] == f"New size: {expected}; reason: {reason}"
    world.advance(20)
    assert len(world.pods()) == expected


def test_within_bounds_the_hpa_reports_that_it_has_no_metrics() -> None:
    world = World()
    world.create(deployment("web", image="shop/web:1", replicas=3))
    world.create(WEB_HPA)
    world.advance(30)
    hpa = world.get("HorizontalPodAutoscaler", "web")
    assert world.deployment("web")["spec"]["replicas"] == 3
    assert [(c["type"], c["status"], c["reason"], c["message"]) for c in hpa["status"]["conditions"]] == [
        (
            "AbleToScale",
            "True",
            "SucceededGetScale",
            "the HPA controller was able to get the target's current scale",
        ),
        (
            "ScalingActive",
            "False",
            "FailedGetResourceMetric",
            f"the HPA was unable to compute the replica count: {NO_METRICS}",
        ),
    ]
    assert hpa["status"]["currentReplicas"] == 3 and hpa["status"]["desiredReplicas"] == 0
    assert hpa["status"]["currentMetrics"] == [{"type": ""}]  # 1.32 keeps one empty status per failed metric
    assert world.events(reason="FailedGetResourceMetric")[0]["message"] == NO_METRICS
    computed = world.events(reason="FailedComputeMetricsReplicas")[0]
    assert computed["message"] == (
        "invalid metrics (1 invalid out of 1), first error is: failed to get cpu resource "
        f"metric value: {NO_METRICS}"
    )
    assert computed["count"] == 3  # at 0, 15 and 30 s: one reconcile every 15 s


def test_the_hpa_corrects_a_manual_scale_at_its_next_resync_only() -> None:
    world = World()
    world.create(deployment("web", image="shop/web:1", replicas=3))
    world.create(WEB_HPA)
    world.advance(1)
    scaled(world, 9)
    world.advance(13)  # last resync at 0 s, next at 15 s
    assert world.deployment("web")["spec"]["replicas"] == 9
    world.advance(1)
    assert world.deployment("web")["spec"]["replicas"] == 5


def test_a_target_scaled_to_zero_disables_autoscaling() -> None:
    world = World()
    world.create(deployment("web", image="shop/web:1", replicas=0))
    world.create(WEB_HPA)
    world.advance(0)
    hpa = world.get("HorizontalPodAutoscaler", "web")
    assert world.deployment("web")["spec"]["replicas"] == 0
    assert world.condition(hpa, "ScalingActive")["reason"] == "ScalingDisabled"
    assert (
        world.condition(hpa, "ScalingActive")["message"]
        == "scaling is disabled since the replica count of the target is zero"
    )
    assert hpa["status"]["desiredReplicas"] == 0 and "currentReplicas" not in hpa["status"]


def test_a_missing_target_cannot_be_scaled() -> None:
    world = World()
    world.create(WEB_HPA)
    world.advance(0)
    able = world.condition(world.get("HorizontalPodAutoscaler", "web"), "AbleToScale")
    assert (able["status"], able["reason"], able["message"]) == (
        "False",
        "FailedGetScale",
        'the HPA controller was unable to get the target\'s current scale: deployments.apps "web" not found',
    )
