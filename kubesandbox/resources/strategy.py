"""Per-resource rules of the API server's registry strategies that the controllers apply too.

Kept in the bottom layer because both sides need them: the API server when a Job is created or a
pod deleted, the Job controller and the eviction path when they do the same on their own.
"""

from __future__ import annotations

import copy
from typing import Any

from kubesandbox.resources.quantity import qos_class

Obj = dict[str, Any]

CONTROLLER_UID = "batch.kubernetes.io/controller-uid"
JOB_NAME = "batch.kubernetes.io/job-name"
LEGACY_CONTROLLER_UID = "controller-uid"
LEGACY_JOB_NAME = "job-name"


def generate_selector(job: Obj) -> bool:
    """What the API server's job strategy does on create without manualSelector; True if changed."""
    spec = job.setdefault("spec", {})
    if spec.get("manualSelector"):
        return False
    spec.setdefault("manualSelector", False)  # the strategy says so explicitly (nil becomes false)
    m = job["metadata"]
    before = copy.deepcopy(spec)
    tmeta = spec.setdefault("template", {}).setdefault("metadata", {})
    labels = tmeta.get("labels") or {}
    for key in (LEGACY_JOB_NAME, JOB_NAME):
        labels.setdefault(key, m["name"])
    for key in (LEGACY_CONTROLLER_UID, CONTROLLER_UID):
        labels.setdefault(key, m["uid"])
    tmeta["labels"] = labels
    sel = spec.get("selector") or {}
    sel.setdefault("matchLabels", {}).setdefault(CONTROLLER_UID, m["uid"])
    spec["selector"] = sel
    changed = spec != before
    if not m.get("labels"):
        m["labels"] = dict(labels)
        changed = True
    return changed


def grace_period(pod: Obj, requested: int | None = None) -> int:
    """The pod strategy's `CheckGracefulDelete`: the grace period a DELETE of this pod gets.

    The request's gracePeriodSeconds, else spec.terminationGracePeriodSeconds, else 30; 0 for
    a pod never scheduled to a node or already terminal (Succeeded/Failed).
    """
    spec = pod.get("spec") or {}
    if requested is not None:
        period = int(requested)
    else:
        tgps = spec.get("terminationGracePeriodSeconds")
        period = int(tgps) if isinstance(tgps, int) and not isinstance(tgps, bool) else 30
    if not spec.get("nodeName"):
        period = 0
    if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
        period = 0
    return max(period, 0)


# The status each registry strategy's PrepareForCreate leaves (whatever the request said), as Go serializes
# the zero value: non-omitempty fields show, a nil slice is null.
ZERO_STATUS: dict[str, Obj] = {
    "Deployment": {},
    "ReplicaSet": {"replicas": 0},
    "StatefulSet": {"replicas": 0, "availableReplicas": 0},
    "DaemonSet": {
        "currentNumberScheduled": 0,
        "numberMisscheduled": 0,
        "desiredNumberScheduled": 0,
        "numberReady": 0,
    },
    "Job": {},
    "CronJob": {},
    "HorizontalPodAutoscaler": {"desiredReplicas": 0, "currentMetrics": None},
    "PodDisruptionBudget": {
        "disruptionsAllowed": 0,
        "currentHealthy": 0,
        "desiredHealthy": 0,
        "expectedPods": 0,
    },
    "Service": {"loadBalancer": {}},
    "Namespace": {"phase": "Active"},
}


def prepare_for_create(obj: Obj) -> None:
    """`PrepareForCreate` of the kind's registry strategy: a created object's status is the server's, not the
    client's (a pod starts `Pending` with its QoS class)."""
    kind = obj.get("kind", "")
    if kind == "Pod":
        obj["status"] = {"phase": "Pending", "qosClass": qos_class(obj.get("spec") or {})}
    elif kind in ZERO_STATUS:
        obj["status"] = copy.deepcopy(ZERO_STATUS[kind])
