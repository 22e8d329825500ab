"""The ReplicaSet controller (pkg/controller/replicaset): keep `spec.replicas` pods alive.

Per ReplicaSet: adopt matching orphan pods and release owned pods that stopped matching
(ClaimPods), create or delete pods towards `spec.replicas` counting only active pods
(terminating and finished pods do not count), choosing which pods to delete with the real
ranking (`ActivePodsWithRanks`: unscheduled, pending, not ready, recently ready, restarting,
newest first), and report replicas / fullyLabeled / ready / available / observedGeneration.
"""

from __future__ import annotations

import functools
import math
from typing import Any

from kubesandbox.controllers import pods as P
from kubesandbox.controllers.context import Env
from kubesandbox.controllers.events import REPLICASET
from kubesandbox.controllers.podindex import PODS
from kubesandbox.controllers.sync_cache import SyncCache
from kubesandbox.controllers.util import (
    compile_selector,
    controller_ref,
    is_pod_active,
    is_pod_available,
    is_pod_ready,
    is_terminating,
    labels_of,
    new_controller_ref,
    parse_ts,
    pod_phase,
    pod_ready_time,
)
from kubesandbox.resources import BY_PLURAL
from kubesandbox.store import Obj

REPLICASETS = BY_PLURAL[("apps", "replicasets")]
BURST_REPLICAS = 500
INF = math.inf


def adopt(env: Env, pod: Obj, owner: Obj) -> None:
    m = pod["metadata"]
    ref = new_controller_ref(owner)

    def fn(p: Obj) -> None:
        refs = p["metadata"].setdefault("ownerReferences", [])
        if not any(r.get("controller") for r in refs):
            refs.append(ref)

    env.store.mutate(PODS, m["namespace"], m["name"], fn)


def release(env: Env, pod: Obj, owner_uid: str) -> None:
    m = pod["metadata"]

    def fn(p: Obj) -> None:
        refs = [r for r in p["metadata"].get("ownerReferences") or [] if r.get("uid") != owner_uid]
        if refs:
            p["metadata"]["ownerReferences"] = refs
        else:
            p["metadata"].pop("ownerReferences", None)

    env.store.mutate(PODS, m["namespace"], m["name"], fn)


def claim_pods(env: Env, owner: Obj, selector: Any) -> list[Obj]:
    """ClaimPods: the pods `owner` controls after adopting orphans and releasing mismatches."""
    uid = owner["metadata"]["uid"]
    ns = owner["metadata"]["namespace"]
    match = compile_selector(selector)
    deleting = bool(owner["metadata"].get("deletionTimestamp"))
    for pod in env.pods.owned_by(uid):
        if not match(labels_of(pod)) and not deleting:
            release(env, pod, uid)
    if not deleting:
        for pod in env.pods.orphans_in(ns):
            if match(labels_of(pod)) and controller_ref(pod) is None:
                adopt(env, pod, owner)
    return env.pods.owned_by(uid)


def _deletion_cost(pod: Obj) -> int:
    value = (pod["metadata"].get("annotations") or {}).get("controller.kubernetes.io/pod-deletion-cost")
    try:
        return int(value) if value is not None else 0
    except ValueError:
        return 0


def _max_restarts(pod: Obj) -> int:
    return max(
        (int(cs.get("restartCount") or 0) for cs in (pod.get("status") or {}).get("containerStatuses") or []),
        default=0,
    )


def _log_rank(t: float, now: float) -> int:
    d = (now - t) * 1e9
    return int(math.log2(d)) if d > 0 else -1


def rank_for_deletion(pods: list[Obj], now: float) -> list[Obj]:
    """Sort by `controller.ActivePodsWithRanks.Less`: the pods to delete first come first."""
    phase_order = {"Pending": 0, "Unknown": 1, "Running": 2}

    def cmp(a: Obj, b: Obj) -> int:
        na, nb = bool(a["spec"].get("nodeName")), bool(b["spec"].get("nodeName"))
        if na != nb:
            return -1 if not na else 1
        pa = phase_order.get(str((a.get("status") or {}).get("phase")), 3)
        pb = phase_order.get(str((b.get("status") or {}).get("phase")), 3)
        if pa != pb:
            return -1 if pa < pb else 1
        ra, rb = is_pod_ready(a), is_pod_ready(b)
        if ra != rb:
            return -1 if not ra else 1
        ca, cb = _deletion_cost(a), _deletion_cost(b)
        if ca != cb:
            return -1 if ca < cb else 1
        if ra and rb:
            ta, tb = pod_ready_time(a), pod_ready_time(b)
            if ta != tb and ta is not None and tb is not None:
                diff = _log_rank(ta, now) - _log_rank(tb, now)
                if diff != 0:
                    return -1 if diff < 0 else 1
                return -1 if a["metadata"]["uid"] < b["metadata"]["uid"] else 1
        xa, xb = _max_restarts(a), _max_restarts(b)
        if xa != xb:
            return -1 if xa > xb else 1
        ta2, tb2 = (
            parse_ts(a["metadata"].get("creationTimestamp")),
            parse_ts(b["metadata"].get("creationTimestamp")),
        )
        if ta2 != tb2 and ta2 is not None and tb2 is not None:
            diff = _log_rank(ta2, now) - _log_rank(tb2, now)
            if diff != 0:
                return -1 if diff < 0 else 1
            return -1 if a["metadata"]["uid"] < b["metadata"]["uid"] else 1
        return 0

    return sorted(pods, key=functools.cmp_to_key(cmp))


class ReplicaSetController:
    def __init__(self, env: Env) -> None:
        self.env = env
        self._rs_wake = INF
        # a ReplicaSet whose object, pods and candidate orphans did not change since its last sync has
        # nothing to do, even with 20,000 pods
        self._cache = SyncCache()

    def _inputs(self, rs: Obj) -> tuple[str, int, int]:
        m = rs["metadata"]
        idx = self.env.pods
        return (
            m["resourceVersion"],
            idx.owner_version.get(m["uid"], 0),
            idx.orphan_version.get(m["namespace"], 0),
        )

    def sync(self, now: float) -> None:
        self._cache.begin()
        for rs in list(self.env.store.iter_live(REPLICASETS)):
            current = self.env.store.peek(REPLICASETS, rs["metadata"]["namespace"], rs["metadata"]["name"])
            if current is None:
                continue
            uid = current["metadata"]["uid"]
            if self._cache.unchanged(uid, self._inputs(current), now):
                continue
            self._rs_wake = INF
            self.env.guard(
                f"replicaset {current['metadata']['namespace']}/{current['metadata']['name']}",
                self._sync,
                current,
                now,
            )
            after = self.env.store.peek(
                REPLICASETS, current["metadata"]["namespace"], current["metadata"]["name"]
            )
            self._cache.synced(uid, self._rs_wake, self._inputs(after) if after is not None else None)
        self._cache.end()

    def next_wakeup(self, now: float) -> float:
        return self._cache.wake

    def _sync(self, rs: Obj, now: float) -> None:
        spec = rs.get("spec") or {}
        pods = claim_pods(self.env, rs, spec.get("selector"))
        active = [p for p in pods if is_pod_active(p)]
        if not rs["metadata"].get("deletionTimestamp"):
            self._manage(rs, active, now)
            active = [p for p in self.env.pods.owned_by(rs["metadata"]["uid"]) if is_pod_active(p)]
        owned = self.env.pods.owned_by(rs["metadata"]["uid"])
        terminating = sum(
            1 for p in owned if is_terminating(p) and pod_phase(p) not in ("Succeeded", "Failed")
        )
        self._status(rs, active, now, terminating)

    def _manage(self, rs: Obj, active: list[Obj], now: float) -> None:
        want = int((rs.get("spec") or {}).get("replicas", 1) or 0)
        diff = len(active) - want
        if diff < 0:
            template = (rs.get("spec") or {}).get("template") or {}
            for _ in range(min(-diff, BURST_REPLICAS)):
                pod = P.create_from_template(self.env.store, template, rs)
                if pod is None:
                    break
                self.env.recorder.record(
                    rs,
                    "Normal",
                    "SuccessfulCreate",
                    f"Created pod: {pod['metadata']['name']}",
                    REPLICASET,
                    now,
                )
        elif diff > 0:
            victims = active if diff >= len(active) else rank_for_deletion(active, now)[:diff]
            for pod in victims[:BURST_REPLICAS]:
                P.delete_pod(self.env.store, pod)
                self.env.recorder.record(
                    rs,
                    "Normal",
                    "SuccessfulDelete",
                    f"Deleted pod: {pod['metadata']['name']}",
                    REPLICASET,
                    now,
                )

    def _status(self, rs: Obj, active: list[Obj], now: float, terminating: int = 0) -> None:
        spec = rs.get("spec") or {}
        mrs = int(spec.get("minReadySeconds") or 0)
        tmpl_labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
        full = ready = available = 0
        for pod in active:
            labels = labels_of(pod)
            if all(labels.get(k) == v for k, v in tmpl_labels.items()):
                full += 1
            if is_pod_ready(pod):
                ready += 1
                if is_pod_available(pod, mrs, now):
                    available += 1
                elif mrs:
                    t = pod_ready_time(pod)
                    if t is not None:
                        self._rs_wake = min(self._rs_wake, t + mrs + 1)
        old = rs.get("status") or {}
        status: dict[str, Any] = {"replicas": len(active)}
        for k, v in (
            ("fullyLabeledReplicas", full),
            ("readyReplicas", ready),
            ("availableReplicas", available),
            ("observedGeneration", int(rs["metadata"].get("generation") or 1)),
        ):
            if v:
                status[k] = v
        status["terminatingReplicas"] = terminating  # a pointer: shown even when 0 (1.35+, beta gate on)
        if old.get("conditions"):
            status["conditions"] = old["conditions"]
        if status != old:

            def write(o: Obj) -> None:
                o["status"] = status

            m = rs["metadata"]
            self.env.store.mutate(REPLICASETS, m["namespace"], m["name"], write, subresource="status")
