"""Scaling without a rollout (sync.go `sync` / `scale`): a replicas change, or a paused Deployment.

When `spec.replicas` changes while ReplicaSets still carry the old desired-replicas annotation
(`isScalingEvent`), or while the Deployment is paused, the controller resizes what exists instead of
rolling: the only active ReplicaSet takes the whole change; a saturated new ReplicaSet lets the old ones
go to zero; otherwise, mid-rollout, the change is spread proportionally over the active ReplicaSets
(`GetProportion`), the remainder going to the biggest, so a rollout in progress keeps its shape.
"""

from __future__ import annotations

import functools
import math

from kubesandbox.controllers.deployment.revisions import cleanup, get_all
from kubesandbox.controllers.deployment.status import sync_deployment_status
from kubesandbox.controllers.deployment.sync_context import SyncContext
from kubesandbox.controllers.deployment_util import (
    DESIRED_REPLICAS,
    MAX_REPLICAS,
    active,
    by_size_newer,
    by_size_older,
    is_rolling,
    max_surge,
    replicas,
    rs_replicas,
    sort_by_creation,
    spec_of,
    status_int,
)
from kubesandbox.store import Obj


def _annotated(rs: Obj, key: str) -> int | None:
    """An integer annotation the controller keeps on a ReplicaSet; None when missing or not a number."""
    value = (rs["metadata"].get("annotations") or {}).get(key)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def is_scaling_event(s: SyncContext, rs_list: list[Obj]) -> bool:
    """`isScalingEvent`: an active ReplicaSet was annotated for a different `spec.replicas`."""
    new_rs, old = get_all(s, rs_list, False)
    for rs in active([*old, new_rs]):
        desired = _annotated(rs, DESIRED_REPLICAS)
        if desired is not None and desired != replicas(s.d):
            return True
    return False


def sync(s: SyncContext, rs_list: list[Obj]) -> None:
    """`sync`: scale, prune the history of a paused Deployment, report the status."""
    new_rs, old = get_all(s, rs_list, False)
    _scale(s, new_rs, old)
    if spec_of(s.d).get("paused"):
        cleanup(s, old)
    sync_deployment_status(s, old, new_rs)


def _scale(s: SyncContext, new_rs: Obj | None, old: list[Obj]) -> None:
    """`scale`."""
    d = s.d
    latest = _active_or_latest(new_rs, old)
    if latest is not None:
        if rs_replicas(latest) != replicas(d):
            s.scale_rs_and_record(latest, replicas(d))
        return
    if new_rs is not None and _is_saturated(s, new_rs):
        for rs in active(list(old)):
            s.scale_rs_and_record(rs, 0)
        return
    if not is_rolling(d):
        return
    all_rss = active([*old, new_rs])
    total = sum(rs_replicas(rs) for rs in all_rss)
    allowed = replicas(d) + max_surge(d) if replicas(d) > 0 else 0
    to_add = allowed - total
    op = ""
    if to_add > 0:
        all_rss = sorted(all_rss, key=functools.cmp_to_key(by_size_newer))
        op = "up"
    elif to_add < 0:
        all_rss = sorted(all_rss, key=functools.cmp_to_key(by_size_older))
        op = "down"
    added = 0
    sizes: dict[str, int] = {}
    for rs in all_rss:
        name = rs["metadata"]["name"]
        if to_add != 0:
            prop = _proportion(s, rs, to_add, added)
            sizes[name] = rs_replicas(rs) + prop
            added += prop
        else:
            sizes[name] = rs_replicas(rs)
    for i, rs in enumerate(all_rss):
        name = rs["metadata"]["name"]
        if i == 0 and to_add != 0:
            sizes[name] = max(sizes[name] + to_add - added, 0)
        s.scale_rs(rs, sizes[name], op)


def _proportion(s: SyncContext, rs: Obj, to_add: int, added: int) -> int:
    """`GetProportion` / `getReplicaSetFraction`."""
    d = s.d
    if rs_replicas(rs) == 0 or to_add == 0 or to_add == added:
        return 0
    if replicas(d) == 0:
        fraction = -rs_replicas(rs)
    else:
        deployment_replicas = replicas(d) + max_surge(d)
        annotated = _annotated(rs, MAX_REPLICAS)
        if annotated is None:
            annotated = int((d.get("status") or {}).get("replicas") or 0)
        if annotated == 0:
            fraction = 0
        else:
            size = rs_replicas(rs) * deployment_replicas / annotated
            fraction = math.floor(size + 0.5) - rs_replicas(rs)
    allowed = to_add - added
    return min(fraction, allowed) if to_add > 0 else max(fraction, allowed)


def _active_or_latest(new_rs: Obj | None, old: list[Obj]) -> Obj | None:
    """`FindActiveOrLatest`: the one active ReplicaSet, or the newest when none is active."""
    if new_rs is None and not old:
        return None
    old_sorted = list(reversed(sort_by_creation(old)))
    acts = active([*old_sorted, new_rs])
    if not acts:
        return new_rs if new_rs is not None else old_sorted[0]
    if len(acts) == 1:
        return acts[0]
    return None


def _is_saturated(s: SyncContext, rs: Obj) -> bool:
    """`IsSaturated`: the new ReplicaSet has all the replicas, all of them available."""
    desired = _annotated(rs, DESIRED_REPLICAS)
    r = replicas(s.d)
    return (
        desired is not None
        and rs_replicas(rs) == r
        and desired == r
        and status_int(rs, "availableReplicas") == r
    )
