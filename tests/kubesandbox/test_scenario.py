"""Scenarios: the bundled worlds hang together like a real cluster, and broken files fail on one line.

The first half loads the bundled scenarios into a real store and reads them the way the
controllers and the self-healing job will: ownership by uid, labels against selectors, the
Deployment → newest ReplicaSet template match, replica arithmetic, and the exact status shape of
each failure the demo plants. The second half is the loader's contract: namespaces, lists, owner
links, and a table of malformed files with the one-line error each must produce.
"""

from __future__ import annotations

import json
import re
import textwrap
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import kubernetes_validate
import pytest
import yaml

from kubesandbox.resources import BY_KIND_ONLY
from kubesandbox.resources.clock import DEFAULT_EPOCH, Clock, parse_time
from kubesandbox.resources.selectors import selector_matches
from kubesandbox.serve.scenario import (
    BEHAVIORS,
    Scenario,
    ScenarioError,
    bundled_scenarios,
    load_into,
    load_scenario,
    parse_scenario,
    resolve,
    shift_scenario,
)
from kubesandbox.store import Store
from selfheal.confighash import config_hash

Obj = dict[str, Any]
NS = "dese-ea-plan-v5"
BARE_PODS = {"cpt-debug"}


class World:
    """A scenario loaded into a real store, with the look-ups the assertions need."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.store = Store(Clock())
        self.frozen = load_into(self.store, scenario)

    def all(self, kind: str) -> list[Obj]:
        return self.store.list(BY_KIND_ONLY[kind], NS if BY_KIND_ONLY[kind].namespaced else None)

    def get(self, kind: str, name: str) -> Obj:
        return self.store.get(BY_KIND_ONLY[kind], NS, name)

    def by_uid(self, uid: str) -> Obj | None:
        for rt in BY_KIND_ONLY.values():
            for obj in self.store.iter_live(rt):
                if obj["metadata"]["uid"] == uid:
                    return obj
        return None

    def owned_by(self, owner: Obj, kind: str) -> list[Obj]:
        uid = owner["metadata"]["uid"]
        return [
            o
            for o in self.all(kind)
            if any(r["uid"] == uid for r in o["metadata"].get("ownerReferences", []))
        ]

    def replica_sets(self, deployment: str) -> list[Obj]:
        """Oldest revision first."""
        return sorted(self.owned_by(self.get("Deployment", deployment), "ReplicaSet"), key=revision)

    def pods(self, replica_set: Obj) -> list[Obj]:
        return self.owned_by(replica_set, "Pod")


def revision(obj: Obj) -> int:
    return int(obj["metadata"]["annotations"]["deployment.kubernetes.io/revision"])


def controller_of(obj: Obj) -> Obj | None:
    return next((r for r in obj["metadata"].get("ownerReferences", []) if r.get("controller")), None)


def container_status(pod: Obj) -> Obj:
    statuses = pod["status"]["containerStatuses"]
    assert len(statuses) == 1
    status: Obj = statuses[0]
    return status


def is_ready(pod: Obj) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in pod["status"]["conditions"])


def without_hash(template: Obj) -> Obj:
    t = json.loads(json.dumps(template))
    t["metadata"]["labels"].pop("pod-template-hash")
    return t


def last_applied(obj: Obj) -> Obj:
    applied: Obj = json.loads(
        obj["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
    )
    return applied


def backoff_text(restart_count: int) -> str:
    """The kubelet's CrashLoopBackOff delay after `restart_count` restarts: 10s doubling, capped at 5m."""
    seconds = min(10 * 2 ** (restart_count - 1), 300)
    minutes, rest = divmod(seconds, 60)
    return f"{minutes}m{rest}s" if minutes else f"{rest}s"


@pytest.fixture(scope="module")
def ea() -> World:
    return World(load_scenario("ea-plan-v5"))


@pytest.fixture(scope="module")
def minimal() -> World:
    return World(load_scenario("minimal"))


def walk(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from walk(v, f"{path}.{k}" if path else k)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from walk(v, f"{path}[{i}]")
    else:
        yield path, value


# -- the bundled scenarios: found, loaded, counted --------------------------------------------------


def test_both_bundled_scenarios_are_listed_and_resolve_by_name():
    assert {"ea-plan-v5", "minimal"} <= set(bundled_scenarios())
    assert resolve("ea-plan-v5") == resolve("ea-plan-v5.yaml")
    assert resolve("ea-plan-v5").name == "ea-plan-v5.yaml" and resolve("ea-plan-v5").is_file()


def test_a_path_is_resolved_as_given_and_an_unknown_name_lists_the_bundled_ones(tmp_path):
    world = tmp_path / "w.yaml"
    world.write_text("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n")
    assert resolve(str(world)) == world
    assert load_scenario(world).name == "w"
    with pytest.raises(
        ScenarioError,
        match=r"^no-such-world: no such file, and not a bundled scenario "
        r"\(bundled: .*ea-plan-v5.*minimal",
    ):
        resolve("no-such-world")


def test_ea_plan_v5_holds_the_demo_world(ea):
    s = ea.scenario
    assert (s.name, s.namespace) == ("ea-plan-v5", NS)
    counts = Counter(o["kind"] for _, o in s.objects)
    assert counts == {
        "Namespace": 1,
        "ServiceAccount": 2,
        "ConfigMap": 2,
        "Service": 1,
        "Deployment": 7,
        "ReplicaSet": 10,
        "Pod": 18,
        "HorizontalPodAutoscaler": 1,
        "PodDisruptionBudget": 1,
        "CronJob": 1,
        "Event": 18,
    }
    assert s.objects[0][1]["kind"] == "Namespace"
    assert sorted(d["metadata"]["name"] for d in ea.all("Deployment")) == [
        "cpt-api",
        "cpt-ingest",
        "cpt-optimizer",
        "cpt-reporting",
        "cpt-worker",
        "dese-ea-plan-v5",
        "dese-ea-plan-v5-canary",
    ]


def test_load_into_returns_the_uid_of_every_pod_the_scenario_gives(ea, minimal):
    for world in (ea, minimal):
        assert sorted(world.frozen) == sorted(p["metadata"]["uid"] for p in world.all("Pod"))
    assert len(ea.frozen) == 18 and len(minimal.frozen) == 2


def test_every_object_validates_against_the_kubernetes_1_32_schemas(ea, minimal):
    for world in (ea, minimal):
        for _, obj in world.scenario.objects:
            kubernetes_validate.validate(obj, "1.32.0", strict=True)


def test_every_time_lies_before_the_sandbox_epoch_and_every_uid_is_distinct(ea):
    uids = [o["metadata"]["uid"] for _, o in ea.scenario.objects]
    assert len(uids) == len(set(uids))
    times = [
        (p, v)
        for _, o in ea.scenario.objects
        for p, v in walk(o)
        if isinstance(v, str) and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", v)
    ]
    assert len(times) > 250  # creation, condition, container and event times
    assert all(parse_time(v) < DEFAULT_EPOCH for _, v in times)


def test_last_applied_configurations_are_the_objects_own_manifests(ea):
    applied = [
        o
        for _, o in ea.scenario.objects
        if "kubectl.kubernetes.io/last-applied-configuration" in o["metadata"].get("annotations", {})
    ]
    assert len(applied) == 14  # all but what controllers create: ReplicaSets, Pods, Events, defaults
    for obj in applied:
        manifest = last_applied(obj)
        assert (manifest["kind"], manifest["metadata"]["name"]) == (obj["kind"], obj["metadata"]["name"])
        assert "status" not in manifest and "uid" not in manifest["metadata"]


def test_every_image_a_container_runs_has_a_behaviour(ea, minimal):
    for world in (ea, minimal):
        images = {
            v
            for _, o in world.scenario.objects
            for p, v in walk(o)
            if re.search(r"(containers|initContainers)\[\d+\]\.image$", p)
        }
        assert images and images <= set(world.scenario.behaviors)
        assert set(world.scenario.behaviors.values()) <= set(BEHAVIORS)


# -- ownership and the Deployment → ReplicaSet → Pod chain ---------------------------------------


def test_every_replica_set_is_controlled_by_its_deployment_by_uid(ea, minimal):
    for world in (ea, minimal):
        for rs in world.all("ReplicaSet"):
            ref = controller_of(rs)
            assert ref is not None and ref["kind"] == "Deployment" and ref["blockOwnerDeletion"] is True
            deployment = world.get("Deployment", ref["name"])
            assert ref["uid"] == deployment["metadata"]["uid"]
            pth = rs["metadata"]["labels"]["pod-template-hash"]
            assert re.fullmatch(r"[456789bcdf]{6,10}", pth)  # SafeEncodeString of a decimal FNV-32a
            assert rs["metadata"]["name"] == f"{ref['name']}-{pth}"
            assert rs["spec"]["selector"]["matchLabels"]["pod-template-hash"] == pth
            assert rs["spec"]["template"]["metadata"]["labels"]["pod-template-hash"] == pth
            assert selector_matches(deployment["spec"]["selector"], rs["metadata"]["labels"])


def test_every_pod_is_controlled_by_a_replica_set_or_is_the_intentionally_bare_one(ea, minimal):
    for world in (ea, minimal):
        for pod in world.all("Pod"):
            ref = controller_of(pod)
            if pod["metadata"]["name"] in BARE_PODS:
                assert "ownerReferences" not in pod["metadata"] and "generateName" not in pod["metadata"]
                continue
            assert ref is not None and ref["kind"] == "ReplicaSet"
            rs = world.get("ReplicaSet", ref["name"])
            assert ref["uid"] == rs["metadata"]["uid"]
            labels = pod["metadata"]["labels"]
            assert labels["pod-template-hash"] == rs["metadata"]["labels"]["pod-template-hash"]
            assert selector_matches(rs["spec"]["selector"], labels)
            assert pod["metadata"]["generateName"] == rs["metadata"]["name"] + "-"
            assert re.fullmatch(
                re.escape(rs["metadata"]["name"]) + r"-[bcdfghjklmnpqrstvwxz2456789]{5}",
                pod["metadata"]["name"],
            )
    assert {p["metadata"]["name"] for p in ea.all("Pod") if controller_of(p) is None} == BARE_PODS


def test_pods_run_their_replica_set_template(ea):
    for rs in ea.all("ReplicaSet"):
        tpl = rs["spec"]["template"]
        for pod in ea.pods(rs):
            assert pod["metadata"].get("annotations") == tpl["metadata"].get("annotations")
            for want, got in zip(tpl["spec"]["containers"], pod["spec"]["containers"], strict=True):
                assert {k: v for k, v in got.items() if k != "volumeMounts"} == {
                    k: v for k, v in want.items() if k != "volumeMounts"
                }
            assert container_status(pod)["image"] == tpl["spec"]["containers"][0]["image"]


def test_the_newest_replica_set_carries_the_deployment_template_and_revision(ea, minimal):
    """What the deployment controller (and `kubectl rollout undo`) match on."""
    for world in (ea, minimal):
        for deployment in world.all("Deployment"):
            sets = world.replica_sets(deployment["metadata"]["name"])
            newest = sets[-1]
            assert without_hash(newest["spec"]["template"]) == deployment["spec"]["template"]
            assert revision(newest) == revision(deployment)
            assert [revision(rs) for rs in sets] == list(range(1, len(sets) + 1))
            assert all(
                without_hash(rs["spec"]["template"]) != deployment["spec"]["template"] for rs in sets[:-1]
            )


def test_replica_counts_add_up_like_the_controllers_left_them(ea, minimal):
    for world in (ea, minimal):
        for deployment in world.all("Deployment"):
            sets = world.replica_sets(deployment["metadata"]["name"])
            status = deployment["status"]
            assert deployment["metadata"]["generation"] == status["observedGeneration"]
            for rs in sets:
                pods = world.pods(rs)
                ready = sum(is_ready(p) for p in pods)
                assert len(pods) == rs["spec"]["replicas"] == rs["status"]["replicas"]
                assert (
                    rs["status"].get("readyReplicas", 0) == ready == rs["status"].get("availableReplicas", 0)
                )
                assert rs["status"]["observedGeneration"] == rs["metadata"]["generation"]
            total = sum(rs["spec"]["replicas"] for rs in sets)
            ready = sum(rs["status"].get("readyReplicas", 0) for rs in sets)
            assert status["replicas"] == total
            assert status.get("readyReplicas", 0) == ready == status.get("availableReplicas", 0)
            assert status.get("unavailableReplicas", 0) == total - ready
            assert status.get("updatedReplicas", 0) == sets[-1]["spec"]["replicas"]


def test_events_point_at_the_objects_they_are_about(ea):
    events = ea.all("Event")
    assert {"BackOff", "Killing", "ScalingReplicaSet"} <= {e["reason"] for e in events}
    for e in events:
        involved = e["involvedObject"]
        assert e["metadata"]["name"].startswith(involved["name"] + ".")
        assert DEFAULT_EPOCH - timedelta(hours=1) <= parse_time(e["lastTimestamp"]) < DEFAULT_EPOCH
        live = ea.by_uid(involved["uid"])
        if live is not None:
            assert (live["kind"], live["metadata"]["name"]) == (involved["kind"], involved["name"])
        else:  # pods deleted by a scale-down: only their Killing events remain
            assert (involved["kind"], e["reason"]) == ("Pod", "Killing")
    for e in events:
        if e["reason"] == "BackOff":
            pod = ea.get("Pod", e["involvedObject"]["name"])
            assert e["message"] == (
                f"Back-off restarting failed container {pod['spec']['containers'][0]['name']}"
                f" in pod {pod['metadata']['name']}_{NS}({pod['metadata']['uid']})"
            )


def test_every_crash_loop_shows_the_kubelet_back_off_it_would_have_reached(ea):
    crash_looping = [p for p in ea.all("Pod") if "waiting" in container_status(p)["state"]]
    assert len(crash_looping) == 5
    for pod in crash_looping:
        status = container_status(pod)
        waiting, last = status["state"]["waiting"], status["lastState"]["terminated"]
        name, uid = pod["metadata"]["name"], pod["metadata"]["uid"]
        assert waiting["reason"] == "CrashLoopBackOff" and status["restartCount"] >= 3
        assert waiting["message"] == (
            f"back-off {backoff_text(status['restartCount'])} restarting failed "
            f"container={status['name']} pod={name}_{NS}({uid})"
        )
        assert status["ready"] is False and status["started"] is False
        assert status["containerID"] == last["containerID"]
        assert parse_time(last["startedAt"]) < parse_time(last["finishedAt"]) < DEFAULT_EPOCH
        assert pod["status"]["phase"] == "Running" and not is_ready(pod)


# -- the planted failures, one story each -------------------------------------------------------------


def test_failure_1_one_cpt_worker_pod_crash_loops_in_a_long_healthy_deployment(ea):
    [rs] = ea.replica_sets("cpt-worker")
    pods = ea.pods(rs)
    crashing = [p for p in pods if not is_ready(p)]
    assert len(pods) == 4 and len(crashing) == 1
    status = container_status(crashing[0])
    assert status["restartCount"] == 5
    assert status["lastState"]["terminated"]["reason"] == "Error"
    assert status["lastState"]["terminated"]["exitCode"] == 1
    assert parse_time(crashing[0]["metadata"]["creationTimestamp"]) < DEFAULT_EPOCH - timedelta(days=30)
    assert ea.scenario.behaviors[status["image"]] == "CrashUntilRestarted"
    deployment = ea.get("Deployment", "cpt-worker")
    conditions = {c["type"]: c for c in deployment["status"]["conditions"]}
    assert conditions["Available"]["status"] == "True"  # 3 of 4 with maxUnavailable 25%
    assert conditions["Progressing"]["reason"] == "NewReplicaSetAvailable"


def test_failure_2_cpt_optimizer_revision_2_fails_on_every_pod_while_revision_1_serves(ea):
    old, new = ea.replica_sets("cpt-optimizer")
    assert (revision(old), revision(new)) == (1, 2)
    new_pods, old_pods = ea.pods(new), ea.pods(old)
    assert len(new_pods) == 2 and not any(is_ready(p) for p in new_pods)
    for pod in new_pods:
        status = container_status(pod)
        assert status["state"]["waiting"]["reason"] == "CrashLoopBackOff"
        assert status["lastState"]["terminated"]["reason"] == "Error"
        assert ea.scenario.behaviors[status["image"]] == "CrashLoop"
    assert "availableReplicas" not in new["status"]
    assert len(old_pods) == 3 and all(is_ready(p) for p in old_pods)
    assert ea.scenario.behaviors[old["spec"]["template"]["spec"]["containers"][0]["image"]] == "Healthy"
    deployment = ea.get("Deployment", "cpt-optimizer")
    progressing = next(c for c in deployment["status"]["conditions"] if c["type"] == "Progressing")
    assert (progressing["status"], progressing["reason"]) == ("False", "ProgressDeadlineExceeded")
    assert progressing["message"] == f'ReplicaSet "{new["metadata"]["name"]}" has timed out progressing.'
    stuck_since = parse_time(new["metadata"]["creationTimestamp"])
    assert parse_time(progressing["lastTransitionTime"]) >= stuck_since + timedelta(
        seconds=deployment["spec"]["progressDeadlineSeconds"]
    )


def test_failure_3_cpt_reporting_was_scaled_by_hand_below_what_it_should_run(ea):
    deployment = ea.get("Deployment", "cpt-reporting")
    assert deployment["spec"]["replicas"] == 1
    assert deployment["metadata"]["annotations"]["selfheal.dev/desired-replicas"] == "3"
    assert last_applied(deployment)["spec"]["replicas"] == 3
    assert not any(
        h["spec"]["scaleTargetRef"]["name"] == "cpt-reporting" for h in ea.all("HorizontalPodAutoscaler")
    )
    [rs] = ea.replica_sets("cpt-reporting")
    assert len(ea.pods(rs)) == 1 and all(is_ready(p) for p in ea.pods(rs))
    assert any(
        e["message"] == f"Scaled down replica set {rs['metadata']['name']} from 3 to 1"
        for e in ea.all("Event")
    )


def test_failure_4_cpt_api_template_drifted_from_the_recorded_one(ea):
    deployment = ea.get("Deployment", "cpt-api")
    recorded_rs, live_rs = ea.replica_sets("cpt-api")
    recorded = without_hash(recorded_rs["spec"]["template"])
    live = deployment["spec"]["template"]
    assert recorded != live
    [recorded_c], [live_c] = recorded["spec"]["containers"], live["spec"]["containers"]
    assert live_c["env"] == [*recorded_c["env"], {"name": "LOG_LEVEL", "value": "debug"}]
    assert {k: v for k, v in live_c.items() if k != "env"} == {
        k: v for k, v in recorded_c.items() if k != "env"
    }
    assert last_applied(deployment)["spec"]["template"]["spec"]["containers"][0]["env"] == recorded_c["env"]
    assert deployment["metadata"]["annotations"]["selfheal.dev/config-hash"] == config_hash(recorded)
    assert config_hash(live) != config_hash(recorded)
    assert recorded_rs["spec"]["replicas"] == 0 and all(is_ready(p) for p in ea.pods(live_rs))


def test_config_hashes_record_the_intended_templates(ea):
    """The stable Deployment matches its hash; cpt-api's records its revision-1 template (the drift)."""
    hashed = {
        (o["kind"], o["metadata"]["name"]): o["metadata"]["annotations"]["selfheal.dev/config-hash"]
        for _, o in ea.scenario.objects
        if "selfheal.dev/config-hash" in o["metadata"].get("annotations", {})
    }
    web = ea.get("Deployment", "dese-ea-plan-v5")
    web_rs = ea.replica_sets("dese-ea-plan-v5")[-1]["metadata"]["name"]
    api_rs = [rs["metadata"]["name"] for rs in ea.replica_sets("cpt-api")]
    assert sorted(hashed) == sorted(
        [
            ("Deployment", "cpt-api"),
            ("Deployment", "dese-ea-plan-v5"),
            ("ReplicaSet", api_rs[0]),
            ("ReplicaSet", api_rs[1]),
            ("ReplicaSet", web_rs),
        ]
    )
    assert hashed[("Deployment", "dese-ea-plan-v5")] == config_hash(web["spec"]["template"])
    assert (
        hashed[("Deployment", "cpt-api")]
        == hashed[("ReplicaSet", api_rs[0])]
        == hashed[("ReplicaSet", api_rs[1])]
    )


def test_failure_5_the_bare_crash_looping_pod_has_no_owner(ea):
    pod = ea.get("Pod", "cpt-debug")
    assert "ownerReferences" not in pod["metadata"] and pod["metadata"]["labels"] == {"run": "cpt-debug"}
    status = container_status(pod)
    assert status["state"]["waiting"]["reason"] == "CrashLoopBackOff" and status["restartCount"] >= 3


def test_failure_6_cpt_ingest_is_oom_killed_over_and_over(ea):
    [rs] = ea.replica_sets("cpt-ingest")
    [pod] = ea.pods(rs)
    status = container_status(pod)
    assert status["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert (status["lastState"]["terminated"]["reason"], status["lastState"]["terminated"]["exitCode"]) == (
        "OOMKilled",
        137,
    )
    assert pod["status"]["qosClass"] == "Guaranteed"
    assert ea.scenario.behaviors[status["image"]] == "OOMKilled"
    available = next(
        c for c in ea.get("Deployment", "cpt-ingest")["status"]["conditions"] if c["type"] == "Available"
    )
    assert (available["status"], available["reason"]) == ("False", "MinimumReplicasUnavailable")


def test_the_rest_of_the_namespace_is_healthy_and_shaped_like_the_guide(ea):
    web = ea.get("Deployment", "dese-ea-plan-v5")
    assert web["metadata"]["labels"]["app"] == "cpt-web" and web["spec"]["replicas"] == 3
    container = web["spec"]["template"]["spec"]["containers"][0]
    assert {"livenessProbe", "readinessProbe", "resources"} <= set(container)
    assert container["envFrom"] == [{"configMapRef": {"name": "cpt-web-config"}}]
    assert ea.get("ConfigMap", "cpt-web-config")["data"]
    for name in ("dese-ea-plan-v5", "dese-ea-plan-v5-canary"):
        sets = ea.replica_sets(name)
        assert all(is_ready(p) for p in ea.pods(sets[-1])) and ea.pods(sets[-1])
    hpa = ea.get("HorizontalPodAutoscaler", "dese-ea-plan-v5")
    assert (hpa["apiVersion"], hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (
        "autoscaling/v2",
        3,
        10,
    )
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "dese-ea-plan-v5",
    }
    assert {m["resource"]["name"] for m in hpa["spec"]["metrics"]} == {"cpu", "memory"}
    pdb = ea.get("PodDisruptionBudget", "dese-ea-plan-v5")
    assert pdb["spec"]["minAvailable"] == 2
    assert all(
        selector_matches(pdb["spec"]["selector"], p["metadata"]["labels"])
        for p in ea.pods(ea.replica_sets("dese-ea-plan-v5")[-1])
    )
    service = ea.get("Service", "dese-ea-plan-v5")
    assert service["spec"]["selector"] == {"app": "cpt-web"}
    canary = ea.get("Deployment", "dese-ea-plan-v5-canary")
    assert canary["spec"]["replicas"] == 1
    assert json.loads(canary["metadata"]["annotations"]["rollout.argoproj.io/traffic-split"]) == {
        "canary": 10,
        "stable": 90,
    }
    cronjob = ea.get("CronJob", "self-heal-cpt")
    assert (cronjob["spec"]["schedule"], cronjob["spec"]["concurrencyPolicy"]) == ("*/5 * * * *", "Forbid")
    pod_spec = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert pod_spec["containers"][0]["image"] == "registry.example/selfheal:0.1.0"
    assert pod_spec["serviceAccountName"] == "self-heal"
    assert ea.get("ServiceAccount", "self-heal")
    # RBAC comes from the job's own manifests (--rbac-from): a Role here would shadow what the project ships
    assert ea.all("Role") == [] and ea.all("RoleBinding") == []


def test_minimal_is_one_healthy_two_replica_deployment(minimal):
    s = minimal.scenario
    assert Counter(o["kind"] for _, o in s.objects) == {
        "Namespace": 1,
        "Deployment": 1,
        "ReplicaSet": 1,
        "Pod": 2,
    }
    [deployment] = minimal.all("Deployment")
    [rs] = minimal.replica_sets(deployment["metadata"]["name"])
    pods = minimal.pods(rs)
    assert deployment["spec"]["replicas"] == 2 and len(pods) == 2 and all(is_ready(p) for p in pods)
    assert all(container_status(p)["restartCount"] == 0 for p in pods)
    assert set(s.behaviors.values()) == {"Healthy"}


# -- the loader's contract ------------------------------------------------------------------------


def docs(*parts: str) -> str:
    return "---\n".join(textwrap.dedent(p).strip() + "\n" for p in parts)


NAMESPACE = textwrap.dedent("""
    apiVersion: v1
    kind: Namespace
    metadata:
      name: shop
""")

DEPLOYMENT = textwrap.dedent("""
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: web
      namespace: shop
      uid: d-1
    spec:
      replicas: 2
      selector:
        matchLabels: {app: web}
      template:
        metadata:
          labels: {app: web}
        spec:
          containers:
          - name: app
            image: shop/web:1
""")

REPLICA_SET = textwrap.dedent("""
    apiVersion: apps/v1
    kind: ReplicaSet
    metadata:
      name: web-1
      namespace: shop
      uid: rs-1
      labels: {app: web, pod-template-hash: "1"}
      ownerReferences:
      - {apiVersion: apps/v1, kind: Deployment, name: web, uid: d-1, controller: true}
    spec:
      replicas: 1
      selector:
        matchLabels: {app: web, pod-template-hash: "1"}
      template:
        metadata:
          labels: {app: web, pod-template-hash: "1"}
        spec:
          containers:
          - name: app
            image: shop/web:1
""")


def pod(*, labels: str = '{app: web, pod-template-hash: "1"}', owner: str = "", status: str = "") -> str:
    text = f"""
    apiVersion: v1
    kind: Pod
    metadata:
      name: web-1-abcde
      namespace: shop
      labels: {labels}
    spec:
      containers:
      - name: app
        image: shop/web:1
    """
    if owner:
        text = text.replace("      labels:", f"      ownerReferences:\n      - {owner}\n      labels:")
    return textwrap.dedent(text) + textwrap.dedent(status)


def test_objects_load_namespaces_first_then_in_document_order():
    s = parse_scenario(docs(DEPLOYMENT, REPLICA_SET, NAMESPACE), source="shop.yaml", name="shop")
    assert [o["kind"] for _, o in s.objects] == ["Namespace", "Deployment", "ReplicaSet"]
    assert (s.name, s.namespace) == ("shop", "shop")


def test_a_kind_list_is_read_item_by_item():
    items = [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"cfg-{i}", "namespace": "shop"}}
        for i in range(3)
    ]
    listing = json.dumps(
        {"apiVersion": "v1", "kind": "List", "items": items, "metadata": {"resourceVersion": ""}}
    )
    s = parse_scenario(docs(NAMESPACE, listing))
    assert [o["metadata"]["name"] for _, o in s.objects[1:]] == ["cfg-0", "cfg-1", "cfg-2"]


def test_the_namespace_defaults_when_the_file_has_exactly_one_namespace_document():
    s = parse_scenario(docs(NAMESPACE, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n"))
    assert s.objects[1][1]["metadata"]["namespace"] == "shop"


def test_without_namespace_documents_one_is_created_per_namespace_used():
    s = parse_scenario(
        docs(
            DEPLOYMENT,
            DEPLOYMENT.replace("namespace: shop", "namespace: lab").replace("uid: d-1", "uid: d-2"),
        )
    )
    created = [o for _, o in s.objects if o["kind"] == "Namespace"]
    assert [n["metadata"]["name"] for n in created] == ["shop", "lab"] and s.namespace == "shop"
    assert created[0] == {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"labels": {"kubernetes.io/metadata.name": "shop"}, "name": "shop"},
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"},
    }
    world = Store(Clock())
    load_into(world, s)
    assert world.peek(BY_KIND_ONLY["Namespace"], None, "lab") is not None


def test_the_created_namespace_is_as_old_as_its_oldest_object():
    cfg = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {n}\n  namespace: shop\n  creationTimestamp: '{t}'\n"
    s = parse_scenario(
        docs(cfg.format(n="a", t="2025-12-01T10:00:00Z"), cfg.format(n="b", t="2025-11-01T10:00:00Z"))
    )
    assert s.objects[0][1]["metadata"]["creationTimestamp"] == "2025-11-01T10:00:00Z"


def test_an_owner_reference_without_uid_is_linked_by_kind_and_name():
    deployment = DEPLOYMENT.replace("  uid: d-1\n", "")
    replica_set = REPLICA_SET.replace(", uid: d-1", "")
    s = parse_scenario(docs(NAMESPACE, deployment, replica_set))
    dep, rs = s.objects[1][1], s.objects[2][1]
    assert dep["metadata"]["uid"] and rs["metadata"]["ownerReferences"][0]["uid"] == dep["metadata"]["uid"]
    again = parse_scenario(docs(NAMESPACE, deployment, replica_set))
    assert again.objects[1][1]["metadata"]["uid"] == dep["metadata"]["uid"]  # stable, not random


def test_an_owner_without_uid_takes_the_uid_its_dependents_name():
    s = parse_scenario(docs(NAMESPACE, DEPLOYMENT.replace("  uid: d-1\n", ""), REPLICA_SET))
    assert s.objects[1][1]["metadata"]["uid"] == "d-1"


def test_resource_versions_are_dropped_and_identity_is_kept():
    text = DEPLOYMENT.replace(
        "  uid: d-1\n",
        "  uid: d-1\n  resourceVersion: '77'\n  creationTimestamp: '2025-12-01T10:00:00Z'\n  generation: 4\n",
    )
    s = parse_scenario(docs(NAMESPACE, text))
    world = Store(Clock())
    load_into(world, s)
    stored = world.get(BY_KIND_ONLY["Deployment"], "shop", "web")["metadata"]
    assert "resourceVersion" not in s.objects[1][1]["metadata"]
    assert (stored["uid"], stored["creationTimestamp"], stored["generation"]) == (
        "d-1",
        "2025-12-01T10:00:00Z",
        4,
    )


def test_yaml_reads_like_json_timestamps_stay_strings():
    text = docs(
        NAMESPACE,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n"
        "  creationTimestamp: 2025-12-01T10:00:00Z\n",
    )
    assert parse_scenario(text).objects[1][1]["metadata"]["creationTimestamp"] == "2025-12-01T10:00:00Z"


@pytest.mark.parametrize(
    ("written", "in_utc"),
    [
        ("2025-12-01T10:00:00Z", "2025-12-01T10:00:00Z"),
        ("2025-12-01T11:00:00+01:00", "2025-12-01T10:00:00Z"),
        ("2025-12-01T05:30:00-04:30", "2025-12-01T10:00:00Z"),
        ("2025-12-01T10:00:00.250+00:00", "2025-12-01T10:00:00.250000Z"),
    ],
)
def test_rfc3339_offsets_are_accepted_and_shifting_writes_utc(written, in_utc):
    text = docs(
        NAMESPACE,
        f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n  creationTimestamp: '{written}'\n",
    )
    s = parse_scenario(text)
    assert s.objects[1][1]["metadata"]["creationTimestamp"] == written
    moved = shift_scenario(s, timedelta(0))
    assert moved.objects[1][1]["metadata"]["creationTimestamp"] == in_utc


def test_image_behaviours_are_collected_not_stored():
    behavior = """
        apiVersion: sandbox.selfheal.dev/v1alpha1
        kind: ImageBehavior
        metadata: {name: web-1}
        spec: {image: "shop/web:1", behavior: CrashUntilRestarted}
    """
    s = parse_scenario(docs(NAMESPACE, behavior))
    assert dict(s.behaviors) == {"shop/web:1": "CrashUntilRestarted"}
    assert [o["kind"] for _, o in s.objects] == ["Namespace"]
    with pytest.raises(TypeError):
        s.behaviors["shop/web:2"] = "Healthy"  # type: ignore[index]


def test_load_into_refuses_an_object_the_store_already_holds_and_loads_nothing():
    s = parse_scenario(docs(NAMESPACE, DEPLOYMENT))
    world = Store(Clock())
    load_into(world, parse_scenario(docs(NAMESPACE)))  # an existing Namespace is kept as it is
    load_into(world, s)
    before = world.resource_version
    with pytest.raises(
        ScenarioError, match=r'^scenario: Deployment/web: already in the store in namespace "shop"'
    ):
        load_into(world, s)
    assert world.resource_version == before


def test_a_file_error_names_the_file(tmp_path):
    bad = tmp_path / "broken.yaml"
    bad.write_text(docs(NAMESPACE, DEPLOYMENT.replace("replicas: 2", "replicas: three")))
    with pytest.raises(ScenarioError) as err:
        load_scenario(bad)
    assert str(err.value) == (
        'broken.yaml: document 2 (Deployment/web): spec.replicas: expected an integer, got "three"'
    )


# Each case: a file (after the Namespace document unless it says otherwise) and the error it must give.
MALFORMED: list[tuple[str, str, str]] = [
    (
        "yaml syntax",
        docs(NAMESPACE, "kind: Pod\nmetadata: {name: x\n"),
        "bad.yaml: document 2: line 8, column 1: invalid YAML: expected ',' or '}'",
    ),
    (
        "duplicate key",
        docs(NAMESPACE, DEPLOYMENT.replace("  replicas: 2\n", "  replicas: 2\n  replicas: 3\n")),
        'document 2: line 14, column 3: invalid YAML: duplicate key "replicas"',
    ),
    (
        "not a mapping",
        docs(NAMESPACE, "- a\n- b\n"),
        "document 2: expected a Kubernetes object (a mapping), got a list",
    ),
    (
        "no apiVersion",
        docs(NAMESPACE, "kind: ConfigMap\nmetadata: {name: cfg}\n"),
        "document 2: apiVersion: Required value",
    ),
    (
        "unknown kind",
        docs(NAMESPACE, DEPLOYMENT.replace("kind: Deployment", "kind: Deploymnet")),
        'document 2 (Deploymnet/web): kind: no matches for kind "Deploymnet" in version "apps/v1" (kinds the sandbox',
    ),
    (
        "old apiVersion",
        docs(NAMESPACE, DEPLOYMENT.replace("apps/v1", "apps/v1beta1")),
        'document 2 (Deployment/web): apiVersion: no matches for kind "Deployment" in version "apps/v1beta1" '
        "(the sandbox serves Deployment as apps/v1)",
    ),
    (
        "no name",
        docs(NAMESPACE, "apiVersion: v1\nkind: ConfigMap\nmetadata: {namespace: shop}\n"),
        "document 2 (ConfigMap): metadata.name: Required value",
    ),
    (
        "bad name",
        docs(NAMESPACE, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Web_1}\n"),
        'document 2 (ConfigMap/Web_1): metadata.name: Invalid value: "Web_1": a lowercase RFC 1123 subdomain',
    ),
    (
        "no namespace, two namespaces",
        docs(
            NAMESPACE,
            NAMESPACE.replace("shop", "lab"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\n",
        ),
        "document 3 (ConfigMap/cfg): metadata.namespace: Required value",
    ),
    (
        "undeclared namespace",
        docs(NAMESPACE, DEPLOYMENT.replace("namespace: shop", "namespace: shpo")),
        'document 2 (Deployment/web): metadata.namespace: namespace "shpo" is not defined in this scenario '
        "(its Namespace documents: shop)",
    ),
    (
        "replicas as text",
        docs(NAMESPACE, DEPLOYMENT.replace("replicas: 2", "replicas: three")),
        'document 2 (Deployment/web): spec.replicas: expected an integer, got "three"',
    ),
    (
        "replicas as bool",
        docs(NAMESPACE, DEPLOYMENT.replace("replicas: 2", "replicas: true")),
        "spec.replicas: expected an integer, got true",
    ),
    (
        "negative replicas",
        docs(NAMESPACE, DEPLOYMENT.replace("replicas: 2", "replicas: -1")),
        "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
    ),
    (
        "selector does not match",
        docs(NAMESPACE, DEPLOYMENT.replace("labels: {app: web}", "labels: {app: api}")),
        "document 2 (Deployment/web): spec.template.metadata.labels: `selector` does not match template `labels` "
        "(selector app=web, labels app=api)",
    ),
    (
        "no selector",
        docs(NAMESPACE, DEPLOYMENT.replace("  selector:\n    matchLabels: {app: web}\n", "")),
        "document 2 (Deployment/web): spec.selector: Required value",
    ),
    (
        "empty selector",
        docs(NAMESPACE, DEPLOYMENT.replace("matchLabels: {app: web}", "matchLabels: {}")),
        "spec.selector: Invalid value: empty selector is invalid for deployment",
    ),
    (
        "bad selector operator",
        docs(
            NAMESPACE,
            REPLICA_SET.replace(
                'matchLabels: {app: web, pod-template-hash: "1"}',
                "matchExpressions: [{key: app, operator: Equals, values: [web]}]",
            ),
        ),
        'spec.selector.matchExpressions[0].operator: Unsupported value: "Equals"',
    ),
    (
        "no containers",
        docs(
            NAMESPACE,
            DEPLOYMENT.replace(
                "      containers:\n      - name: app\n        image: shop/web:1\n", "      containers: []\n"
            ),
        ),
        "document 2 (Deployment/web): spec.template.spec.containers: Required value",
    ),
    (
        "container without image",
        docs(NAMESPACE, DEPLOYMENT.replace("        image: shop/web:1\n", "")),
        "document 2 (Deployment/web): spec.template.spec.containers[0].image: Required value",
    ),
    (
        "container without name",
        docs(NAMESPACE, DEPLOYMENT.replace("      - name: app\n        image", "      - image")),
        "spec.template.spec.containers[0].name: Required value",
    ),
    (
        "duplicate container",
        docs(
            NAMESPACE,
            DEPLOYMENT.replace(
                "        image: shop/web:1\n",
                "        image: shop/web:1\n      - name: app\n        image: shop/web:1\n",
            ),
        ),
        'spec.template.spec.containers[1].name: Duplicate value: "app"',
    ),
    (
        "label value as number",
        docs(NAMESPACE, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n  labels: {tier: 3}\n"),
        "document 2 (ConfigMap/cfg): metadata.labels.tier: expected a string, got 3 (quote it)",
    ),
    (
        "annotation value as number",
        docs(
            NAMESPACE,
            DEPLOYMENT.replace(
                "  uid: d-1\n", "  uid: d-1\n  annotations: {selfheal.dev/desired-replicas: 3}\n"
            ),
        ),
        "metadata.annotations.selfheal.dev/desired-replicas: expected a string, got 3 (quote it)",
    ),
    (
        "bad behaviour",
        docs(
            NAMESPACE,
            "apiVersion: sandbox.selfheal.dev/v1alpha1\nkind: ImageBehavior\n"
            "metadata: {name: web}\nspec: {image: 'shop/web:1', behavior: Crashy}\n",
        ),
        'document 2 (ImageBehavior/web): spec.behavior: unknown behaviour "Crashy" (known: Healthy, CrashLoop, '
        "CrashUntilRestarted, OOMKilled, ImagePullBackOff, CreateContainerConfigError)",
    ),
    (
        "behaviour without image",
        docs(
            NAMESPACE,
            "apiVersion: sandbox.selfheal.dev/v1alpha1\nkind: ImageBehavior\n"
            "metadata: {name: web}\nspec: {behavior: Healthy}\n",
        ),
        "document 2 (ImageBehavior/web): spec.image: Required value",
    ),
    (
        "two behaviours for one image",
        docs(
            NAMESPACE,
            *[
                f"apiVersion: sandbox.selfheal.dev/v1alpha1\nkind: ImageBehavior\nmetadata: {{name: web-{n}}}\n"
                f"spec: {{image: 'shop/web:1', behavior: Healthy}}\n"
                for n in (1, 2)
            ],
        ),
        'document 3 (ImageBehavior/web-2): spec.image: "shop/web:1" already has a behaviour, from document 2 '
        "(ImageBehavior/web-1)",
    ),
    (
        "duplicate object",
        docs(NAMESPACE, *["apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\n"] * 2),
        'document 3 (ConfigMap/cfg): metadata.name: duplicate: ConfigMap "cfg" in namespace "shop" is already '
        "defined by document 2 (ConfigMap/cfg)",
    ),
    (
        "duplicate uid",
        docs(
            NAMESPACE,
            *[f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{n}, uid: u-1}}\n" for n in (1, 2)],
        ),
        'document 3 (ConfigMap/c2): metadata.uid: "u-1" is already the uid of document 2 (ConfigMap/c1)',
    ),
    (
        "owner missing",
        docs(
            NAMESPACE,
            pod(owner="{apiVersion: apps/v1, kind: ReplicaSet, name: web-1, uid: rs-1, controller: true}"),
        ),
        'document 2 (Pod/web-1-abcde): metadata.ownerReferences[0]: owner ReplicaSet "web-1" in namespace "shop" is '
        "not in this scenario",
    ),
    (
        "owner uid mismatch",
        docs(NAMESPACE, DEPLOYMENT, REPLICA_SET.replace("uid: d-1", "uid: d-9")),
        'document 3 (ReplicaSet/web-1): metadata.ownerReferences[0].uid: "d-9" is not the uid of Deployment "web" '
        '("d-1")',
    ),
    (
        "owner apiVersion",
        docs(
            NAMESPACE,
            DEPLOYMENT,
            REPLICA_SET.replace("{apiVersion: apps/v1,", "{apiVersion: extensions/v1beta1,"),
        ),
        'metadata.ownerReferences[0].apiVersion: expected "apps/v1" for a Deployment, got "extensions/v1beta1"',
    ),
    (
        "owner kind not served",
        docs(
            NAMESPACE,
            pod(owner="{apiVersion: apps.kruise.io/v1alpha1, kind: CloneSet, name: db, controller: true}"),
        ),
        'metadata.ownerReferences[0].kind: owner kind "CloneSet" is not served by the sandbox',
    ),
    (
        "two controllers",
        docs(
            NAMESPACE,
            DEPLOYMENT,
            REPLICA_SET.replace(
                "controller: true}",
                "controller: true}\n  - {apiVersion: apps/v1, kind: Deployment, name: web, "
                "uid: d-1, controller: true}",
            ),
        ),
        "document 3 (ReplicaSet/web-1): metadata.ownerReferences: Only one reference can have Controller set to true",
    ),
    (
        "pod labels outside the owner's selector",
        docs(
            NAMESPACE,
            DEPLOYMENT,
            REPLICA_SET,
            pod(
                labels="{app: other}",
                owner="{apiVersion: apps/v1, kind: ReplicaSet, name: web-1, uid: rs-1, controller: true}",
            ),
        ),
        "document 4 (Pod/web-1-abcde): metadata.labels: app=other do not match the selector of its controller "
        'ReplicaSet "web-1" (app=web,pod-template-hash=1): the ReplicaSet controller would release it',
    ),
    (
        "status for an unknown container",
        docs(
            NAMESPACE,
            pod(
                status="""
        status:
          containerStatuses:
          - {name: sidecar, restartCount: 0, ready: true}
        """
            ),
        ),
        'status.containerStatuses[0].name: "sidecar" is not a container of this pod (containers: app)',
    ),
    (
        "two container states",
        docs(
            NAMESPACE,
            pod(
                status="""
        status:
          containerStatuses:
          - name: app
            state: {running: {startedAt: "2026-01-01T11:00:00Z"}, waiting: {reason: CrashLoopBackOff}}
        """
            ),
        ),
        "status.containerStatuses[0].state: a container is in one state at a time, got running, waiting",
    ),
    (
        "restartCount as text",
        docs(
            NAMESPACE,
            pod(
                status="""
        status:
          containerStatuses:
          - {name: app, restartCount: "5"}
        """
            ),
        ),
        'document 2 (Pod/web-1-abcde): status.containerStatuses[0].restartCount: expected an integer, got "5"',
    ),
    (
        "terminated without exit code",
        docs(
            NAMESPACE,
            pod(
                status="""
        status:
          containerStatuses:
          - name: app
            lastState: {terminated: {reason: Error}}
        """
            ),
        ),
        "status.containerStatuses[0].lastState.terminated.exitCode: Required value",
    ),
    (
        "unknown phase",
        docs(NAMESPACE, pod(status="status: {phase: Crashing}\n")),
        'status.phase: unknown phase "Crashing"',
    ),
    (
        "condition status as YAML bool",
        docs(NAMESPACE, DEPLOYMENT + "status:\n  conditions:\n  - {type: Available, status: True}\n"),
        'document 2 (Deployment/web): status.conditions[0].status: expected "True", "False" or "Unknown", got true',
    ),
    (
        "time that is not RFC 3339",
        docs(
            NAMESPACE,
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n  creationTimestamp: yesterday\n",
        ),
        'metadata.creationTimestamp: expected an RFC 3339 time such as "2026-01-01T11:55:00Z", got "yesterday"',
    ),
    (
        "HPA max below min",
        docs(
            NAMESPACE,
            """
        apiVersion: autoscaling/v2
        kind: HorizontalPodAutoscaler
        metadata: {name: web}
        spec:
          scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
          minReplicas: 3
          maxReplicas: 2
        """,
        ),
        "document 2 (HorizontalPodAutoscaler/web): spec.maxReplicas: Invalid value: 2: must be greater than or equal "
        "to `minReplicas`",
    ),
    (
        "CronJob without schedule",
        docs(
            NAMESPACE,
            """
        apiVersion: batch/v1
        kind: CronJob
        metadata: {name: self-heal-cpt}
        spec:
          jobTemplate:
            spec:
              template:
                spec:
                  restartPolicy: Never
                  containers: [{name: selfheal, image: "selfheal:1"}]
        """,
        ),
        "document 2 (CronJob/self-heal-cpt): spec.schedule: Required value",
    ),
    (
        "PDB with both bounds",
        docs(
            NAMESPACE,
            """
        apiVersion: policy/v1
        kind: PodDisruptionBudget
        metadata: {name: web}
        spec: {minAvailable: 2, maxUnavailable: 1, selector: {matchLabels: {app: web}}}
        """,
        ),
        "document 2 (PodDisruptionBudget/web): spec: minAvailable and maxUnavailable cannot be both set",
    ),
    (
        "ConfigMap data as number",
        docs(NAMESPACE, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {PORT: 8080}\n"),
        "document 2 (ConfigMap/cfg): data.PORT: expected a string, got 8080 (quote it)",
    ),
    (
        "error inside a List",
        docs(
            NAMESPACE,
            json.dumps(
                {
                    "apiVersion": "v1",
                    "kind": "List",
                    "items": [
                        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}},
                        {
                            "apiVersion": "apps/v1",
                            "kind": "Deployment",
                            "metadata": {"name": "web"},
                            "spec": {"replicas": "2"},
                        },
                    ],
                }
            ),
        ),
        'document 2, item 2 (Deployment/web): spec.replicas: expected an integer, got "2"',
    ),
    (
        "List without items",
        docs(NAMESPACE, "apiVersion: v1\nkind: List\nitems: {}\n"),
        "document 2 (List): items: expected a list, got a mapping",
    ),
]


@pytest.mark.parametrize(
    ("text", "expected"), [(t, e) for _, t, e in MALFORMED], ids=[i for i, _, _ in MALFORMED]
)
def test_a_malformed_scenario_fails_with_one_line_naming_document_and_field(text, expected):
    with pytest.raises(ScenarioError) as err:
        parse_scenario(text, source="bad.yaml")
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith("bad.yaml: document ")
    assert expected in message


def test_the_bundled_file_is_plain_yaml_whose_header_tells_the_story(ea):
    text = resolve("ea-plan-v5").read_text()
    plain = [d for d in yaml.safe_load_all(text) if d]  # what any other YAML reader (kubectl, CI) sees
    assert len(plain) == len(ea.scenario.objects) + len(ea.scenario.behaviors) + 1  # + its Scenario document
    assert ea.scenario.anchored_by == "capturedAt" and ea.scenario.captured_at == DEFAULT_EPOCH
    header = text[: text.index("\n---\n")]
    for name in ("cpt-worker", "cpt-optimizer", "cpt-reporting", "cpt-api", "cpt-debug", "cpt-ingest"):
        assert name in header
