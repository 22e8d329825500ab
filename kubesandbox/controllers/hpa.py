"""The HorizontalPodAutoscaler controller (pkg/controller/podautoscaler) in a cluster without metrics.

The sandbox has no metrics server, so the real controller's outcome is predictable: it reads
the target's scale (`AbleToScale`), enforces the bounds before looking at metrics (above
`maxReplicas` → scale to max, below `minReplicas` → scale to min; a target at 0 replicas
disables autoscaling), and otherwise fails to fetch metrics (`ScalingActive` False,
`FailedGetResourceMetric` …) and leaves the replica count alone. One reconcile per HPA every
15 s (the controller's resync period), or at once when the HPA itself changes.
"""

from __future__ import annotations

import copy
import math
from typing import Any

from kubesandbox.controllers.context import Env
from kubesandbox.controllers.events import HPA
from kubesandbox.controllers.util import fmt, get_condition
from kubesandbox.resources import BY_KIND_ONLY, BY_PLURAL, resource_for_kind
from kubesandbox.resources.selectors import selector_to_string
from kubesandbox.store import Obj

HPAS = BY_PLURAL[("autoscaling", "horizontalpodautoscalers")]
SYNC_PERIOD = 15.0
INF = math.inf
NO_RESOURCE_METRICS = (
    "unable to fetch metrics from resource metrics API: the server could not find the requested "
    "resource (get pods.metrics.k8s.io)"
)
NO_CUSTOM_METRICS = (
    "unable to fetch metrics from custom metrics API: no custom metrics API "
    "(custom.metrics.k8s.io) registered"
)
NO_EXTERNAL_METRICS = (
    "unable to fetch metrics from external metrics API: no external metrics API "
    "(external.metrics.k8s.io) registered"
)
DEFAULT_METRICS = [
    {
        "type": "Resource",
        "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}},
    }
]
_STATUS_ORDER = (
    "observedGeneration",
    "lastScaleTime",
    "currentReplicas",
    "desiredReplicas",
    "currentMetrics",
    "conditions",
)


def _metric_failure(spec: dict[str, Any], namespace: str) -> tuple[str, str, str]:
    """(condition reason, inner error, wrapped error) for a metric that cannot be read."""
    kind = spec.get("type")
    if kind in ("Resource", "ContainerResource"):
        src = spec.get("resource" if kind == "Resource" else "containerResource") or {}
        name = src.get("name", "cpu")
        target = src.get("target") or {}
        what = "usage" if target.get("averageValue") is not None else "utilization"
        inner = (
            f"failed to get {name} {what}: unable to get metrics for resource {name}: {NO_RESOURCE_METRICS}"
        )
        if kind == "Resource":
            return "FailedGetResourceMetric", inner, f"failed to get {name} resource metric value: {inner}"
        return (
            "FailedGetContainerResourceMetric",
            inner,
            f"failed to get {name} container resource metric value: {inner}",
        )
    if kind == "Pods":
        name = ((spec.get("pods") or {}).get("metric") or {}).get("name", "")
        inner = f"unable to get metric {name}: {NO_CUSTOM_METRICS}"
        return "FailedGetPodsMetric", inner, f"failed to get pods metric value: {inner}"
    if kind == "Object":
        obj = spec.get("object") or {}
        name = (obj.get("metric") or {}).get("name", "")
        described = obj.get("describedObject") or {}
        inner = (
            f"unable to get metric {name}: {described.get('kind', '')} on {namespace} "
            f"{described.get('name', '')}/{NO_CUSTOM_METRICS}"
        )
        return "FailedGetObjectMetric", inner, f"failed to get object metric value: {inner}"
    name = (((spec.get("external") or {}).get("metric")) or {}).get("name", "")
    inner = f"unable to get external metric {namespace}/{name}/nil: {NO_EXTERNAL_METRICS}"
    return "FailedGetExternalMetric", inner, f"failed to get {name} external metric: {inner}"


def _set_condition(
    status: dict[str, Any], type_: str, cstatus: str, reason: str, message: str, now: float
) -> None:
    """`setConditionInList`: lastTransitionTime moves only when the status changes."""
    conds = status.setdefault("conditions", [])
    cond = get_condition(conds, type_)
    if cond is None:
        cond = {"type": type_}
        conds.append(cond)
    if cond.get("status") != cstatus:
        cond["lastTransitionTime"] = fmt(now)
    cond["status"] = cstatus
    cond["reason"] = reason
    cond["message"] = message
    ordered = {k: cond[k] for k in ("type", "status", "lastTransitionTime", "reason", "message") if k in cond}
    conds[conds.index(cond)] = ordered


class HpaController:
    def __init__(self, env: Env) -> None:
        self.env = env
        self._next: dict[str, tuple[float, int]] = {}  # uid → (next sync, generation synced)

    def next_wakeup(self, now: float) -> float:
        return min((t for t, _ in self._next.values()), default=INF)

    def sync(self, now: float) -> None:
        seen: set[str] = set()
        for hpa in list(self.env.store.iter_live(HPAS)):
            m = hpa["metadata"]
            seen.add(m["uid"])
            gen = int(m.get("generation") or 1)
            due = self._next.get(m["uid"])
            if due is not None and now < due[0] - 1e-6 and gen == due[1]:
                continue
            self._next[m["uid"]] = (now + SYNC_PERIOD, gen)
            self.env.guard(f"hpa {m['namespace']}/{m['name']}", self._reconcile, copy.deepcopy(hpa), now)
        for uid in [u for u in self._next if u not in seen]:
            del self._next[uid]

    def _event(self, hpa: Obj, type_: str, reason: str, message: str, now: float) -> None:
        live = self.env.store.peek(HPAS, hpa["metadata"]["namespace"], hpa["metadata"]["name"]) or hpa
        self.env.recorder.record(live, type_, reason, message, HPA, now)

    def _write(self, hpa: Obj, status: dict[str, Any]) -> None:
        new = {k: status[k] for k in _STATUS_ORDER if k in status}
        new.update({k: v for k, v in status.items() if k not in new})
        if new == hpa.get("status"):
            return
        m = hpa["metadata"]

        def fn(o: Obj) -> None:
            o["status"] = new

        self.env.store.mutate(HPAS, m["namespace"], m["name"], fn, subresource="status")

    def _reconcile(self, hpa: Obj, now: float) -> None:
        store = self.env.store
        spec = hpa.get("spec") or {}
        ns = hpa["metadata"]["namespace"]
        status: dict[str, Any] = copy.deepcopy(hpa.get("status") or {})
        status.setdefault("desiredReplicas", 0)
        ref = spec.get("scaleTargetRef") or {}
        api_version, kind, name = (
            str(ref.get("apiVersion", "")),
            str(ref.get("kind", "")),
            str(ref.get("name", "")),
        )
        group = api_version.rsplit("/", 1)[0] if "/" in api_version else ""
        rt = resource_for_kind(api_version, kind)
        if rt is None:
            candidate = BY_KIND_ONLY.get(kind)
            rt = candidate if candidate is not None and candidate.group == group else None
        error = ""
        target: Obj | None = None
        if rt is None:
            error = f'no matches for kind "{kind}" in group "{group}"'
        elif rt.subresource("scale") is None:
            error = "the server could not find the requested resource"
        else:
            target = store.peek(rt, ns, name)
            if target is None:
                error = f'{rt.group_resource} "{name}" not found'
        if rt is None or target is None or error:
            self._event(hpa, "Warning", "FailedGetScale", error, now)
            _set_condition(
                status,
                "AbleToScale",
                "False",
                "FailedGetScale",
                f"the HPA controller was unable to get the target's current scale: {error}",
                now,
            )
            self._write(hpa, status)
            return
        _set_condition(
            status,
            "AbleToScale",
            "True",
            "SucceededGetScale",
            "the HPA controller was able to get the target's current scale",
            now,
        )
        r = (target.get("spec") or {}).get("replicas")
        current = 1 if r is None else int(r)
        min_replicas = spec.get("minReplicas")
        min_replicas = 1 if min_replicas is None else int(min_replicas)
        max_replicas = int(spec.get("maxReplicas") or 0)
        rescale, desired, reason = True, 0, ""
        if current == 0 and min_replicas != 0:
            rescale = False
            _set_condition(
                status,
                "ScalingActive",
                "False",
                "ScalingDisabled",
                "scaling is disabled since the replica count of the target is zero",
                now,
            )
        elif current > max_replicas:
            reason, desired = "Current number of replicas above Spec.MaxReplicas", max_replicas
        elif current < min_replicas:
            reason, desired = "Current number of replicas below Spec.MinReplicas", min_replicas
        else:
            if not selector_to_string((target.get("spec") or {}).get("selector")):
                _set_condition(
                    status,
                    "ScalingActive",
                    "False",
                    "InvalidSelector",
                    "the HPA target's scale is missing a selector",
                    now,
                )
                self._event(hpa, "Warning", "SelectorRequired", "selector is required", now)
                status["currentReplicas"] = current
                self._write(hpa, status)
                return
            metrics = spec.get("metrics") or DEFAULT_METRICS
            first = _metric_failure(metrics[0], ns)
            for m in metrics:
                r_reason, inner, _ = _metric_failure(m, ns)
                self._event(hpa, "Warning", r_reason, inner, now)
            _set_condition(
                status,
                "ScalingActive",
                "False",
                first[0],
                f"the HPA was unable to compute the replica count: {first[1]}",
                now,
            )
            status["currentReplicas"] = current
            status["currentMetrics"] = [{"type": ""} for _ in metrics]
            self._write(hpa, status)
            self._event(
                hpa,
                "Warning",
                "FailedComputeMetricsReplicas",
                f"invalid metrics ({len(metrics)} invalid out of {len(metrics)}), first error is: {first[2]}",
                now,
            )
            return
        if rescale:

            def scale(o: Obj) -> None:
                o.setdefault("spec", {})["replicas"] = desired

            store.mutate(rt, ns, name, scale)
            _set_condition(
                status,
                "AbleToScale",
                "True",
                "SucceededRescale",
                f"the HPA controller was able to update the target scale to {desired}",
                now,
            )
            self._event(hpa, "Normal", "SuccessfulRescale", f"New size: {desired}; reason: {reason}", now)
            status["lastScaleTime"] = fmt(now)
        else:
            desired = current
        status["currentReplicas"] = current
        status["desiredReplicas"] = desired
        status.pop("currentMetrics", None)
        if not status.get("currentReplicas"):
            status.pop("currentReplicas", None)
        self._write(hpa, status)
