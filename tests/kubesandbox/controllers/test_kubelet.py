"""The simulated kubelet: pod statuses shaped like a real node's, evolving with the clock."""

from __future__ import annotations

import re

import pytest

from tests.builders import bare_pod, deployment, pod, replicaset
from tests.kubesandbox.controllers.world import World, container_status, pod_condition

CONTAINER_ID = re.compile(r"^containerd://[0-9a-f]{64}$")


def at(world: World, seconds: int) -> None:
    """Advance the world's clock to `seconds` after its start."""
    world.advance(seconds - world.elapsed())


def stamp(seconds: int) -> str:
    m, s = divmod(seconds, 60)
    h, m = divmod(m, 60)
    return f"2026-01-01T{12 + h:02d}:{m:02d}:{s:02d}Z"


def pod_ref(pod: dict) -> str:
    m = pod["metadata"]
    return f"{m['name']}_{m['namespace']}({m['uid']})"


def test_a_healthy_pod_is_created_then_runs_ready_on_the_node() -> None:
    world = World()
    world.create(bare_pod("web", image="shop/web:1"))
    world.advance(0)

    creating = world.get("Pod", "web")
    assert creating["spec"]["nodeName"] == "sandbox-node-1"
    assert creating["status"]["phase"] == "Pending"
    assert container_status(creating) == {
        "name": "app",
        "state": {"waiting": {"reason": "ContainerCreating"}},
        "lastState": {},
        "ready": False,
        "restartCount": 0,
        "image": "shop/web:1",
        "imageID": "",
        "started": False,
    }
    assert "podIP" not in creating["status"]

    at(world, 1)
    pod = world.get("Pod", "web")
    status = pod["status"]
    assert status["phase"] == "Running"
    assert status["hostIP"] == "172.18.0.2" and status["hostIPs"] == [{"ip": "172.18.0.2"}]
    assert re.match(r"^10\.244\.\d+\.\d+$", status["podIP"]) and status["podIPs"] == [{"ip": status["podIP"]}]
    assert status["startTime"] == stamp(0)
    assert status["qosClass"] == "BestEffort"
    cs = container_status(pod)
    assert CONTAINER_ID.match(cs.pop("containerID"))
    assert cs == {
        "name": "app",
        "state": {"running": {"startedAt": stamp(1)}},
        "lastState": {},
        "ready": True,
        "restartCount": 0,
        "image": "docker.io/shop/web:1",
        "imageID": cs["imageID"],
        "started": True,
    }
    assert cs["imageID"].startswith("docker.io/shop/web@sha256:")
    assert [c["type"] for c in status["conditions"]] == [
        "PodReadyToStartContainers",
        "Initialized",
        "Ready",
        "ContainersReady",
        "PodScheduled",
    ]
    assert pod_condition(pod, "Ready") == {
        "type": "Ready",
        "status": "True",
        "lastProbeTime": None,
        "lastTransitionTime": stamp(1),
    }
    assert pod_condition(pod, "PodScheduled")["lastTransitionTime"] == stamp(0)
    reasons = [e["reason"] for e in world.events(involved="web")]
    assert reasons == ["Scheduled", "Pulled", "Created", "Started"]


def test_a_readiness_probe_delays_ready_until_its_initial_delay() -> None:
    world = World()
    world.create(bare_pod("web", image="shop/web:1", readiness_delay=5))
    at(world, 5)
    assert container_status(world.get("Pod", "web"))["ready"] is False
    assert pod_condition(world.get("Pod", "web"), "Ready")["reason"] == "ContainersNotReady"
    at(world, 6)
    assert container_status(world.get("Pod", "web"))["ready"] is True
    assert pod_condition(world.get("Pod", "web"), "Ready")["lastTransitionTime"] == stamp(6)


@pytest.mark.parametrize(
    ("t", "restarts"), [(10, 1), (30, 2), (70, 3), (150, 4), (310, 5), (610, 6), (910, 7)]
)
def test_a_crash_looping_container_restarts_on_the_kubelet_back_off(t: int, restarts: int) -> None:
    # started at 1 s, each run lasts 1 s; restarts at 2 (immediate), 13, 34, 75, 156, 317, 618, 919 s
    world = World(behaviors={"shop/web:bad": "CrashLoop"})
    world.create(bare_pod("web", image="shop/web:bad"))
    at(world, t)
    assert container_status(world.get("Pod", "web"))["restartCount"] == restarts


def test_crash_loop_back_off_status_is_shaped_like_the_kubelets() -> None:
    world = World(behaviors={"shop/web:bad": "CrashLoop"})
    world.create(bare_pod("web", image="shop/web:bad"))
    at(world, 50)  # third restart ran 34 → 35 s; waiting 40 s (after waits of 10 s and 20 s)
    pod = world.get("Pod", "web")
    cs = container_status(pod)
    last = cs["lastState"]["terminated"]
    assert CONTAINER_ID.match(last["containerID"]) and cs["containerID"] == last["containerID"]
    assert cs == {
        "name": "app",
        "state": {
            "waiting": {
                "reason": "CrashLoopBackOff",
                "message": f"back-off 40s restarting failed container=app pod={pod_ref(pod)}",
            }
        },
        "lastState": {
            "terminated": {
                "exitCode": 1,
                "reason": "Error",
                "startedAt": stamp(34),
                "finishedAt": stamp(35),
                "containerID": last["containerID"],
            }
        },
        "ready": False,
        "restartCount": 3,
        "image": "docker.io/shop/web:bad",
        "imageID": cs["imageID"],
        "containerID": last["containerID"],
        "started": False,
    }
    assert pod["status"]["phase"] == "Running"
    ready = pod_condition(pod, "Ready")
    assert (ready["status"], ready["reason"], ready["message"]) == (
        "False",
        "ContainersNotReady",
        "containers with unready status: [app]",
    )
    back_off = world.events(reason="BackOff", involved="web")
    assert len(back_off) == 1 and back_off[0]["count"] == 3 and back_off[0]["type"] == "Warning"
    assert back_off[0]["message"] == f"Back-off restarting failed container app in pod {pod_ref(pod)}"
    assert back_off[0]["involvedObject"]["fieldPath"] == "spec.containers{app}"


def test_the_back_off_caps_at_five_minutes() -> None:
    world = World(behaviors={"shop/web:bad": "CrashLoop"})
    world.create(bare_pod("web", image="shop/web:bad"))
    at(world, 700)
    waiting = container_status(world.get("Pod", "web"))["state"]["waiting"]
    assert waiting["message"].startswith("back-off 5m0s restarting failed container=app ")


def test_an_oom_killed_container_shows_137_then_crash_loops() -> None:
    world = World(behaviors={"shop/web:fat": "OOMKilled"})
    world.create(bare_pod("web", image="shop/web:fat"))
    at(world, 5)
    cs = container_status(world.get("Pod", "web"))
    assert cs["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert {k: cs["lastState"]["terminated"][k] for k in ("exitCode", "reason")} == {
        "exitCode": 137,
        "reason": "OOMKilled",
    }


def test_image_pull_back_off_alternates_with_err_image_pull() -> None:
    world = World(behaviors={"shop/web:missing": "ImagePullBackOff"})
    world.create(bare_pod("web", image="shop/web:missing"))
    seen = {}
    for t in (1, 5, 11, 12, 30, 31, 32):
        at(world, t)
        pod = world.get("Pod", "web")
        cs = container_status(pod)
        assert pod["status"]["phase"] == "Pending"
        assert (cs["restartCount"], cs["ready"], cs["image"], cs["imageID"]) == (
            0,
            False,
            "shop/web:missing",
            "",
        )
        seen[t] = cs["state"]["waiting"]
    assert [seen[t]["reason"] for t in (1, 5, 11, 12, 30, 31, 32)] == [
        "ErrImagePull",
        "ImagePullBackOff",
        "ErrImagePull",
        "ImagePullBackOff",
        "ImagePullBackOff",
        "ErrImagePull",
        "ImagePullBackOff",
    ]
    assert seen[5]["message"] == 'Back-off pulling image "shop/web:missing"'
    assert seen[1]["message"].startswith(
        'rpc error: code = NotFound desc = failed to pull and unpack image "docker.io/shop/web:missing"'
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            [{"name": "PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db-creds", "key": "password"}}}],
            'secret "db-creds" not found',
        ),
        (
            [{"name": "MODE", "valueFrom": {"configMapKeyRef": {"name": "web-config", "key": "mode"}}}],
            'configmap "web-config" not found',
        ),
        (None, "container has runAsNonRoot and image will run as root"),
    ],
)
def test_create_container_config_error_names_what_the_container_references(
    env: list | None, message: str
) -> None:
    world = World(behaviors={"shop/web:cfg": "CreateContainerConfigError"})
    world.create(bare_pod("web", image="shop/web:cfg", env=env))
    at(world, 20)
    pod = world.get("Pod", "web")
    waiting = container_status(pod)["state"]["waiting"]
    assert pod["status"]["phase"] == "Pending"
    assert waiting["reason"] == "CreateContainerConfigError"
    assert waiting["message"].startswith(message)
    assert any(e["message"] == f"Error: {waiting['message']}" for e in world.events(reason="Failed"))


def test_a_crash_looping_init_container_keeps_the_pod_pending() -> None:
    world = World(behaviors={"shop/migrate:bad": "CrashLoop"})
    world.create(bare_pod("web", image="shop/web:1", init_image="shop/migrate:bad"))
    at(world, 20)
    pod = world.get("Pod", "web")
    assert pod["status"]["phase"] == "Pending"
    assert container_status(pod, "init", init=True)["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert container_status(pod)["state"] == {"waiting": {"reason": "PodInitializing"}}
    initialized = pod_condition(pod, "Initialized")
    assert (initialized["status"], initialized["reason"], initialized["message"]) == (
        "False",
        "ContainersNotInitialized",
        "containers with incomplete status: [init]",
    )


def test_init_containers_run_to_completion_before_the_app_starts() -> None:
    world = World()
    world.create(bare_pod("web", image="shop/web:1", init_image="shop/migrate:1"))
    at(world, 1)
    assert world.get("Pod", "web")["status"]["phase"] == "Pending"
    at(world, 2)
    pod = world.get("Pod", "web")
    init = container_status(pod, "init", init=True)
    assert init["state"]["terminated"]["reason"] == "Completed" and init["ready"] is True
    assert pod["status"]["phase"] == "Running" and container_status(pod)["ready"] is True


def test_a_pod_with_restart_policy_never_succeeds_or_fails_once() -> None:
    world = World(behaviors={"shop/task:bad": "CrashLoop"})
    world.create(bare_pod("ok", image="shop/task:1", restart_policy="Never"))
    world.create(bare_pod("bad", image="shop/task:bad", restart_policy="Never"))
    at(world, 30)
    ok, bad = world.get("Pod", "ok"), world.get("Pod", "bad")
    assert ok["status"]["phase"] == "Succeeded"
    assert container_status(ok)["state"]["terminated"]["exitCode"] == 0
    assert pod_condition(ok, "Ready")["reason"] == "PodCompleted"
    assert bad["status"]["phase"] == "Failed"
    assert container_status(bad)["state"]["terminated"]["reason"] == "Error"
    assert container_status(bad)["restartCount"] == 0


def test_a_deleted_pod_terminates_gracefully_then_disappears() -> None:
    world = World()
    world.create(bare_pod("web", image="shop/web:1"))
    at(world, 10)
    world.delete("Pod", "web", grace_period_seconds=30)
    world.advance(0)
    terminating = world.get("Pod", "web")
    assert terminating["metadata"]["deletionTimestamp"] == stamp(40)
    assert terminating["metadata"]["deletionGracePeriodSeconds"] == 30
    assert [e["message"] for e in world.events(reason="Killing")] == ["Stopping container app"]
    at(world, 11)
    assert world.find("Pod", "web") is None


def test_scenario_pods_keep_their_given_status_until_deleted() -> None:
    rs = replicaset(
        "web-7c5ddbdf54", image="shop/web:1", replicas=2, uid="11111111-1111-4111-8111-111111111111"
    )
    crashing = pod(
        "web-7c5ddbdf54-abcde",
        image="shop/web:1",
        owner=rs,
        ready=False,
        restart_count=42,
        waiting=("CrashLoopBackOff", "back-off 5m0s restarting failed container=app"),
        labels={"app": "web", "pod-template-hash": "7c5ddbdf54"},
    )
    healthy = pod(
        "web-7c5ddbdf54-fghjk",
        image="shop/web:1",
        owner=rs,
        labels={"app": "web", "pod-template-hash": "7c5ddbdf54"},
    )
    world = World(scenario=[rs, crashing, healthy])
    before = world.get("Pod", "web-7c5ddbdf54-abcde")
    world.advance(600)
    after = world.get("Pod", "web-7c5ddbdf54-abcde")
    assert after == before
    assert world.get("ReplicaSet", "web-7c5ddbdf54")["status"] == {
        "replicas": 2,
        "fullyLabeledReplicas": 2,
        "readyReplicas": 1,
        "availableReplicas": 1,
        "observedGeneration": 1,
        "terminatingReplicas": 0,
    }
    world.delete("Pod", "web-7c5ddbdf54-abcde", grace_period_seconds=30)
    world.advance(1)
    assert world.find("Pod", "web-7c5ddbdf54-abcde") is None
    replacement = [p for p in world.pods() if p["metadata"]["name"] != "web-7c5ddbdf54-fghjk"]
    assert len(replacement) == 1 and container_status(replacement[0])["ready"] is True


def unschedulable(name: str) -> dict:
    """A scenario pod no node has room for: Pending, not scheduled."""
    return pod(
        name,
        image="shop/web:1",
        node=None,
        status={
            "phase": "Pending",
            "conditions": [
                {
                    "type": "PodScheduled",
                    "status": "False",
                    "reason": "Unschedulable",
                    "message": "0/1 nodes are available: 1 Insufficient cpu.",
                }
            ],
        },
    )


def test_unscheduled_scenario_pods_stay_pending() -> None:
    world = World(scenario=[unschedulable("stuck")])
    world.advance(60)
    pod = world.get("Pod", "stuck")
    assert "nodeName" not in pod["spec"] and pod["status"]["conditions"][0]["reason"] == "Unschedulable"


def test_deployment_pods_get_their_qos_class_from_resources() -> None:
    world = World()
    deploy = deployment("web", image="shop/web:1", replicas=1)
    deploy["spec"]["template"]["spec"]["containers"][0]["resources"] = {
        "requests": {"cpu": "100m", "memory": "64Mi"},
        "limits": {"cpu": "0.1", "memory": "64Mi"},
    }
    world.create(deploy)
    world.advance(2)
    assert world.pods()[0]["status"]["qosClass"] == "Guaranteed"
