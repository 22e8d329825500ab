"""The pure parts of the Deployment controller (pkg/controller/deployment/util/deployment_util.go).

Reading a Deployment with its defaults, resolving maxSurge/maxUnavailable, revisions and the
annotations the controller keeps on ReplicaSets, `EqualIgnoreHash`, and the conditions helpers.
"""

from __future__ import annotations

import copy
import functools
import math
from typing import Any

from kubesandbox.controllers.util import controller_ref, fmt, get_condition, parse_ts, scaled_value
from kubesandbox.resources import BY_PLURAL
from kubesandbox.resources.defaults import pod_spec
from kubesandbox.store import Obj

DEPLOYMENTS = BY_PLURAL[("apps", "deployments")]
HASH_LABEL = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
SKIP_ANNOTATIONS = frozenset(
    {
        "kubectl.kubernetes.io/last-applied-configuration",
        REVISION,
        REVISION_HISTORY,
        DESIRED_REPLICAS,
        MAX_REPLICAS,
        "deprecated.deployment.rollback.to",
    }
)
MAX_REV_HISTORY_CHARS = 2000
MAX_INT32 = 2**31 - 1
INF = math.inf

# Progressing / Available reasons (deployment_util.go)
REPLICASET_UPDATED = "ReplicaSetUpdated"
NEW_RS_CREATED = "NewReplicaSetCreated"
FOUND_NEW_RS = "FoundNewReplicaSet"
NEW_RS_AVAILABLE = "NewReplicaSetAvailable"
TIMED_OUT = "ProgressDeadlineExceeded"
PAUSED = "DeploymentPaused"
RESUMED = "DeploymentResumed"
MIN_AVAILABLE = "MinimumReplicasAvailable"
MIN_UNAVAILABLE = "MinimumReplicasUnavailable"


# -- reading a Deployment (API defaults assumed, absent fields read as their defaults) -----------


def spec_of(d: Obj) -> dict[str, Any]:
    spec: dict[str, Any] = d.setdefault("spec", {})
    return spec


def replicas(obj: Obj) -> int:
    r = (obj.get("spec") or {}).get("replicas")
    return 1 if r is None else int(r)


def rs_replicas(rs: Obj | None) -> int:
    if rs is None:
        return 0
    r = (rs.get("spec") or {}).get("replicas")
    return 1 if r is None else int(r)


def status_int(rs: Obj | None, key: str) -> int:
    if rs is None:
        return 0
    return int((rs.get("status") or {}).get(key) or 0)


def is_rolling(d: Obj) -> bool:
    return ((spec_of(d).get("strategy") or {}).get("type") or "RollingUpdate") == "RollingUpdate"


def resolve_fenceposts(max_surge: Any, max_unavailable: Any, desired: int) -> tuple[int, int]:
    surge = scaled_value(0 if max_surge is None else max_surge, desired, True)
    unavailable = scaled_value(0 if max_unavailable is None else max_unavailable, desired, False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def _rolling_params(d: Obj) -> tuple[Any, Any]:
    ru = (spec_of(d).get("strategy") or {}).get("rollingUpdate") or {}
    return ru.get("maxSurge", "25%"), ru.get("maxUnavailable", "25%")


def max_surge(d: Obj) -> int:
    if not is_rolling(d):
        return 0
    return resolve_fenceposts(*_rolling_params(d), replicas(d))[0]


def max_unavailable(d: Obj) -> int:
    if not is_rolling(d) or replicas(d) == 0:
        return 0
    mu = resolve_fenceposts(*_rolling_params(d), replicas(d))[1]
    return min(mu, replicas(d))


def progress_deadline(d: Obj) -> int | None:
    pds = spec_of(d).get("progressDeadlineSeconds", 600)
    return None if pds is None or pds == MAX_INT32 else int(pds)


def revision_history_limit(d: Obj) -> int | None:
    rhl = spec_of(d).get("revisionHistoryLimit", 10)
    return None if rhl is None or rhl == MAX_INT32 else int(rhl)


def revision(rs: Obj | None) -> int:
    if rs is None:
        return 0
    v = (rs["metadata"].get("annotations") or {}).get(REVISION)
    try:
        return int(v) if v is not None else 0
    except ValueError:
        return 0


def _created(rs: Obj) -> float:
    return parse_ts(rs["metadata"].get("creationTimestamp")) or 0.0


def by_creation(a: Obj, b: Obj) -> int:
    ta, tb = _created(a), _created(b)
    if ta == tb:
        return (
            -1
            if a["metadata"]["name"] < b["metadata"]["name"]
            else (1 if a["metadata"]["name"] > b["metadata"]["name"] else 0)
        )
    return -1 if ta < tb else 1


def sort_by_creation(rss: list[Obj]) -> list[Obj]:
    return sorted(rss, key=functools.cmp_to_key(by_creation))


def _normalized_template(template: Any) -> Any:
    """A template for `EqualIgnoreHash`: hash label dropped, defaults applied, nil ≡ empty."""
    t = copy.deepcopy(template or {})
    labels = (t.get("metadata") or {}).get("labels")
    if isinstance(labels, dict):
        labels.pop(HASH_LABEL, None)
    if isinstance(t.get("spec"), dict):
        pod_spec(t["spec"])
    return _prune(t)


def _prune(v: Any) -> Any:
    if isinstance(v, dict):
        out = {k: _prune(x) for k, x in v.items()}
        return {k: x for k, x in out.items() if x is not None and x != {} and x != []}
    if isinstance(v, list):
        return [_prune(x) for x in v]
    return v


def equal_ignore_hash(t1: Any, t2: Any) -> bool:
    return bool(_normalized_template(t1) == _normalized_template(t2))


def find_new_rs(d: Obj, rs_list: list[Obj]) -> Obj | None:
    target = _normalized_template(spec_of(d).get("template"))
    for rs in sort_by_creation(rs_list):
        if _normalized_template((rs.get("spec") or {}).get("template")) == target:
            return rs
    return None


def adopt_by(ref: dict[str, Any]) -> Any:
    def fn(o: Obj) -> None:
        if controller_ref(o) is None:
            o["metadata"].setdefault("ownerReferences", []).append(ref)

    return fn


def by_size_newer(a: Obj, b: Obj) -> int:
    """`ReplicaSetsBySizeNewer`: bigger first, then newer first."""
    if rs_replicas(a) != rs_replicas(b):
        return -1 if rs_replicas(a) > rs_replicas(b) else 1
    return by_creation(b, a)


def by_size_older(a: Obj, b: Obj) -> int:
    """`ReplicaSetsBySizeOlder`: bigger first, then older first."""
    if rs_replicas(a) != rs_replicas(b):
        return -1 if rs_replicas(a) > rs_replicas(b) else 1
    return by_creation(a, b)


def by_revision(a: Obj, b: Obj) -> int:
    if revision(a) != revision(b):
        return -1 if revision(a) < revision(b) else 1
    return by_creation(a, b)


def active(rss: list[Obj | None]) -> list[Obj]:
    return [rs for rs in rss if rs is not None and rs_replicas(rs) > 0]


def new_rs_new_replicas(d: Obj, all_rss: list[Obj | None], new_rs: Obj) -> int:
    if is_rolling(d):
        surge = scaled_value(_rolling_params(d)[0], replicas(d), True)
        current = sum(rs_replicas(rs) for rs in all_rss if rs is not None)
        max_total = replicas(d) + surge
        if current >= max_total:
            return rs_replicas(new_rs)
        up = min(max_total - current, replicas(d) - rs_replicas(new_rs))
        return rs_replicas(new_rs) + up
    return replicas(d)


def set_replicas_annotations(rs: Obj, desired: int, max_replicas: int) -> bool:
    ann = rs["metadata"].setdefault("annotations", {})
    changed = False
    for k, v in ((DESIRED_REPLICAS, str(desired)), (MAX_REPLICAS, str(max_replicas))):
        if ann.get(k) != v:
            ann[k] = v
            changed = True
    return changed


def replicas_annotations_need_update(rs: Obj, desired: int, max_replicas: int) -> bool:
    ann = rs["metadata"].get("annotations") or {}
    return ann.get(DESIRED_REPLICAS) != str(desired) or ann.get(MAX_REPLICAS) != str(max_replicas)


def set_new_rs_annotations(d: Obj, rs: Obj, new_revision: str, exists: bool) -> bool:
    ann = rs["metadata"].setdefault("annotations", {})
    changed = False
    for k, v in (d["metadata"].get("annotations") or {}).items():
        if k in SKIP_ANNOTATIONS or ann.get(k) == v:
            continue
        ann[k] = v
        changed = True
    old = ann.get(REVISION)
    try:
        old_int = int(old) if old is not None and old != "" else 0
    except ValueError:
        return False
    new_int = int(new_revision)
    if old_int < new_int:
        ann[REVISION] = new_revision
        changed = True
    if old is not None and old_int < new_int:
        history = ann.get(REVISION_HISTORY, "")
        if not history:
            ann[REVISION_HISTORY] = old
        else:
            parts = history.split(",")
            total = len(history) + len(old) + 1
            start = 0
            while total > MAX_REV_HISTORY_CHARS and start < len(parts):
                total -= len(parts[start]) + 1
                start += 1
            if total <= MAX_REV_HISTORY_CHARS:
                ann[REVISION_HISTORY] = ",".join([*parts[start:], old])
    if not exists and set_replicas_annotations(rs, replicas(d), replicas(d) + max_surge(d)):
        changed = True
    return changed


def new_condition(type_: str, status: str, reason: str, message: str, now: float) -> dict[str, Any]:
    return {
        "type": type_,
        "status": status,
        "lastUpdateTime": fmt(now),
        "lastTransitionTime": fmt(now),
        "reason": reason,
        "message": message,
    }


def set_condition(status: dict[str, Any], cond: dict[str, Any]) -> None:
    """`SetDeploymentCondition`: no-op for the same status and reason; keeps lastTransitionTime
    when only the reason changes; the condition moves to the end of the list."""
    conds = status.get("conditions") or []
    current = get_condition(conds, cond["type"])
    if (
        current is not None
        and current.get("status") == cond["status"]
        and current.get("reason") == cond["reason"]
    ):
        return
    if current is not None and current.get("status") == cond["status"]:
        cond["lastTransitionTime"] = current.get("lastTransitionTime", cond["lastTransitionTime"])
    status["conditions"] = [c for c in conds if c.get("type") != cond["type"]] + [cond]


def remove_condition(status: dict[str, Any], type_: str) -> None:
    conds = [c for c in status.get("conditions") or [] if c.get("type") != type_]
    if conds:
        status["conditions"] = conds
    else:
        status.pop("conditions", None)


def deployment_complete(d: Obj, status: dict[str, Any]) -> bool:
    r = replicas(d)
    return (
        int(status.get("updatedReplicas") or 0) == r
        and int(status.get("replicas") or 0) == r
        and int(status.get("availableReplicas") or 0) == r
        and int(status.get("observedGeneration") or 0) >= int(d["metadata"].get("generation") or 1)
    )


def deployment_progressing(d: Obj, new: dict[str, Any]) -> bool:
    old = d.get("status") or {}

    def g(s: dict[str, Any], k: str) -> int:
        return int(s.get(k) or 0)

    old_old = g(old, "replicas") - g(old, "updatedReplicas")
    new_old = g(new, "replicas") - g(new, "updatedReplicas")
    return (
        g(new, "updatedReplicas") > g(old, "updatedReplicas")
        or new_old < old_old
        or g(new, "readyReplicas") > g(old, "readyReplicas")
        or g(new, "availableReplicas") > g(old, "availableReplicas")
    )


def deployment_timed_out(d: Obj, new: dict[str, Any], now: float) -> bool:
    pds = progress_deadline(d)
    if pds is None:
        return False
    cond = get_condition(new.get("conditions"), "Progressing")
    if cond is None:
        return False
    if cond.get("reason") == NEW_RS_AVAILABLE:
        return False
    if cond.get("reason") == TIMED_OUT:
        return True
    frm = parse_ts(cond.get("lastUpdateTime"))
    return frm is not None and frm + pds < now
