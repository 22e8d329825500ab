"""PodDisruptionBudgets: the eviction subresource and the disruption controller.

`evict` mirrors the eviction REST handler (pkg/registry/core/pod/storage/eviction.go) decision
by decision: terminal, pending or already-deleting pods are deleted without looking at budgets;
more than one matching budget is a 500; a not-ready pod may go when the budget is healthy
(IfHealthyBudget, the default) or always (AlwaysAllow); otherwise the budget's
`disruptionsAllowed` must be positive and is decremented, with the pod recorded in
`disruptedPods`, before the pod is deleted gracefully with a `DisruptionTarget` condition.

`DisruptionController` keeps each budget's status the way pkg/controller/disruption does:
expectedPods from the pods' controllers' scale (or the matching pod count for an integer
minAvailable), desiredHealthy, currentHealthy (ready, not deleting, not recently evicted),
disruptionsAllowed and the `DisruptionAllowed` condition.
"""

from __future__ import annotations

import copy
import math
from typing import Any

from kubesandbox.controllers import pods as P
from kubesandbox.controllers.context import Env
from kubesandbox.controllers.deployment import DEPLOYMENTS
from kubesandbox.controllers.events import DISRUPTION
from kubesandbox.controllers.gc import orphan_dependents
from kubesandbox.controllers.podindex import PODS
from kubesandbox.controllers.replicaset import REPLICASETS
from kubesandbox.controllers.sync_cache import SyncCache
from kubesandbox.controllers.util import (
    IntOrPercentError,
    compile_selector,
    controller_ref,
    fmt,
    get_condition,
    is_pod_ready,
    labels_of,
    parse_ts,
    scaled_value,
    to_ts,
)
from kubesandbox.resources import BY_PLURAL
from kubesandbox.resources.errors import ApiError, conflict
from kubesandbox.resources.managed_fields import APISERVER
from kubesandbox.store import Obj, Store

__all__ = ["DisruptionController", "evict", "orphan_dependents"]

PDBS = BY_PLURAL[("policy", "poddisruptionbudgets")]
MAX_DISRUPTED_POD_SIZE = 2000
DELETION_TIMEOUT = 120.0  # seconds an approved eviction is given to show up as a deletion
INF = math.inf
TOO_MANY = "Cannot evict pod as it would violate the pod's disruption budget."


class StatusFailure(ApiError):
    """A bare `Status` the handler returns as its result (code set, no reason), like the 500 for
    a pod with several budgets."""

    def status(self) -> dict[str, Any]:
        return {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "code": self.code,
        }


def _too_many_requests(message: str, retry_after: int) -> ApiError:
    details: dict[str, Any] = {"causes": [{"reason": "DisruptionBudget", "message": message}]}
    headers: dict[str, str] = {}
    if retry_after:
        details["retryAfterSeconds"] = retry_after
        headers["Retry-After"] = str(retry_after)
    return ApiError(429, "TooManyRequests", TOO_MANY, details, headers)


def _forbidden(name: str, why: str) -> ApiError:
    return ApiError(
        403,
        "Forbidden",
        f'poddisruptionbudget.policy "{name}" is forbidden: {why}',
        {"name": name, "group": "policy", "kind": "poddisruptionbudget"},
    )


def _set_allowed_condition(status: dict[str, Any], now: float) -> None:
    """`pdbhelper.UpdateDisruptionAllowedCondition` (meta.SetStatusCondition semantics)."""
    allowed = int(status.get("disruptionsAllowed") or 0) > 0
    cond = {
        "type": "DisruptionAllowed",
        "status": "True" if allowed else "False",
        "observedGeneration": int(status.get("observedGeneration") or 0),
        "lastTransitionTime": fmt(now),
        "reason": "SufficientPods" if allowed else "InsufficientPods",
        "message": "",
    }
    _set_status_condition(status, cond)


def _set_status_condition(status: dict[str, Any], cond: dict[str, Any]) -> None:
    conds = status.setdefault("conditions", [])
    existing = get_condition(conds, cond["type"])
    if existing is None:
        conds.append(cond)
        return
    if existing.get("status") != cond["status"]:
        existing["status"] = cond["status"]
        existing["lastTransitionTime"] = cond["lastTransitionTime"]
    existing["reason"] = cond["reason"]
    existing["message"] = cond["message"]
    existing["observedGeneration"] = cond["observedGeneration"]


def _matching_pdbs(store: Store, pod: Obj) -> list[Obj]:
    labels = labels_of(pod)
    return [
        pdb
        for pdb in store.iter_live(PDBS, pod["metadata"]["namespace"])
        if compile_selector((pdb.get("spec") or {}).get("selector"))(labels)
    ]


def _can_ignore_pdb(pod: Obj) -> bool:
    phase = (pod.get("status") or {}).get("phase")
    return phase in ("Succeeded", "Failed", "Pending") or bool(pod["metadata"].get("deletionTimestamp"))


def _check_preconditions(pod: Obj, pre: dict[str, Any]) -> None:
    name = pod["metadata"]["name"]
    uid, rv = pre.get("uid"), pre.get("resourceVersion")
    if uid and uid != pod["metadata"]["uid"]:
        raise conflict(
            "Pod",
            "",
            "Pod",
            name,
            f"the UID in the precondition ({uid}) does not match the UID in record "
            f"({pod['metadata']['uid']}). The object might have been deleted and then recreated",
        )
    if rv and rv != pod["metadata"]["resourceVersion"]:
        raise conflict(
            "Pod",
            "",
            "Pod",
            name,
            f"the ResourceVersion in the precondition ({rv}) does not match the ResourceVersion in "
            f"record ({pod['metadata']['resourceVersion']}). The object might have been modified",
        )


def _delete(store: Store, pod: Obj, options: dict[str, Any], dry_run: bool) -> None:
    """`addConditionAndDeletePod`: a DisruptionTarget condition, then a graceful delete."""
    ns, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
    pre = dict(options.get("preconditions") or {})
    grace = options.get("gracePeriodSeconds")
    requested = int(grace) if isinstance(grace, int) and not isinstance(grace, bool) else None
    if dry_run:
        P.delete_pod(store, pod, requested, preconditions=pre, dry_run=True)
        return
    _check_preconditions(pod, pre)
    now = to_ts(store.clock.now())

    def add_condition(p: Obj) -> None:
        conds = p.setdefault("status", {}).setdefault("conditions", [])
        cond = get_condition(conds, "DisruptionTarget")
        if (
            cond is not None
            and cond.get("status") == "True"
            and cond.get("reason") == "EvictionByEvictionAPI"
        ):
            return
        new = {
            "type": "DisruptionTarget",
            "status": "True",
            "lastProbeTime": None,
            "lastTransitionTime": fmt(now),
            "reason": "EvictionByEvictionAPI",
            "message": "Eviction API: evicting",
        }
        if cond is not None:
            conds[conds.index(cond)] = new
        else:
            conds.append(new)

    # written by the eviction's registry call, under the handler's field manager: no managedFields entry
    updated = store.mutate(PODS, ns, name, add_condition, subresource="status", manager="")
    P.delete_pod(store, updated, requested, preconditions={"uid": updated["metadata"]["uid"]})


def evict(store: Store, namespace: str, pod_name: str, eviction: dict[str, Any], dry_run: bool) -> None:
    """POST pods/<name>/eviction. Raises ApiError (429, 500, 403, 409, 404…) when refused."""
    with store.lock:
        body_name = (eviction.get("metadata") or {}).get("name")
        if body_name and body_name != pod_name:
            raise ApiError(400, "BadRequest", "name in URL does not match name in Eviction object")
        options = copy.deepcopy(eviction.get("deleteOptions") or {})
        body_dry = list(options.get("dryRun") or [])
        if body_dry and dry_run and body_dry != ["All"]:
            raise ApiError(
                400,
                "BadRequest",
                f"Non-matching dry-run options in request and content: [All] and [{' '.join(body_dry)}]",
            )
        dry_run = dry_run or bool(body_dry)
        pod = store.get(PODS, namespace, pod_name)
        if _can_ignore_pdb(pod):
            _delete(store, pod, options, dry_run)
            return
        pdbs = _matching_pdbs(store, pod)
        if len(pdbs) > 1:
            raise StatusFailure(
                500,
                "",
                "This pod has more than one PodDisruptionBudget, which the eviction "
                "subresource does not support.",
            )
        if not pdbs:
            _delete(store, pod, options, dry_run)
            return
        pdb = copy.deepcopy(pdbs[0])
        spec, status = pdb.get("spec") or {}, pdb.setdefault("status", {})
        if not is_pod_ready(pod):
            if spec.get("unhealthyPodEvictionPolicy") == "AlwaysAllow":
                _delete(store, pod, _with_rv_precondition(options, pod), dry_run)
                return
            desired = int(status.get("desiredHealthy") or 0)
            if int(status.get("currentHealthy") or 0) >= desired and desired > 0:
                _delete(store, pod, _with_rv_precondition(options, pod), dry_run)
                return
        _check_and_decrement(store, pod, pdb, dry_run)
        _delete(store, pod, options, dry_run)


def _with_rv_precondition(options: dict[str, Any], pod: Obj) -> dict[str, Any]:
    out = copy.deepcopy(options)
    pre = out.setdefault("preconditions", {})
    pre.setdefault("resourceVersion", pod["metadata"]["resourceVersion"])
    return out


def _check_and_decrement(store: Store, pod: Obj, pdb: Obj, dry_run: bool) -> None:
    name = pdb["metadata"]["name"]
    status = pdb["status"]
    if int(status.get("observedGeneration") or 0) < int(pdb["metadata"].get("generation") or 1):
        raise _too_many_requests(f"The disruption budget {name} is still being processed by the server.", 10)
    allowed = int(status.get("disruptionsAllowed") or 0)
    if allowed < 0:
        raise _forbidden(name, "pdb disruptions allowed is negative")
    if len(status.get("disruptedPods") or {}) > MAX_DISRUPTED_POD_SIZE:
        raise _forbidden(
            name, "DisruptedPods map too big - too many evictions not confirmed by PDB controller"
        )
    if allowed == 0:
        raise _too_many_requests(
            f"The disruption budget {name} needs {int(status.get('desiredHealthy') or 0)} "
            f"healthy pods and has {int(status.get('currentHealthy') or 0)} currently",
            0,
        )
    status["disruptionsAllowed"] = allowed - 1
    now = to_ts(store.clock.now())
    if status["disruptionsAllowed"] == 0:
        _set_allowed_condition(status, now)
    if dry_run:
        return
    status.setdefault("disruptedPods", {})[pod["metadata"]["name"]] = fmt(now)
    new_status = _ordered(status)

    def write(o: Obj) -> None:
        o["status"] = new_status

    store.mutate(PDBS, pdb["metadata"]["namespace"], name, write, subresource="status", manager=APISERVER)


_ORDER = (
    "observedGeneration",
    "disruptedPods",
    "disruptionsAllowed",
    "currentHealthy",
    "desiredHealthy",
    "expectedPods",
    "conditions",
)


def _ordered(status: dict[str, Any]) -> dict[str, Any]:
    out = {k: status[k] for k in _ORDER if k in status}
    out.update({k: v for k, v in status.items() if k not in out})
    return out


class _NoController(Exception):
    pass


class DisruptionController:
    def __init__(self, env: Env) -> None:
        self.env = env
        self._pdb_wake = INF
        self._no_pods_reported: set[str] = set()
        self._cache = SyncCache()

    def next_wakeup(self, now: float) -> float:
        return self._cache.wake

    def _inputs(self, pdb: Obj) -> tuple[Any, ...]:
        ns = pdb["metadata"]["namespace"]
        store = self.env.store
        controllers = tuple(
            (o["metadata"]["uid"], o["metadata"]["resourceVersion"])
            for rt in (DEPLOYMENTS, REPLICASETS)
            for o in store.iter_live(rt, ns)
        )
        return pdb["metadata"]["resourceVersion"], self.env.pods.ns_version.get(ns, 0), controllers

    def sync(self, now: float) -> None:
        self._cache.begin()
        for pdb in list(self.env.store.iter_live(PDBS)):
            live = self.env.store.peek(PDBS, pdb["metadata"]["namespace"], pdb["metadata"]["name"])
            if live is None or live["metadata"].get("deletionTimestamp"):
                continue
            uid = live["metadata"]["uid"]
            if self._cache.unchanged(uid, self._inputs(live), now):
                continue
            self._pdb_wake = INF
            self.env.guard(
                f"pdb {live['metadata']['namespace']}/{live['metadata']['name']}", self._sync, live, now
            )
            after = self.env.store.peek(PDBS, live["metadata"]["namespace"], live["metadata"]["name"])
            self._cache.synced(uid, self._pdb_wake, self._inputs(after) if after is not None else None)
        self._cache.end()

    def _pods_for(self, pdb: Obj) -> list[Obj]:
        match = compile_selector((pdb.get("spec") or {}).get("selector"))
        return [p for p in self.env.pods.in_namespace(pdb["metadata"]["namespace"]) if match(labels_of(p))]

    def _sync(self, pdb: Obj, now: float) -> None:
        pods = self._pods_for(pdb)
        uid = pdb["metadata"]["uid"]
        if not pods and uid not in self._no_pods_reported:
            self._no_pods_reported.add(uid)
            self.env.recorder.record(pdb, "Normal", "NoPods", "No matching pods found", DISRUPTION, now)
        elif pods:
            self._no_pods_reported.discard(uid)
        try:
            expected, desired = self._expected_counts(pdb, pods)
        except (_NoController, IntOrPercentError) as exc:
            self.env.recorder.record(
                pdb,
                "Warning",
                "CalculateExpectedPodCountFailed",
                f"Failed to calculate the number of expected pods: {exc}",
                DISRUPTION,
                now,
            )
            self._fail_safe(pdb, str(exc), now)
            return
        disrupted = self._disrupted_map(pdb, pods, now)
        healthy = 0
        for pod in pods:
            if pod["metadata"].get("deletionTimestamp"):
                continue
            t = parse_ts(disrupted.get(pod["metadata"]["name"]))
            if t is not None and t + DELETION_TIMEOUT > now:
                continue
            if is_pod_ready(pod):
                healthy += 1
        self._update(pdb, healthy, desired, expected, disrupted, now)

    def _expected_counts(self, pdb: Obj, pods: list[Obj]) -> tuple[int, int]:
        spec = pdb.get("spec") or {}
        if spec.get("maxUnavailable") is not None:
            expected = self._expected_scale(pods)
            unavailable = scaled_value(spec["maxUnavailable"], expected, True)
            return expected, max(expected - unavailable, 0)
        if spec.get("minAvailable") is not None:
            mina = spec["minAvailable"]
            if isinstance(mina, int) and not isinstance(mina, bool):
                return len(pods), mina
            expected = self._expected_scale(pods)
            return expected, scaled_value(mina, expected, True)
        return 0, 0

    def _expected_scale(self, pods: list[Obj]) -> int:
        """`getExpectedScale`: the sum of the desired replicas of the pods' controllers."""
        scales: dict[str, int] = {}
        seen: set[str] = set()
        store = self.env.store
        for pod in pods:
            ref = controller_ref(pod)
            if ref is None:
                continue  # unmanaged pods are ignored
            if str(ref.get("uid")) in seen:
                continue
            seen.add(str(ref.get("uid")))
            ns = pod["metadata"]["namespace"]
            found: Obj | None = None
            if ref.get("kind") == "ReplicaSet":
                rs = store.peek(REPLICASETS, ns, str(ref.get("name")))
                if rs is not None and rs["metadata"].get("uid") == ref.get("uid"):
                    rs_ref = controller_ref(rs)
                    if rs_ref is not None and rs_ref.get("kind") == "Deployment":
                        dep = store.peek(DEPLOYMENTS, ns, str(rs_ref.get("name")))
                        if dep is not None and dep["metadata"].get("uid") == rs_ref.get("uid"):
                            found = dep
                    else:
                        found = rs
            elif ref.get("kind") == "Deployment":
                dep = store.peek(DEPLOYMENTS, ns, str(ref.get("name")))
                if dep is not None and dep["metadata"].get("uid") == ref.get("uid"):
                    found = dep
            if found is None:
                raise _NoController(f'found no controllers for pod "{pod["metadata"]["name"]}"')
            r = (found.get("spec") or {}).get("replicas")
            scales[found["metadata"]["uid"]] = 1 if r is None else int(r)
        return sum(scales.values())

    def _disrupted_map(self, pdb: Obj, pods: list[Obj], now: float) -> dict[str, str]:
        old = (pdb.get("status") or {}).get("disruptedPods") or {}
        out: dict[str, str] = {}
        if not old:
            return out
        for pod in pods:
            if pod["metadata"].get("deletionTimestamp"):
                continue
            t_str = old.get(pod["metadata"]["name"])
            t = parse_ts(t_str)
            if t is None:
                continue
            expected = t + DELETION_TIMEOUT
            if expected < now:
                self.env.recorder.record(
                    pod,
                    "Warning",
                    "NotDeleted",
                    f"Pod was expected by PDB {pdb['metadata']['namespace']}/"
                    f"{pdb['metadata']['name']} to be deleted but it wasn't",
                    DISRUPTION,
                    now,
                )
            else:
                out[pod["metadata"]["name"]] = str(t_str)
                self._pdb_wake = min(self._pdb_wake, expected + 1)
        return out

    def _update(
        self, pdb: Obj, healthy: int, desired: int, expected: int, disrupted: dict[str, str], now: float
    ) -> None:
        allowed = healthy - desired
        if expected <= 0 or allowed <= 0:
            allowed = 0
        old = pdb.get("status") or {}
        generation = int(pdb["metadata"].get("generation") or 1)
        cond = get_condition(old.get("conditions"), "DisruptionAllowed")
        up_to_date = (
            cond is not None
            and int(cond.get("observedGeneration") or 0) == int(old.get("observedGeneration") or 0)
            and cond.get("status") == ("True" if int(old.get("disruptionsAllowed") or 0) > 0 else "False")
        )
        if (
            int(old.get("currentHealthy") or 0) == healthy
            and int(old.get("desiredHealthy") or 0) == desired
            and int(old.get("expectedPods") or 0) == expected
            and int(old.get("disruptionsAllowed") or 0) == allowed
            and (old.get("disruptedPods") or {}) == disrupted
            and int(old.get("observedGeneration") or 0) == generation
            and up_to_date
        ):
            return
        status: dict[str, Any] = {"observedGeneration": generation}
        if disrupted:
            status["disruptedPods"] = disrupted
        status.update(
            {
                "disruptionsAllowed": allowed,
                "currentHealthy": healthy,
                "desiredHealthy": desired,
                "expectedPods": expected,
            }
        )
        status["conditions"] = copy.deepcopy(old.get("conditions") or [])
        _set_allowed_condition(status, now)
        self._write(pdb, _ordered(status))

    def _fail_safe(self, pdb: Obj, message: str, now: float) -> None:
        status = copy.deepcopy(pdb.get("status") or {})
        status["disruptionsAllowed"] = 0
        for k in ("currentHealthy", "desiredHealthy", "expectedPods"):
            status.setdefault(k, 0)
        _set_status_condition(
            status,
            {
                "type": "DisruptionAllowed",
                "status": "False",
                "observedGeneration": int(status.get("observedGeneration") or 0),
                "lastTransitionTime": fmt(now),
                "reason": "SyncFailed",
                "message": message,
            },
        )
        if status != pdb.get("status"):
            self._write(pdb, _ordered(status))

    def _write(self, pdb: Obj, status: dict[str, Any]) -> None:
        def fn(o: Obj) -> None:
            o["status"] = status

        m = pdb["metadata"]
        self.env.store.mutate(PDBS, m["namespace"], m["name"], fn, subresource="status")
