"""Builders for controller stories: a Store, a frozen Clock and a ControllerManager, no HTTP.

    world = World(behaviors={"shop/web:2": "CrashLoop"})
    world.create(make_deployment("web", "shop/web:1", replicas=3))
    world.advance(10)
    assert world.deployment("web")["status"]["availableReplicas"] == 3
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from kubesandbox.controllers import ControllerManager
from kubesandbox.resources import BY_KIND_ONLY, ResourceType
from kubesandbox.resources.clock import Clock
from kubesandbox.resources.defaults import apply_defaults
from kubesandbox.store import Store

Obj = dict[str, Any]
NS = "shop"
NODE = "sandbox-node-1"


def make_namespace(name: str = NS) -> Obj:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def make_container(image: str, *, name: str = "app", readiness_delay: int | None = None,
                   env: list[Obj] | None = None) -> Obj:
    c: Obj = {"name": name, "image": image}
    if readiness_delay is not None:
        c["readinessProbe"] = {"httpGet": {"path": "/healthz", "port": 8080}, "initialDelaySeconds": readiness_delay}
    if env:
        c["env"] = env
    return c


def make_deployment(name: str, image: str, replicas: int = 3, *, ns: str = NS, max_surge: int | str | None = None,
                    max_unavailable: int | str | None = None, recreate: bool = False, paused: bool = False,
                    min_ready_seconds: int | None = None, progress_deadline: int | None = None,
                    revision_history_limit: int | None = None, annotations: Mapping[str, str] | None = None,
                    readiness_delay: int | None = None, init_image: str | None = None) -> Obj:
    labels = {"app": name}
    spec: Obj = {"replicas": replicas, "selector": {"matchLabels": dict(labels)},
                 "template": {"metadata": {"labels": dict(labels)},
                              "spec": {"containers": [make_container(image, readiness_delay=readiness_delay)]}}}
    if init_image is not None:
        spec["template"]["spec"]["initContainers"] = [make_container(init_image, name="init")]
    if recreate:
        spec["strategy"] = {"type": "Recreate"}
    elif max_surge is not None or max_unavailable is not None:
        ru: Obj = {}
        if max_surge is not None:
            ru["maxSurge"] = max_surge
        if max_unavailable is not None:
            ru["maxUnavailable"] = max_unavailable
        spec["strategy"] = {"type": "RollingUpdate", "rollingUpdate": ru}
    if paused:
        spec["paused"] = True
    if min_ready_seconds is not None:
        spec["minReadySeconds"] = min_ready_seconds
    if progress_deadline is not None:
        spec["progressDeadlineSeconds"] = progress_deadline
    if revision_history_limit is not None:
        spec["revisionHistoryLimit"] = revision_history_limit
    meta: Obj = {"name": name, "namespace": ns, "labels": dict(labels)}
    if annotations:
        meta["annotations"] = dict(annotations)
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta, "spec": spec}


def ready_condition(status: str, at: str) -> list[Obj]:
    return [{"type": t, "status": status, "lastProbeTime": None, "lastTransitionTime": at}
            for t in ("Initialized", "Ready", "ContainersReady", "PodScheduled")]


def make_pod(name: str, image: str = "shop/web:1", *, ns: str = NS, labels: Mapping[str, str] | None = None,
             owner: Obj | None = None, ready: bool = True, phase: str = "Running", node: str | None = NODE,
             restart_count: int = 0, started_at: str = "2026-01-01T11:00:00Z", status: Obj | None = None) -> Obj:
    """A pod as a scenario gives it: spec plus a status the kubelet will not touch (frozen)."""
    meta: Obj = {"name": name, "namespace": ns, "labels": dict(labels or {"app": "web"}),
                 "creationTimestamp": started_at}
    if owner is not None:
        meta["ownerReferences"] = [{"apiVersion": owner["apiVersion"], "kind": owner["kind"],
                                    "name": owner["metadata"]["name"], "uid": owner["metadata"]["uid"],
                                    "controller": True, "blockOwnerDeletion": True}]
    spec: Obj = {"containers": [make_container(image)]}
    if node:
        spec["nodeName"] = node
    if status is None:
        status = {"phase": phase, "conditions": ready_condition("True" if ready else "False", started_at),
                  "hostIP": "172.18.0.2", "podIP": "10.244.9.9", "startTime": started_at,
                  "containerStatuses": [{"name": "app", "image": image, "imageID": "", "ready": ready,
                                         "restartCount": restart_count, "started": ready,
                                         "state": {"running": {"startedAt": started_at}}, "lastState": {}}],
                  "qosClass": "BestEffort"}
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec, "status": status}
    apply_defaults(pod)
    return pod


def make_pdb(name: str, selector: Mapping[str, str], *, min_available: int | str | None = None,
             max_unavailable: int | str | None = None, policy: str | None = None, ns: str = NS) -> Obj:
    spec: Obj = {"selector": {"matchLabels": dict(selector)}}
    if min_available is not None:
        spec["minAvailable"] = min_available
    if max_unavailable is not None:
        spec["maxUnavailable"] = max_unavailable
    if policy is not None:
        spec["unhealthyPodEvictionPolicy"] = policy
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": name, "namespace": ns},
            "spec": spec}


def make_hpa(name: str, target: str, *, min_replicas: int = 1, max_replicas: int = 5, ns: str = NS) -> Obj:
    return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": target},
                     "minReplicas": min_replicas, "maxReplicas": max_replicas,
                     "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {
                         "type": "Utilization", "averageUtilization": 70}}}]}}


def make_cronjob(name: str, image: str, *, ns: str = NS, restart_policy: str = "Never",
                 backoff_limit: int | None = None) -> Obj:
    job_spec: Obj = {"template": {"spec": {"restartPolicy": restart_policy,
                                           "containers": [make_container(image, name="task")]}}}
    if backoff_limit is not None:
        job_spec["backoffLimit"] = backoff_limit
    return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": name, "namespace": ns},
            "spec": {"schedule": "0 3 * * *", "jobTemplate": {"spec": job_spec}}}


def job_from_cronjob(cronjob: Obj, name: str) -> Obj:
    """What `kubectl create job <name> --from=cronjob/<cj>` posts (spec from the jobTemplate)."""
    cj_meta = cronjob["metadata"]
    return {"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": name, "namespace": cj_meta["namespace"],
                         "annotations": {"cronjob.kubernetes.io/instantiate": "manual"},
                         "ownerReferences": [{"apiVersion": "batch/v1", "kind": "CronJob", "name": cj_meta["name"],
                                              "uid": cj_meta["uid"], "controller": True}]},
            "spec": copy.deepcopy(cronjob["spec"]["jobTemplate"]["spec"])}


def rt(kind: str) -> ResourceType:
    return BY_KIND_ONLY[kind]


class World:
    """A store with scenario objects loaded (pods among them frozen) and controllers over it."""

    def __init__(self, behaviors: Mapping[str, str] | None = None, scenario: Iterable[Obj] = (),
                 ns: str = NS, seed: int = 0) -> None:
        self.clock = Clock()
        self.start = self.clock.now()
        self.store = Store(self.clock, seed=seed)
        self.ns = ns
        self.store.load(rt("Namespace"), make_namespace(ns))
        frozen = []
        for obj in scenario:
            loaded = self.store.load(rt(obj["kind"]), obj)
            if obj["kind"] == "Pod":
                frozen.append(loaded["metadata"]["uid"])
        self.manager = ControllerManager(self.store, dict(behaviors or {}), frozen)

    # -- arranging -------------------------------------------------------------------------------
    def create(self, obj: Obj) -> Obj:
        """A create through the API: defaults applied, uid and timestamps assigned."""
        obj = copy.deepcopy(obj)
        apply_defaults(obj)
        return self.store.create(rt(obj["kind"]), obj)

    def patch(self, kind: str, name: str, fn: Any) -> Obj:
        return self.store.mutate(rt(kind), self.ns, name, fn)

    def delete(self, kind: str, name: str, **kwargs: Any) -> Obj:
        return self.store.delete(rt(kind), self.ns, name, **kwargs)

    def advance(self, seconds: float) -> None:
        self.manager.advance(seconds)
        assert not self.manager.env.errors, list(self.manager.env.errors)

    def elapsed(self) -> float:
        return (self.clock.now() - self.start).total_seconds()

    def step(self, seconds: int) -> Iterable[int]:
        """Advance one second at a time, yielding the elapsed seconds (for per-second invariants)."""
        for t in range(1, seconds + 1):
            self.advance(1)
            yield t

    # -- observing -------------------------------------------------------------------------------
    def get(self, kind: str, name: str) -> Obj:
        return self.store.get(rt(kind), self.ns, name)

    def find(self, kind: str, name: str) -> Obj | None:
        obj = self.store.peek(rt(kind), self.ns, name)
        return copy.deepcopy(obj) if obj is not None else None

    def deployment(self, name: str) -> Obj:
        return self.get("Deployment", name)

    def all(self, kind: str, label_selector: str | None = None) -> list[Obj]:
        return self.store.list(rt(kind), self.ns, label_selector)

    def pods(self, label_selector: str | None = None, *, terminating: bool = False) -> list[Obj]:
        return [p for p in self.all("Pod", label_selector)
                if bool(p["metadata"].get("deletionTimestamp")) == terminating]

    def replicasets(self, deployment: str) -> list[Obj]:
        return sorted((rs for rs in self.all("ReplicaSet") if rs["metadata"]["name"].startswith(deployment + "-")),
                      key=lambda rs: int(rs["metadata"]["annotations"].get("deployment.kubernetes.io/revision", 0)))

    def events(self, reason: str | None = None, involved: str | None = None) -> list[Obj]:
        return [e for e in self.all("Event") if (reason is None or e["reason"] == reason)
                and (involved is None or e["involvedObject"]["name"] == involved)]

    def condition(self, obj: Obj, type_: str) -> Obj:
        return next(c for c in obj["status"]["conditions"] if c["type"] == type_)


def make_bare_pod(name: str, image: str, *, ns: str = NS, restart_policy: str = "Always",
                  env: list[Obj] | None = None, init_image: str | None = None,
                  readiness_delay: int | None = None) -> Obj:
    """A pod as `kubectl run` creates it: no node, no status; the kubelet takes it from there."""
    spec: Obj = {"restartPolicy": restart_policy,
                 "containers": [make_container(image, env=env, readiness_delay=readiness_delay)]}
    if init_image is not None:
        spec["initContainers"] = [make_container(init_image, name="init")]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns, "labels": {"run": name}},
            "spec": spec}


def make_replicaset(name: str, image: str, replicas: int, *, uid: str, ns: str = NS,
                    labels: Mapping[str, str] | None = None, owner: Obj | None = None,
                    revision: str | None = None) -> Obj:
    """A scenario ReplicaSet with a fixed uid, so scenario pods can name it as their owner."""
    labels = dict(labels or {"app": "web"})
    meta: Obj = {"name": name, "namespace": ns, "uid": uid, "labels": dict(labels)}
    if owner is not None:
        meta["ownerReferences"] = [{"apiVersion": owner["apiVersion"], "kind": owner["kind"],
                                    "name": owner["metadata"]["name"], "uid": owner["metadata"]["uid"],
                                    "controller": True, "blockOwnerDeletion": True}]
    if revision is not None:
        meta["annotations"] = {"deployment.kubernetes.io/revision": revision}
    rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": meta,
          "spec": {"replicas": replicas, "selector": {"matchLabels": dict(labels)},
                   "template": {"metadata": {"labels": dict(labels)},
                                "spec": {"containers": [make_container(image)]}}}}
    apply_defaults(rs)
    return rs


def container_status(pod: Obj, name: str = "app", *, init: bool = False) -> Obj:
    field = "initContainerStatuses" if init else "containerStatuses"
    return next(c for c in pod["status"][field] if c["name"] == name)


def pod_condition(pod: Obj, type_: str) -> Obj:
    return next(c for c in pod["status"]["conditions"] if c["type"] == type_)
