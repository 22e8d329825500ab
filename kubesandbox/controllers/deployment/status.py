"""The Deployment's status and its `Available` / `Progressing` conditions (sync.go, progress.go).

`calculate_status` sums the ReplicaSets into the replica counts and sets `Available` against the
minimum availability the rolling update also honours. `sync_rollout_status` adds what a rollout
reports on top: `Progressing` with the real reasons and messages (new ReplicaSet available, still
progressing, or past `progressDeadlineSeconds`), and, like `requeueStuckDeployment`, asks to be synced
again just after the deadline so a stuck rollout times out even when nothing else changes.
"""

from __future__ import annotations

import copy
from typing import Any

from kubesandbox.controllers.deployment.sync_context import SyncContext
from kubesandbox.controllers.deployment_util import (
    MIN_AVAILABLE,
    MIN_UNAVAILABLE,
    NEW_RS_AVAILABLE,
    REPLICASET_UPDATED,
    TIMED_OUT,
    deployment_complete,
    deployment_progressing,
    deployment_timed_out,
    max_unavailable,
    new_condition,
    progress_deadline,
    remove_condition,
    replicas,
    rs_replicas,
    set_condition,
    status_int,
)
from kubesandbox.controllers.util import get_condition, parse_ts
from kubesandbox.store import Obj

_STATUS_ORDER = (
    "observedGeneration",
    "replicas",
    "updatedReplicas",
    "readyReplicas",
    "availableReplicas",
    "unavailableReplicas",
    "terminatingReplicas",
    "conditions",
    "collisionCount",
)


def min_available(d: Obj) -> int:
    """`replicas - maxUnavailable`: what `Available` requires and a rolling update never goes below."""
    return replicas(d) - max_unavailable(d)


def calculate_status(s: SyncContext, old: list[Obj], new_rs: Obj | None) -> dict[str, Any]:
    """`calculateStatus`: counts summed over the ReplicaSets, `Available` set, other conditions kept."""
    d = s.d
    all_rss = [rs for rs in [*old, new_rs] if rs is not None]
    available = sum(status_int(rs, "availableReplicas") for rs in all_rss)
    total = sum(rs_replicas(rs) for rs in all_rss)
    prev = d.get("status") or {}
    values = {
        "observedGeneration": s.generation,
        "replicas": sum(status_int(rs, "replicas") for rs in all_rss),
        "updatedReplicas": status_int(new_rs, "replicas"),
        "readyReplicas": sum(status_int(rs, "readyReplicas") for rs in all_rss),
        "availableReplicas": available,
        "unavailableReplicas": max(total - available, 0),
    }
    status: dict[str, Any] = {k: v for k, v in values.items() if v}
    if all("terminatingReplicas" in (rs.get("status") or {}) for rs in all_rss):  # nil unless every RS says
        status["terminatingReplicas"] = sum(status_int(rs, "terminatingReplicas") for rs in all_rss)
    if prev.get("conditions"):
        status["conditions"] = copy.deepcopy(prev["conditions"])
    if available >= min_available(d):
        set_condition(
            status,
            new_condition("Available", "True", MIN_AVAILABLE, "Deployment has minimum availability.", s.now),
        )
    else:
        set_condition(
            status,
            new_condition(
                "Available", "False", MIN_UNAVAILABLE, "Deployment does not have minimum availability.", s.now
            ),
        )
    if prev.get("collisionCount") is not None:
        status["collisionCount"] = prev["collisionCount"]
    return _ordered_status(status)


def sync_deployment_status(s: SyncContext, old: list[Obj], new_rs: Obj | None) -> None:
    """`syncDeploymentStatus`: the status without rollout progress (scaling, paused, being deleted)."""
    s.update_status(calculate_status(s, old, new_rs))


def sync_rollout_status(s: SyncContext, old: list[Obj], new_rs: Obj | None) -> None:
    """`syncRolloutStatus`: the status plus the `Progressing` condition of a rollout."""
    d = s.d
    new = calculate_status(s, old, new_rs)
    pds = progress_deadline(d)
    if pds is None:
        remove_condition(new, "Progressing")
    current = get_condition((d.get("status") or {}).get("conditions"), "Progressing")
    complete = (
        int(new.get("replicas") or 0) == int(new.get("updatedReplicas") or 0)
        and current is not None
        and current.get("reason") == NEW_RS_AVAILABLE
    )
    subject = (
        f'ReplicaSet "{new_rs["metadata"]["name"]}"'
        if new_rs is not None
        else f'Deployment "{d["metadata"]["name"]}"'
    )
    if pds is not None and not complete:
        if deployment_complete(d, new):
            set_condition(
                new,
                new_condition(
                    "Progressing", "True", NEW_RS_AVAILABLE, f"{subject} has successfully progressed.", s.now
                ),
            )
        elif deployment_progressing(d, new):
            cond = new_condition(
                "Progressing", "True", REPLICASET_UPDATED, f"{subject} is progressing.", s.now
            )
            if current is not None:
                if current.get("status") == "True":
                    cond["lastTransitionTime"] = current.get("lastTransitionTime", cond["lastTransitionTime"])
                remove_condition(new, "Progressing")
            set_condition(new, cond)
        elif deployment_timed_out(d, new, s.now):
            set_condition(
                new,
                new_condition(
                    "Progressing", "False", TIMED_OUT, f"{subject} has timed out progressing.", s.now
                ),
            )
    new = _ordered_status(new)
    s.update_status(new)
    _requeue_stuck(s, new)


def _requeue_stuck(s: SyncContext, new: dict[str, Any]) -> None:
    """`requeueStuckDeployment`: wake up one second after the progress deadline of a rollout under way."""
    d = s.d
    pds = progress_deadline(d)
    cond = get_condition(new.get("conditions"), "Progressing")
    if (
        pds is None
        or cond is None
        or deployment_complete(d, new)
        or cond.get("reason") in (TIMED_OUT, NEW_RS_AVAILABLE)
    ):
        return
    last = parse_ts(cond.get("lastUpdateTime"))
    if last is not None:
        s.wake_at(last + pds + 1)


def _ordered_status(status: dict[str, Any]) -> dict[str, Any]:
    """The status keys in the API's field order (what a `kubectl get -o yaml` reader expects to see)."""
    out = {k: status[k] for k in _STATUS_ORDER if k in status}
    out.update({k: v for k, v in status.items() if k not in out})
    return out
