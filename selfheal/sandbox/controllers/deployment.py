"""The Deployment controller (pkg/controller/deployment), decision for decision.

One ReplicaSet per pod template (`<deployment>-<pod-template-hash>`, found again by
`EqualIgnoreHash` so a scenario's ReplicaSet is adopted rather than duplicated); revisions,
revision history and the desired/max-replicas annotations as `deployment_util.go` keeps them;
RollingUpdate with maxSurge/maxUnavailable resolved like `ResolveFenceposts`, Recreate,
proportional scaling of a paused or mid-rollout Deployment, `revisionHistoryLimit` cleanup,
and the status and `Available` / `Progressing` conditions of `sync.go` / `progress.go` with
their messages. Within one sync the ReplicaSet objects are not re-read after scaling them,
exactly like the Go controller; the next pass (the manager reconciles until quiet) sees them.
"""

from __future__ import annotations

import copy
import functools
import math
from typing import Any

from ..errors import ApiError
from ..store import Obj
from .behaviors import images_of
from .context import Env
from .deployment_util import (
    DEPLOYMENTS,
    DESIRED_REPLICAS,
    FOUND_NEW_RS,
    HASH_LABEL,
    INF,
    MAX_REPLICAS,
    MIN_AVAILABLE,
    MIN_UNAVAILABLE,
    NEW_RS_AVAILABLE,
    NEW_RS_CREATED,
    PAUSED,
    REPLICASET_UPDATED,
    RESUMED,
    REVISION,
    TIMED_OUT,
    active,
    adopt_by,
    by_revision,
    by_size_newer,
    by_size_older,
    deployment_complete,
    deployment_progressing,
    deployment_timed_out,
    equal_ignore_hash,
    find_new_rs,
    is_rolling,
    max_surge,
    max_unavailable,
    new_condition,
    new_rs_new_replicas,
    progress_deadline,
    remove_condition,
    replicas,
    replicas_annotations_need_update,
    revision,
    revision_history_limit,
    rs_replicas,
    set_condition,
    set_new_rs_annotations,
    set_replicas_annotations,
    sort_by_creation,
    spec_of,
    status_int,
)
from .events import DEPLOYMENT
from .replicaset import REPLICASETS
from .util import (
    compile_selector,
    compute_hash,
    controller_ref,
    get_condition,
    is_controlled_by,
    labels_of,
    new_controller_ref,
    parse_ts,
)

__all__ = ["DEPLOYMENTS", "DeploymentController"]


# -- the controller ----------------------------------------------------------------------------

class DeploymentController:
    def __init__(self, env: Env) -> None:
        self.env = env
        self._wake = INF
        self._d_wake = INF
        # uid → (inputs of a sync that changed nothing, its next time-driven change): skipped until they change
        self._seen: dict[str, tuple[tuple[Any, ...], float]] = {}
        self.selecting_all_reported: set[tuple[str, int]] = set()

    def sync(self, now: float) -> None:
        self._wake = INF
        store = self.env.store
        owned: dict[str, list[Obj]] = {}
        orphans: dict[str, list[Obj]] = {}
        for rs in store.iter_live(REPLICASETS):
            ref = controller_ref(rs)
            if ref is None:
                orphans.setdefault(rs["metadata"]["namespace"], []).append(rs)
            else:
                owned.setdefault(str(ref.get("uid")), []).append(rs)
        live_uids: set[str] = set()
        versions = self.env.pods.owner_version
        for d in list(store.iter_live(DEPLOYMENTS)):
            m = d["metadata"]
            live = store.peek(DEPLOYMENTS, m["namespace"], m["name"])
            if live is None:
                continue
            uid = m["uid"]
            live_uids.add(uid)
            candidates = owned.get(uid, []) + orphans.get(m["namespace"], [])
            inputs = (live["metadata"]["resourceVersion"],
                      tuple((rs["metadata"]["uid"], rs["metadata"]["resourceVersion"],
                             versions.get(rs["metadata"]["uid"], 0)) for rs in candidates))
            seen = self._seen.get(uid)
            if seen is not None and seen[0] == inputs and now < seen[1] - 1e-6:
                self._wake = min(self._wake, seen[1])
                continue
            before = store.resource_version
            self._d_wake = INF
            self.env.guard(f"deployment {m['namespace']}/{m['name']}",
                           _Sync(self, copy.deepcopy(live), now, candidates).run)
            self._wake = min(self._wake, self._d_wake)
            if store.resource_version == before:
                self._seen[uid] = (inputs, self._d_wake)
            else:
                self._seen.pop(uid, None)
        for uid in [u for u in self._seen if u not in live_uids]:
            del self._seen[uid]

    def next_wakeup(self, now: float) -> float:
        return self._wake

    def wake_at(self, t: float) -> None:
        self._d_wake = min(self._d_wake, t)


class _Sync:
    """One `syncDeployment` of one Deployment."""

    def __init__(self, ctl: DeploymentController, d: Obj, now: float, candidates: list[Obj]) -> None:
        self.ctl = ctl
        self.env = ctl.env
        self.d = d
        self.now = now
        self.candidates = candidates  # ReplicaSets it controls plus the orphans of its namespace

    # -- writes ------------------------------------------------------------------------------
    def _write_status(self) -> None:
        m = self.d["metadata"]
        status = copy.deepcopy(self.d.get("status") or {})

        def fn(o: Obj) -> None:
            o["status"] = status
        live = self.env.store.peek(DEPLOYMENTS, m["namespace"], m["name"])
        if live is not None and live.get("status") != status:
            self.env.store.mutate(DEPLOYMENTS, m["namespace"], m["name"], fn, subresource="status")

    def _write_revision(self, revision_str: str) -> bool:
        """`SetDeploymentRevision` (persisted with the status, as UpdateStatus does for Deployments)."""
        ann = self.d["metadata"].setdefault("annotations", {})
        if ann.get(REVISION) == revision_str:
            return False
        ann[REVISION] = revision_str
        m = self.d["metadata"]

        def fn(o: Obj) -> None:
            o["metadata"].setdefault("annotations", {})[REVISION] = revision_str
        self.env.store.mutate(DEPLOYMENTS, m["namespace"], m["name"], fn)
        return True

    def _event(self, reason: str, message: str, type_: str = "Normal") -> None:
        live = self.env.store.peek(DEPLOYMENTS, self.d["metadata"]["namespace"], self.d["metadata"]["name"])
        self.env.recorder.record(live or self.d, type_, reason, message, DEPLOYMENT, self.now)

    def _scale_rs(self, rs: Obj, new_scale: int, op: str) -> tuple[bool, Obj]:
        d = self.d
        size_changes = rs_replicas(rs) != new_scale
        max_r = replicas(d) + max_surge(d)
        if not size_changes and not replicas_annotations_need_update(rs, replicas(d), max_r):
            return False, rs
        old_scale = rs_replicas(rs)
        m = rs["metadata"]

        def fn(o: Obj) -> None:
            o.setdefault("spec", {})["replicas"] = new_scale
            set_replicas_annotations(o, replicas(d), max_r)
        updated = self.env.store.mutate(REPLICASETS, m["namespace"], m["name"], fn)
        if size_changes:
            self._event("ScalingReplicaSet", f"Scaled {op} replica set {m['name']} from {old_scale} to {new_scale}")
        return size_changes, updated

    def _scale_rs_and_record(self, rs: Obj, new_scale: int) -> tuple[bool, Obj]:
        if rs_replicas(rs) == new_scale:
            return False, rs
        return self._scale_rs(rs, new_scale, "up" if rs_replicas(rs) < new_scale else "down")

    # -- syncDeployment ----------------------------------------------------------------------
    def run(self) -> None:
        d = self.d
        sel = spec_of(d).get("selector")
        if sel == {}:
            key = (d["metadata"]["uid"], int(d["metadata"].get("generation") or 1))
            if key not in self.ctl.selecting_all_reported:
                self.ctl.selecting_all_reported.add(key)
                self._event("SelectingAll", "This deployment is selecting all pods. A non-empty selector is "
                            "required.", "Warning")
            st = d.setdefault("status", {})
            if int(st.get("observedGeneration") or 0) < int(d["metadata"].get("generation") or 1):
                st["observedGeneration"] = int(d["metadata"].get("generation") or 1)
                self._write_status()
            return
        rs_list = self._claim_replicasets()
        if d["metadata"].get("deletionTimestamp"):
            new_rs, old = self._get_all(rs_list, False)
            self._sync_deployment_status(old, new_rs)
            return
        self._check_paused_conditions()
        if spec_of(d).get("paused"):
            self._sync(rs_list)
            return
        if self._is_scaling_event(rs_list):
            self._sync(rs_list)
            return
        if not is_rolling(d):
            self._rollout_recreate(rs_list)
        else:
            self._rollout_rolling(rs_list)

    def _claim_replicasets(self) -> list[Obj]:
        d = self.d
        ns, uid = d["metadata"]["namespace"], d["metadata"]["uid"]
        match = compile_selector(spec_of(d).get("selector"))
        out: list[Obj] = []
        for candidate in self.candidates:
            rs = self.env.store.peek(REPLICASETS, ns, candidate["metadata"]["name"])
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
                    self.env.store.mutate(REPLICASETS, ns, m["name"], drop)
            elif ref is None and match(labels_of(rs)) and not d["metadata"].get("deletionTimestamp") \
                    and not m.get("deletionTimestamp"):
                out.append(self.env.store.mutate(REPLICASETS, ns, m["name"], adopt_by(new_controller_ref(d))))
        return out

    def _check_paused_conditions(self) -> None:
        d = self.d
        if progress_deadline(d) is None:
            return
        st = d.setdefault("status", {})
        cond = get_condition(st.get("conditions"), "Progressing")
        if cond is not None and cond.get("reason") == TIMED_OUT:
            return
        paused_exists = cond is not None and cond.get("reason") == PAUSED
        paused = bool(spec_of(d).get("paused"))
        if paused and not paused_exists:
            set_condition(st, new_condition("Progressing", "Unknown", PAUSED, "Deployment is paused", self.now))
        elif not paused and paused_exists:
            set_condition(st, new_condition("Progressing", "Unknown", RESUMED, "Deployment is resumed", self.now))
        else:
            return
        self._write_status()

    def _get_all(self, rs_list: list[Obj], create: bool) -> tuple[Obj | None, list[Obj]]:
        """`getAllReplicaSetsAndSyncRevision`."""
        d = self.d
        existing = find_new_rs(d, rs_list)
        old = [rs for rs in rs_list if existing is None or rs["metadata"]["uid"] != existing["metadata"]["uid"]]
        new_revision = str(max((revision(rs) for rs in old), default=0) + 1)
        if existing is not None:
            rs_copy = copy.deepcopy(existing)
            annotations_updated = set_new_rs_annotations(d, rs_copy, new_revision, True)
            mrs = int(spec_of(d).get("minReadySeconds") or 0)
            if annotations_updated or int((rs_copy.get("spec") or {}).get("minReadySeconds") or 0) != mrs:
                revived = revision(rs_copy) > revision(existing) and bool(old)
                ann = rs_copy["metadata"]["annotations"]

                def fn(o: Obj) -> None:
                    o["metadata"]["annotations"] = ann
                    if mrs or "minReadySeconds" in o.setdefault("spec", {}):
                        o["spec"]["minReadySeconds"] = mrs
                m = rs_copy["metadata"]
                if revived:
                    self.env.behaviors.restart_event(images_of((spec_of(d).get("template") or {}).get("spec")),
                                                     self.env.store.resource_version)
                return self.env.store.mutate(REPLICASETS, m["namespace"], m["name"], fn), old
            needs = self._write_revision(str(revision(rs_copy)))
            st = d.setdefault("status", {})
            if progress_deadline(d) is not None and get_condition(st.get("conditions"), "Progressing") is None:
                set_condition(st, new_condition("Progressing", "True", FOUND_NEW_RS,
                                                f'Found new replica set "{rs_copy["metadata"]["name"]}"', self.now))
                needs = True
            if needs:
                self._write_status()
            return rs_copy, old
        if not create:
            return None, old
        return self._create_new_rs(old, new_revision), old

    def _create_new_rs(self, old: list[Obj], new_revision: str) -> Obj | None:
        d = self.d
        st = d.setdefault("status", {})
        template = copy.deepcopy(spec_of(d).get("template") or {})
        collision = st.get("collisionCount")
        pod_hash = compute_hash(template, collision)
        tmeta = template.setdefault("metadata", {})
        tmeta["labels"] = {**(tmeta.get("labels") or {}), HASH_LABEL: pod_hash}
        selector = copy.deepcopy(spec_of(d).get("selector") or {})
        selector["matchLabels"] = {**(selector.get("matchLabels") or {}), HASH_LABEL: pod_hash}
        ns = d["metadata"]["namespace"]
        rs: Obj = {"apiVersion": "apps/v1", "kind": "ReplicaSet",
                   "metadata": {"name": f"{d['metadata']['name']}-{pod_hash}", "namespace": ns,
                                "labels": dict(tmeta["labels"]), "ownerReferences": [new_controller_ref(d)]},
                   "spec": {"replicas": 0, "minReadySeconds": int(spec_of(d).get("minReadySeconds") or 0),
                            "selector": selector, "template": template}}
        count = new_rs_new_replicas(d, [*old, rs], rs)
        rs["spec"]["replicas"] = count
        set_new_rs_annotations(d, rs, new_revision, False)
        already = False
        try:
            created = self.env.store.create(REPLICASETS, rs)
        except ApiError as exc:
            if exc.reason != "AlreadyExists":
                return None
            live = self.env.store.peek(REPLICASETS, ns, rs["metadata"]["name"])
            if live is not None and is_controlled_by(live, d) and equal_ignore_hash(
                    (live.get("spec") or {}).get("template"), spec_of(d).get("template")):
                created, already = copy.deepcopy(live), True
            else:
                st["collisionCount"] = int(collision or 0) + 1
                self._write_status()
                return None
        if old and not already:
            self.env.behaviors.restart_event(images_of(template.get("spec")), self.env.store.resource_version)
        if not already and count > 0:
            self._event("ScalingReplicaSet", f"Scaled up replica set {created['metadata']['name']} from 0 to {count}")
        needs = self._write_revision(new_revision)
        if not already and progress_deadline(d) is not None:
            set_condition(st, new_condition("Progressing", "True", NEW_RS_CREATED,
                                            f'Created new replica set "{created["metadata"]["name"]}"', self.now))
            needs = True
        if needs:
            self._write_status()
        return created

    def _is_scaling_event(self, rs_list: list[Obj]) -> bool:
        new_rs, old = self._get_all(rs_list, False)
        for rs in active([*old, new_rs]):
            desired = (rs["metadata"].get("annotations") or {}).get(DESIRED_REPLICAS)
            if desired is None:
                continue
            try:
                if int(desired) != replicas(self.d):
                    return True
            except ValueError:
                continue
        return False

    # -- sync (scaling / paused) ---------------------------------------------------------------
    def _sync(self, rs_list: list[Obj]) -> None:
        new_rs, old = self._get_all(rs_list, False)
        self._scale(new_rs, old)
        if spec_of(self.d).get("paused"):
            self._cleanup(old)
        self._sync_deployment_status(old, new_rs)

    def _scale(self, new_rs: Obj | None, old: list[Obj]) -> None:
        d = self.d
        latest = self._active_or_latest(new_rs, old)
        if latest is not None:
            if rs_replicas(latest) != replicas(d):
                self._scale_rs_and_record(latest, replicas(d))
            return
        if new_rs is not None and self._is_saturated(new_rs):
            for rs in active(list(old)):
                self._scale_rs_and_record(rs, 0)
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
                prop = self._proportion(rs, to_add, added)
                sizes[name] = rs_replicas(rs) + prop
                added += prop
            else:
                sizes[name] = rs_replicas(rs)
        for i, rs in enumerate(all_rss):
            name = rs["metadata"]["name"]
            if i == 0 and to_add != 0:
                sizes[name] = max(sizes[name] + to_add - added, 0)
            self._scale_rs(rs, sizes[name], op)

    def _proportion(self, rs: Obj, to_add: int, added: int) -> int:
        """`GetProportion` / `getReplicaSetFraction`."""
        d = self.d
        if rs_replicas(rs) == 0 or to_add == 0 or to_add == added:
            return 0
        if replicas(d) == 0:
            fraction = -rs_replicas(rs)
        else:
            deployment_replicas = replicas(d) + max_surge(d)
            ann = (rs["metadata"].get("annotations") or {}).get(MAX_REPLICAS)
            try:
                annotated = int(ann) if ann is not None else int((d.get("status") or {}).get("replicas") or 0)
            except ValueError:
                annotated = int((d.get("status") or {}).get("replicas") or 0)
            if annotated == 0:
                fraction = 0
            else:
                size = rs_replicas(rs) * deployment_replicas / annotated
                fraction = math.floor(size + 0.5) - rs_replicas(rs)
        allowed = to_add - added
        return min(fraction, allowed) if to_add > 0 else max(fraction, allowed)

    def _active_or_latest(self, new_rs: Obj | None, old: list[Obj]) -> Obj | None:
        if new_rs is None and not old:
            return None
        old_sorted = list(reversed(sort_by_creation(old)))
        acts = active([*old_sorted, new_rs])
        if not acts:
            return new_rs if new_rs is not None else old_sorted[0]
        if len(acts) == 1:
            return acts[0]
        return None

    def _is_saturated(self, rs: Obj) -> bool:
        desired = (rs["metadata"].get("annotations") or {}).get(DESIRED_REPLICAS)
        try:
            des = int(desired) if desired is not None else None
        except ValueError:
            return False
        r = replicas(self.d)
        return des is not None and rs_replicas(rs) == r and des == r and status_int(rs, "availableReplicas") == r

    def _cleanup(self, old: list[Obj]) -> None:
        d = self.d
        limit = revision_history_limit(d)
        if limit is None:
            return
        alive = [rs for rs in old if not rs["metadata"].get("deletionTimestamp")]
        diff = len(alive) - limit
        if diff <= 0:
            return
        ordered = sorted(alive, key=functools.cmp_to_key(by_revision))
        for rs in ordered[:diff]:
            st = rs.get("status") or {}
            if int(st.get("replicas") or 0) != 0 or rs_replicas(rs) != 0 or \
                    int(rs["metadata"].get("generation") or 1) > int(st.get("observedGeneration") or 0) or \
                    rs["metadata"].get("deletionTimestamp"):
                continue
            try:
                self.env.store.delete(REPLICASETS, rs["metadata"]["namespace"], rs["metadata"]["name"])
            except ApiError:
                continue

    # -- RollingUpdate ---------------------------------------------------------------------------
    def _rollout_rolling(self, rs_list: list[Obj]) -> None:
        new_rs, old = self._get_all(rs_list, True)
        if new_rs is None:
            return
        all_rss: list[Obj | None] = [*old, new_rs]
        if self._reconcile_new_rs(all_rss, new_rs):
            self._sync_rollout_status(old, new_rs)
            return
        if self._reconcile_old_rss(all_rss, active(list(old)), new_rs):
            self._sync_rollout_status(old, new_rs)
            return
        if deployment_complete(self.d, self.d.get("status") or {}):
            self._cleanup(old)
        self._sync_rollout_status(old, new_rs)

    def _reconcile_new_rs(self, all_rss: list[Obj | None], new_rs: Obj) -> bool:
        r = replicas(self.d)
        if rs_replicas(new_rs) == r:
            return False
        if rs_replicas(new_rs) > r:
            return self._scale_rs_and_record(new_rs, r)[0]
        return self._scale_rs_and_record(new_rs, new_rs_new_replicas(self.d, all_rss, new_rs))[0]

    def _reconcile_old_rss(self, all_rss: list[Obj | None], old: list[Obj], new_rs: Obj) -> bool:
        d = self.d
        old_count = sum(rs_replicas(rs) for rs in old)
        if old_count == 0:
            return False
        all_count = sum(rs_replicas(rs) for rs in all_rss if rs is not None)
        min_available = replicas(d) - max_unavailable(d)
        new_unavailable = rs_replicas(new_rs) - status_int(new_rs, "availableReplicas")
        max_scaled_down = all_count - min_available - new_unavailable
        if max_scaled_down <= 0:
            return False
        old, cleaned = self._cleanup_unhealthy(old, max_scaled_down)
        all_rss = [*old, new_rs]
        scaled = self._scale_down_old_for_rolling(all_rss, old)
        return cleaned + scaled > 0

    def _cleanup_unhealthy(self, old: list[Obj], max_cleanup: int) -> tuple[list[Obj], int]:
        old = sort_by_creation(old)
        total = 0
        for i, rs in enumerate(old):
            if total >= max_cleanup:
                break
            if rs_replicas(rs) == 0 or rs_replicas(rs) == status_int(rs, "availableReplicas"):
                continue
            count = min(max_cleanup - total, rs_replicas(rs) - status_int(rs, "availableReplicas"))
            _, old[i] = self._scale_rs_and_record(rs, rs_replicas(rs) - count)
            total += count
        return old, total

    def _scale_down_old_for_rolling(self, all_rss: list[Obj | None], old: list[Obj]) -> int:
        d = self.d
        min_available = replicas(d) - max_unavailable(d)
        available = sum(status_int(rs, "availableReplicas") for rs in all_rss if rs is not None)
        if available <= min_available:
            return 0
        total, target = 0, available - min_available
        for rs in sort_by_creation(old):
            if total >= target:
                break
            if rs_replicas(rs) == 0:
                continue
            count = min(rs_replicas(rs), target - total)
            self._scale_rs_and_record(rs, rs_replicas(rs) - count)
            total += count
        return total

    # -- Recreate --------------------------------------------------------------------------------
    def _rollout_recreate(self, rs_list: list[Obj]) -> None:
        d = self.d
        new_rs, old = self._get_all(rs_list, False)
        scaled_down = False
        for rs in active(list(old)):
            if self._scale_rs_and_record(rs, 0)[0]:
                scaled_down = True
        if scaled_down:
            self._sync_rollout_status(old, new_rs)
            return
        if self._old_pods_running(new_rs, old):
            self._sync_rollout_status(old, new_rs)
            return
        if new_rs is None:
            new_rs, old = self._get_all(rs_list, True)
        if new_rs is not None and rs_replicas(new_rs) != replicas(d):
            self._scale_rs_and_record(new_rs, replicas(d))
        if deployment_complete(d, d.get("status") or {}):
            self._cleanup(old)
        self._sync_rollout_status(old, new_rs)

    def _old_pods_running(self, new_rs: Obj | None, old: list[Obj]) -> bool:
        if sum(status_int(rs, "replicas") for rs in old) > 0:
            return True
        for rs in old:
            for pod in self.env.pods.owned_by(rs["metadata"]["uid"]):
                if (pod.get("status") or {}).get("phase") not in ("Failed", "Succeeded"):
                    return True
        return False

    # -- status ----------------------------------------------------------------------------------
    def _calculate_status(self, old: list[Obj], new_rs: Obj | None) -> dict[str, Any]:
        d = self.d
        all_rss = [rs for rs in [*old, new_rs] if rs is not None]
        available = sum(status_int(rs, "availableReplicas") for rs in all_rss)
        total = sum(rs_replicas(rs) for rs in all_rss)
        prev = d.get("status") or {}
        values = {
            "observedGeneration": int(d["metadata"].get("generation") or 1),
            "replicas": sum(status_int(rs, "replicas") for rs in all_rss),
            "updatedReplicas": status_int(new_rs, "replicas"),
            "readyReplicas": sum(status_int(rs, "readyReplicas") for rs in all_rss),
            "availableReplicas": available,
            "unavailableReplicas": max(total - available, 0),
        }
        status: dict[str, Any] = {k: v for k, v in values.items() if v}
        if prev.get("conditions"):
            status["conditions"] = copy.deepcopy(prev["conditions"])
        if available >= replicas(d) - max_unavailable(d):
            set_condition(status, new_condition("Available", "True", MIN_AVAILABLE,
                                                "Deployment has minimum availability.", self.now))
        else:
            set_condition(status, new_condition("Available", "False", MIN_UNAVAILABLE,
                                                "Deployment does not have minimum availability.", self.now))
        if prev.get("collisionCount") is not None:
            status["collisionCount"] = prev["collisionCount"]
        return _ordered_status(status)

    def _sync_deployment_status(self, old: list[Obj], new_rs: Obj | None) -> None:
        new = self._calculate_status(old, new_rs)
        if new != (self.d.get("status") or {}):
            self.d["status"] = new
            self._write_status()

    def _sync_rollout_status(self, old: list[Obj], new_rs: Obj | None) -> None:
        d = self.d
        new = self._calculate_status(old, new_rs)
        pds = progress_deadline(d)
        if pds is None:
            remove_condition(new, "Progressing")
        current = get_condition((d.get("status") or {}).get("conditions"), "Progressing")
        complete = int(new.get("replicas") or 0) == int(new.get("updatedReplicas") or 0) and current is not None \
            and current.get("reason") == NEW_RS_AVAILABLE
        name = new_rs["metadata"]["name"] if new_rs is not None else ""
        if pds is not None and not complete:
            if deployment_complete(d, new):
                msg = f'ReplicaSet "{name}" has successfully progressed.' if new_rs is not None else \
                    f'Deployment "{d["metadata"]["name"]}" has successfully progressed.'
                set_condition(new, new_condition("Progressing", "True", NEW_RS_AVAILABLE, msg, self.now))
            elif deployment_progressing(d, new):
                msg = f'ReplicaSet "{name}" is progressing.' if new_rs is not None else \
                    f'Deployment "{d["metadata"]["name"]}" is progressing.'
                cond = new_condition("Progressing", "True", REPLICASET_UPDATED, msg, self.now)
                if current is not None:
                    if current.get("status") == "True":
                        cond["lastTransitionTime"] = current.get("lastTransitionTime", cond["lastTransitionTime"])
                    remove_condition(new, "Progressing")
                set_condition(new, cond)
            elif deployment_timed_out(d, new, self.now):
                msg = f'ReplicaSet "{name}" has timed out progressing.' if new_rs is not None else \
                    f'Deployment "{d["metadata"]["name"]}" has timed out progressing.'
                set_condition(new, new_condition("Progressing", "False", TIMED_OUT, msg, self.now))
        new = _ordered_status(new)
        if new == (d.get("status") or {}):
            self._requeue_stuck(new)
            return
        d["status"] = new
        self._write_status()
        self._requeue_stuck(new)

    def _requeue_stuck(self, new: dict[str, Any]) -> None:
        d = self.d
        pds = progress_deadline(d)
        cond = get_condition(new.get("conditions"), "Progressing")
        if pds is None or cond is None or deployment_complete(d, new) or cond.get("reason") in (TIMED_OUT,
                                                                                                 NEW_RS_AVAILABLE):
            return
        last = parse_ts(cond.get("lastUpdateTime"))
        if last is not None:
            self.ctl.wake_at(last + pds + 1)


_STATUS_ORDER = ("observedGeneration", "replicas", "updatedReplicas", "readyReplicas", "availableReplicas",
                 "unavailableReplicas", "terminatingReplicas", "conditions", "collisionCount")


def _ordered_status(status: dict[str, Any]) -> dict[str, Any]:
    out = {k: status[k] for k in _STATUS_ORDER if k in status}
    out.update({k: v for k, v in status.items() if k not in out})
    return out
