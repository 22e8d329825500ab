"""Rolling out a new pod template: the RollingUpdate and Recreate strategies (rolling.go, recreate.go).

RollingUpdate grows the new ReplicaSet up to `replicas + maxSurge` pods in total and shrinks the old
ones while at least `replicas - maxUnavailable` stay available: unhealthy old pods go first
(`cleanupUnhealthyReplicas`), then the oldest ReplicaSets. Recreate scales every old ReplicaSet to
zero and waits until none of their pods runs before creating the new one at full size. Both prune the
revision history once the rollout is complete and report the rollout's status after each step.
"""

from __future__ import annotations

from kubesandbox.controllers.deployment.revisions import cleanup, get_all
from kubesandbox.controllers.deployment.status import min_available, sync_rollout_status
from kubesandbox.controllers.deployment.sync_context import SyncContext
from kubesandbox.controllers.deployment_util import (
    active,
    deployment_complete,
    new_rs_new_replicas,
    replicas,
    rs_replicas,
    sort_by_creation,
    status_int,
)
from kubesandbox.store import Obj


def _finish(s: SyncContext, old: list[Obj], new_rs: Obj | None) -> None:
    """The end of a rollout step that scaled nothing: prune history once complete, report the status."""
    if deployment_complete(s.d, s.d.get("status") or {}):
        cleanup(s, old)
    sync_rollout_status(s, old, new_rs)


# -- RollingUpdate ---------------------------------------------------------------------------------


def rollout_rolling(s: SyncContext, rs_list: list[Obj]) -> None:
    """`rolloutRolling`: one step (scale up, else scale down), then the status."""
    new_rs, old = get_all(s, rs_list, True)
    if new_rs is None:
        return
    all_rss: list[Obj | None] = [*old, new_rs]
    if _reconcile_new_rs(s, all_rss, new_rs) or _reconcile_old_rss(s, all_rss, active(list(old)), new_rs):
        sync_rollout_status(s, old, new_rs)
        return
    _finish(s, old, new_rs)


def _reconcile_new_rs(s: SyncContext, all_rss: list[Obj | None], new_rs: Obj) -> bool:
    """`reconcileNewReplicaSet`: down to `replicas` if above, else up as far as maxSurge allows."""
    r = replicas(s.d)
    if rs_replicas(new_rs) == r:
        return False
    if rs_replicas(new_rs) > r:
        return s.scale_rs_and_record(new_rs, r)[0]
    return s.scale_rs_and_record(new_rs, new_rs_new_replicas(s.d, all_rss, new_rs))[0]


def _reconcile_old_rss(s: SyncContext, all_rss: list[Obj | None], old: list[Obj], new_rs: Obj) -> bool:
    """`reconcileOldReplicaSets`: scale old ReplicaSets down within the availability budget."""
    old_count = sum(rs_replicas(rs) for rs in old)
    if old_count == 0:
        return False
    all_count = sum(rs_replicas(rs) for rs in all_rss if rs is not None)
    new_unavailable = rs_replicas(new_rs) - status_int(new_rs, "availableReplicas")
    max_scaled_down = all_count - min_available(s.d) - new_unavailable
    if max_scaled_down <= 0:
        return False
    old, cleaned = _cleanup_unhealthy(s, old, max_scaled_down)
    all_rss = [*old, new_rs]
    scaled = _scale_down_old_for_rolling(s, all_rss, old)
    return cleaned + scaled > 0


def _cleanup_unhealthy(s: SyncContext, old: list[Obj], max_cleanup: int) -> tuple[list[Obj], int]:
    """`cleanupUnhealthyReplicas`: drop old pods that are not available, oldest ReplicaSet first."""
    old = sort_by_creation(old)
    total = 0
    for i, rs in enumerate(old):
        if total >= max_cleanup:
            break
        if rs_replicas(rs) == 0 or rs_replicas(rs) == status_int(rs, "availableReplicas"):
            continue
        count = min(max_cleanup - total, rs_replicas(rs) - status_int(rs, "availableReplicas"))
        _, old[i] = s.scale_rs_and_record(rs, rs_replicas(rs) - count)
        total += count
    return old, total


def _scale_down_old_for_rolling(s: SyncContext, all_rss: list[Obj | None], old: list[Obj]) -> int:
    """`scaleDownOldReplicaSetsForRollingUpdate`: only what is available above the minimum."""
    available = sum(status_int(rs, "availableReplicas") for rs in all_rss if rs is not None)
    minimum = min_available(s.d)
    if available <= minimum:
        return 0
    total, target = 0, available - minimum
    for rs in sort_by_creation(old):
        if total >= target:
            break
        if rs_replicas(rs) == 0:
            continue
        count = min(rs_replicas(rs), target - total)
        s.scale_rs_and_record(rs, rs_replicas(rs) - count)
        total += count
    return total


# -- Recreate --------------------------------------------------------------------------------------


def rollout_recreate(s: SyncContext, rs_list: list[Obj]) -> None:
    """`rolloutRecreate`: old ReplicaSets to zero, wait for their pods to stop, then the new one."""
    d = s.d
    new_rs, old = get_all(s, rs_list, False)
    scaled_down = False
    for rs in active(list(old)):
        if s.scale_rs_and_record(rs, 0)[0]:
            scaled_down = True
    if scaled_down or _old_pods_running(s, old):
        sync_rollout_status(s, old, new_rs)
        return
    if new_rs is None:
        new_rs, old = get_all(s, rs_list, True)
    if new_rs is not None and rs_replicas(new_rs) != replicas(d):
        s.scale_rs_and_record(new_rs, replicas(d))
    _finish(s, old, new_rs)


def _old_pods_running(s: SyncContext, old: list[Obj]) -> bool:
    """`oldPodsRunning`: an old ReplicaSet still reports pods, or owns one not yet finished."""
    if sum(status_int(rs, "replicas") for rs in old) > 0:
        return True
    for rs in old:
        for pod in s.env.pods.owned_by(rs["metadata"]["uid"]):
            if (pod.get("status") or {}).get("phase") not in ("Failed", "Succeeded"):
                return True
    return False
