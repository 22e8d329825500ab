"""Builders for worlds that have a past: Deployments that rolled out long before the sandbox's epoch.

`tests.kubesandbox.worlds.deployment` gives a Deployment the controllers roll out from scratch; its pods
all behave like their image. Some stories need what only a snapshot of a real cluster holds: a
revision that ran healthy for weeks, and then one of its pods started crash-looping a few minutes
ago. `rolled_out` writes such a Deployment as `kubectl get -o yaml` would show it (defaults, status,
its ReplicaSets, its pods). Pods given in a scenario keep their status until something replaces them
(README, sandbox section), so the crash-looping pod stays exactly as written until it is evicted.

    with healing_world(story(*rolled_out("web", image="shop/web:1", crashing=1),
                             image_behavior("shop/web:1", "CrashUntilRestarted")), tmp_path) as world:
        ...
"""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

from kubesandbox.resources.defaults import apply_defaults
from tests.kubesandbox.worlds import NS, deployment, namespace, write_world

Obj = dict[str, Any]

NODE = "sandbox-node-1"
CREATED = "2025-12-01T09:00:00Z"  # the first revision
UPDATED = "2025-12-15T10:00:00Z"  # the second revision, when there is one
CRASHING_SINCE = "2026-01-01T11:55:00Z"  # five minutes before the sandbox's epoch
UNREADY_SINCE = "2026-01-01T11:40:00Z"  # twenty minutes before it: longer than progressDeadlineSeconds


def story(*docs: Obj) -> str:
    """A scenario file for these documents (plus the `shop` Namespace), as `healing_world` takes it."""
    if not any(d.get("kind") == "Namespace" for d in docs):
        docs = (namespace(), *docs)
    return str(write_world(*docs))


def _hash(template: Obj) -> str:
    """A stable pod-template-hash look-alike (the real one is FNV of the template; any stable value does)."""
    digest = hashlib.sha256(json.dumps(template, sort_keys=True).encode()).digest()
    alphabet = "bcdfghjklmnpqrstvwxz2456789"
    return "".join(alphabet[b % len(alphabet)] for b in digest[:10])


def _owner(kind: str, name: str) -> list[Obj]:
    return [{"apiVersion": "apps/v1", "kind": kind, "name": name, "controller": True, "blockOwnerDeletion": True}]


def _running_status(image: str, started: str) -> Obj:
    return {
        "phase": "Running", "hostIP": "172.18.0.2", "startTime": started,
        "conditions": [
            {"type": "Initialized", "status": "True", "lastProbeTime": None, "lastTransitionTime": started},
            {"type": "Ready", "status": "True", "lastProbeTime": None, "lastTransitionTime": started},
            {"type": "ContainersReady", "status": "True", "lastProbeTime": None, "lastTransitionTime": started},
            {"type": "PodScheduled", "status": "True", "lastProbeTime": None, "lastTransitionTime": started},
        ],
        "containerStatuses": [{"name": "app", "image": image, "ready": True, "restartCount": 0, "started": True,
                               "state": {"running": {"startedAt": started}}, "lastState": {}}],
    }


def _unready_status(image: str, started: str) -> Obj:
    """Running, but failing its readiness probe since UNREADY_SINCE (a deadlock no container restart sees)."""
    status = _running_status(image, started)
    for cond in status["conditions"]:
        if cond["type"] in ("Ready", "ContainersReady"):
            cond.update(status="False", reason="ContainersNotReady", lastTransitionTime=UNREADY_SINCE,
                        message="containers with unready status: [app]")
    status["containerStatuses"][0]["ready"] = False
    return status


def _crash_loop_status(image: str, started: str, pod_ref: str, restarts: int) -> Obj:
    """What the kubelet reports for a container that keeps exiting 1: waiting in CrashLoopBackOff."""
    unready = {"status": "False", "reason": "ContainersNotReady", "message": "containers with unready status: [app]",
               "lastProbeTime": None, "lastTransitionTime": CRASHING_SINCE}
    return {
        "phase": "Running", "hostIP": "172.18.0.2", "startTime": started,
        "conditions": [
            {"type": "Initialized", "status": "True", "lastProbeTime": None, "lastTransitionTime": started},
            {"type": "Ready", **unready},
            {"type": "ContainersReady", **unready},
            {"type": "PodScheduled", "status": "True", "lastProbeTime": None, "lastTransitionTime": started},
        ],
        "containerStatuses": [{
            "name": "app", "image": image, "ready": False, "restartCount": restarts, "started": False,
            "state": {"waiting": {"reason": "CrashLoopBackOff",
                                  "message": f"back-off 2m40s restarting failed container=app pod={pod_ref}"}},
            "lastState": {"terminated": {"exitCode": 1, "reason": "Error", "startedAt": "2026-01-01T11:58:59Z",
                                         "finishedAt": "2026-01-01T11:59:00Z"}},
        }],
    }


def _replicaset(dep: Obj, image: str, revision: int, replicas: int, created: str) -> Obj:
    template = copy.deepcopy(dep["spec"]["template"])
    template["spec"]["containers"][0]["image"] = image
    pod_hash = _hash(template)
    template["metadata"]["labels"] = {**template["metadata"]["labels"], "pod-template-hash": pod_hash}
    name = dep["metadata"]["name"]
    status: Obj = {"replicas": replicas, "observedGeneration": 1}
    if replicas:
        status.update(fullyLabeledReplicas=replicas, readyReplicas=replicas, availableReplicas=replicas)
    return {
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": f"{name}-{pod_hash}", "namespace": dep["metadata"]["namespace"],
                     "labels": dict(template["metadata"]["labels"]), "creationTimestamp": created,
                     "annotations": {"deployment.kubernetes.io/desired-replicas": str(dep["spec"]["replicas"]),
                                     "deployment.kubernetes.io/max-replicas": str(dep["spec"]["replicas"] + 1),
                                     "deployment.kubernetes.io/revision": str(revision)},
                     "ownerReferences": _owner("Deployment", name)},
        "spec": {"replicas": replicas,
                 "selector": {"matchLabels": {**dep["spec"]["selector"]["matchLabels"],
                                              "pod-template-hash": pod_hash}},
                 "template": template},
        "status": status,
    }


def _pod(rs: Obj, index: int, state: str, annotations: dict[str, str]) -> Obj:
    name = f"{rs['metadata']['name']}-{_hash({'pod': index})[:5]}"
    spec = copy.deepcopy(rs["spec"]["template"]["spec"])
    spec["nodeName"] = NODE
    image = spec["containers"][0]["image"]
    started = rs["metadata"]["creationTimestamp"]
    pod: Obj = {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": rs["metadata"]["namespace"],
                     "generateName": f"{rs['metadata']['name']}-",
                     "labels": dict(rs["spec"]["template"]["metadata"]["labels"]),
                     "annotations": dict(annotations), "creationTimestamp": started,
                     "ownerReferences": _owner("ReplicaSet", rs["metadata"]["name"])},
        "spec": spec,
    }
    apply_defaults(pod)
    ref = f"{name}_{rs['metadata']['namespace']}"
    if state == "crashing":
        pod["status"] = _crash_loop_status(image, started, ref, 6)
    elif state == "unready":
        pod["status"] = _unready_status(image, started)
    else:
        pod["status"] = _running_status(image, started)
    return pod


def rolled_out(name: str, *, image: str, replicas: int = 4, crashing: int = 0, unready: int = 0,
               previous_image: str | None = None, ns: str = NS, annotations: dict[str, str] | None = None,
               pod_annotations: dict[str, str] | None = None) -> list[Obj]:
    """A Deployment whose rollout of `image` completed long ago; its last `crashing` pods crash-loop (exit 1)
    since shortly before the epoch, the `unready` pods before them run but have failed their readiness
    probe since UNREADY_SINCE. With `previous_image`, revision 1 ran that image and revision 2 (the current
    one, rolled out on UPDATED) runs `image`; the old ReplicaSet is kept at 0 replicas, as history."""
    dep = apply_defaults(deployment(name, image=image, replicas=replicas, ns=ns, annotations=annotations,
                                    max_surge="25%", max_unavailable="25%"))
    revisions = [(previous_image, CREATED), (image, UPDATED)] if previous_image else [(image, CREATED)]
    replicasets = [_replicaset(dep, img, i + 1, replicas if i == len(revisions) - 1 else 0, created)
                   for i, (img, created) in enumerate(revisions)]
    current = replicasets[-1]
    states = ["running"] * (replicas - crashing - unready) + ["unready"] * unready + ["crashing"] * crashing
    pods = [_pod(current, i, state, pod_annotations or {}) for i, state in enumerate(states)]
    available = replicas - crashing - unready
    max_unavailable = replicas // 4  # 25%, rounded down as the controller resolves it
    dep["metadata"].update(creationTimestamp=CREATED, generation=len(revisions))
    dep["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = str(len(revisions))
    enough = available >= replicas - max_unavailable
    dep["status"] = {
        "observedGeneration": len(revisions), "replicas": replicas, "updatedReplicas": replicas,
        "readyReplicas": available, "availableReplicas": available,
        **({"unavailableReplicas": replicas - available} if available < replicas else {}),
        "conditions": [
            {"type": "Available", "status": "True" if enough else "False",
             "reason": "MinimumReplicasAvailable" if enough else "MinimumReplicasUnavailable",
             "message": "Deployment has minimum availability." if enough
             else "Deployment does not have minimum availability.",
             "lastUpdateTime": CREATED if enough else CRASHING_SINCE,
             "lastTransitionTime": CREATED if enough else CRASHING_SINCE},
            {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable",
             "message": f'ReplicaSet "{current["metadata"]["name"]}" has successfully progressed.',
             "lastUpdateTime": revisions[-1][1], "lastTransitionTime": CREATED},
        ],
    }
    return [dep, *replicasets, *pods]


def configmap(name: str, data: dict[str, str], *, ns: str = NS) -> Obj:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": ns}, "data": data}


def hpa(name: str, *, target: str, min_replicas: int, max_replicas: int, ns: str = NS) -> Obj:
    return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": target},
                     "minReplicas": min_replicas, "maxReplicas": max_replicas,
                     "metrics": [{"type": "Resource", "resource": {
                         "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}]}}


def with_probes(dep: Obj) -> Obj:
    """The Deployment with an HTTP liveness and readiness probe on every container."""
    dep = copy.deepcopy(dep)
    for c in dep["spec"]["template"]["spec"]["containers"]:
        c["livenessProbe"] = {"httpGet": {"path": "/healthz", "port": 8080}}
        c["readinessProbe"] = {"httpGet": {"path": "/ready", "port": 8080}}
    return dep


def applied_with_kubectl(dep: Obj) -> Obj:
    """The Deployment as `kubectl apply` leaves it: the manifest recorded in last-applied-configuration."""
    out = copy.deepcopy(dep)
    out["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] = (
        json.dumps(dep, separators=(",", ":"), sort_keys=True) + "\n")
    return out


def workdir(tmp_path: Path, name: str) -> Path:
    """A separate working directory (history, risk file) per world when a test builds two."""
    path = tmp_path / name
    path.mkdir()
    return path


# --- reading what a pass did ------------------------------------------------------------------------


def decisions(result: Any) -> dict[tuple[str, str], tuple[str, str]]:
    """{(action, target name): (result, reason)} of a PassResult's outcomes."""
    return {(o.action.action.value, o.action.target.name): (o.result.value, o.reason) for o in result.outcomes}


def applied(result: Any) -> set[tuple[str, str]]:
    return {key for key, (res, _) in decisions(result).items() if res == "applied"}


def kube_json(world: Any, *args: str) -> Any:
    """`kubectl get ... -o json`, parsed: what the referee sees."""
    return json.loads(world.kubectl("get", *args, "-o", "json"))


def pod_names(world: Any, selector: str) -> set[str]:
    return {p["metadata"]["name"] for p in kube_json(world, "pods", "-l", selector)["items"]}
