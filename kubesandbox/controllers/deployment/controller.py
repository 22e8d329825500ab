"""The Deployment controller's loop and `syncDeployment` (deployment_controller.go).

`DeploymentController.sync` hands every live Deployment the ReplicaSets it controls plus its
namespace's orphans, and skips one whose inputs (its own resourceVersion, those ReplicaSets' and their
pods') have not moved since a sync that changed nothing, until that sync's next time-driven change
(a progress deadline): the manager calls every controller many times per advance, and most
Deployments are at rest. `sync_deployment` is the per-object decision: claim ReplicaSets, then only
status while being deleted, scale when paused or on a replicas change, otherwise roll out.
"""

from __future__ import annotations

import copy

from kubesandbox.controllers.context import Env
from kubesandbox.controllers.deployment.revisions import get_all
from kubesandbox.controllers.deployment.rollout import rollout_recreate, rollout_rolling
from kubesandbox.controllers.deployment.scaling import is_scaling_event, sync
from kubesandbox.controllers.deployment.status import sync_deployment_status
from kubesandbox.controllers.deployment.sync_context import SyncContext
from kubesandbox.controllers.deployment_util import (
    DEPLOYMENTS,
    INF,
    PAUSED,
    RESUMED,
    TIMED_OUT,
    adopt_by,
    is_rolling,
    new_condition,
    progress_deadline,
    set_condition,
    spec_of,
)
from kubesandbox.controllers.replicaset import REPLICASETS
from kubesandbox.controllers.sync_cache import SyncCache
from kubesandbox.controllers.util import (
    compile_selector,
    controller_ref,
    get_condition,
    labels_of,
    new_controller_ref,
)
from kubesandbox.store import Obj


class DeploymentController:
    """Syncs every Deployment once per round; remembers which ones are at rest and when to wake them."""

    def __init__(self, env: Env) -> None:
        self.env = env
        self._d_wake = INF
        # a Deployment whose sync changed nothing is skipped until its inputs or its timer change
        self._cache = SyncCache()
        self.selecting_all_reported: set[tuple[str, int]] = set()

    def sync(self, now: float) -> None:
        self._cache.begin()
        store = self.env.store
        owned: dict[str, list[Obj]] = {}
        orphans: dict[str, list[Obj]] = {}
        for rs in store.iter_live(REPLICASETS):
            ref = controller_ref(rs)
            if ref is None:
                orphans.setdefault(rs["metadata"]["namespace"], []).append(rs)
            else:
                owned.setdefault(str(ref.get("uid")), []).append(rs)
        versions = self.env.pods.owner_version
        for d in list(store.iter_live(DEPLOYMENTS)):
            m = d["metadata"]
            live = store.peek(DEPLOYMENTS, m["namespace"], m["name"])
            if live is None:
                continue
            uid = m["uid"]
            candidates = owned.get(uid, []) + orphans.get(m["namespace"], [])
            inputs = (
                live["metadata"]["resourceVersion"],
                tuple(
                    (
                        rs["metadata"]["uid"],
                        rs["metadata"]["resourceVersion"],
                        versions.get(rs["metadata"]["uid"], 0),
                    )
                    for rs in candidates
                ),
            )
            if self._cache.unchanged(uid, inputs, now):
                continue
            before = store.resource_version
            self._d_wake = INF
            ctx = SyncContext(
                self.env,
                copy.deepcopy(live),
                now,
                candidates,
                wake_at=self.wake_at,
                selecting_all_reported=self.selecting_all_reported,
            )
            self.env.guard(f"deployment {m['namespace']}/{m['name']}", sync_deployment, ctx)
            self._cache.synced(uid, self._d_wake, inputs if store.resource_version == before else None)
        self._cache.end()

    def next_wakeup(self, now: float) -> float:
        return self._cache.wake

    def wake_at(self, t: float) -> None:
        self._d_wake = min(self._d_wake, t)


def sync_deployment(s: SyncContext) -> None:
    """`syncDeployment` of one Deployment."""
    d = s.d
    if spec_of(d).get("selector") == {}:
        _selecting_all(s)
        return
    rs_list = _claim_replicasets(s)
    if d["metadata"].get("deletionTimestamp"):
        new_rs, old = get_all(s, rs_list, False)
        sync_deployment_status(s, old, new_rs)
        return
    _check_paused_conditions(s)
    if spec_of(d).get("paused") or is_scaling_event(s, rs_list):
        sync(s, rs_list)
    elif not is_rolling(d):
        rollout_recreate(s, rs_list)
    else:
        rollout_rolling(s, rs_list)


def _selecting_all(s: SyncContext) -> None:
    """An empty selector would select every pod: warn once per generation and only observe it."""
    key = (s.d["metadata"]["uid"], s.generation)
    if key not in s.selecting_all_reported:
        s.selecting_all_reported.add(key)
        s.event(
            "SelectingAll",
            "This deployment is selecting all pods. A non-empty selector is required.",
            "Warning",
        )
    st = s.d.setdefault("status", {})
    if int(st.get("observedGeneration") or 0) < s.generation:
        st["observedGeneration"] = s.generation
        s.write_status()


def _claim_replicasets(s: SyncContext) -> list[Obj]:
    """`ClaimReplicaSets`: keep owned ReplicaSets that still match, release the others, adopt orphans."""
    d = s.d
    ns, uid = d["metadata"]["namespace"], d["metadata"]["uid"]
    match = compile_selector(spec_of(d).get("selector"))
    out: list[Obj] = []
    for candidate in s.candidates:
        rs = s.env.store.peek(REPLICASETS, ns, candidate["metadata"]["name"])
        if rs is None or rs["metadata"]["uid"] != candidate["metadata"]["uid"]:
            continue
        ref = controller_ref(rs)
        m = rs["metadata"]
        if ref is not None and ref.get("uid") == uid:
            if match(labels_of(rs)) or d["metadata"].get("deletionTimestamp"):
                out.append(copy.deepcopy(rs))
            else:

                def drop(o: Obj) -> None:
                    refs = [r for r in o["metadata"].get("ownerReferences") or [] if r.get("uid") != uid]
                    if refs:
                        o["metadata"]["ownerReferences"] = refs
                    else:
                        o["metadata"].pop("ownerReferences", None)

                s.env.store.mutate(REPLICASETS, ns, m["name"], drop)
        elif (
            ref is None
            and match(labels_of(rs))
            and not d["metadata"].get("deletionTimestamp")
            and not m.get("deletionTimestamp")
        ):
            out.append(s.env.store.mutate(REPLICASETS, ns, m["name"], adopt_by(new_controller_ref(d))))
    return out


def _check_paused_conditions(s: SyncContext) -> None:
    """`checkPausedConditions`: Progressing=Unknown DeploymentPaused / DeploymentResumed on a change."""
    d = s.d
    if progress_deadline(d) is None:
        return
    st = d.setdefault("status", {})
    cond = get_condition(st.get("conditions"), "Progressing")
    if cond is not None and cond.get("reason") == TIMED_OUT:
        return
    paused_exists = cond is not None and cond.get("reason") == PAUSED
    paused = bool(spec_of(d).get("paused"))
    if paused and not paused_exists:
        set_condition(st, new_condition("Progressing", "Unknown", PAUSED, "Deployment is paused", s.now))
    elif not paused and paused_exists:
        set_condition(st, new_condition("Progressing", "Unknown", RESUMED, "Deployment is resumed", s.now))
    else:
        return
    s.write_status()
