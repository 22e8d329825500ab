"""API-server validation: 422 Invalid answers with the field paths, reasons and messages a v1.37 server uses
(k8s.io/kubernetes `pkg/apis/*/validation`, apimachinery `validation` and `field`), cause by cause, in the
server's order (the causes are joined into the message, so the order shows).

What is checked, per kind (after defaulting):

- every object: name (required, DNS subdomain or label, length), label keys and values, annotation keys;
- Deployment / ReplicaSet: replicas, selector (required, not empty, operators), template labels against the
  selector, the pod template (restartPolicy Always), strategy (type, maxSurge/maxUnavailable forms, not both
  0, no rollingUpdate with Recreate), minReadySeconds, revisionHistoryLimit, progressDeadlineSeconds; the
  selector is immutable;
- Pod (and every pod template): volumes (names, duplicates), containers and init containers (required, name,
  duplicates, image, ports, volume mounts, probes, imagePullPolicy, requests <= limits), restartPolicy,
  dnsPolicy; a pod's spec is immutable but for images, activeDeadlineSeconds, tolerations additions and
  terminationGracePeriodSeconds;
- Job and CronJob: template restartPolicy OnFailure or Never, non-negative counts; a CronJob's schedule
  (robfig/cron's standard parser and its error texts), concurrencyPolicy, history limits, name <= 52;
- HorizontalPodAutoscaler: scaleTargetRef, min/max replicas, metric types, utilization;
- PodDisruptionBudget: minAvailable / maxUnavailable (int-or-percent, not both), unhealthyPodEvictionPolicy;
- Service: ports (required, ranges, names, duplicates, protocol), type;
- ConfigMap / Secret: data keys;
- Lease: leaseDurationSeconds > 0, leaseTransitions >= 0. (Its MicroTime fields are checked while decoding:
  `apiserver.bodies.check_micro_times`.)

Not validated: unknown fields (`fieldValidation=Strict` needs the full schema) and field types (a string
where an integer belongs is a decode error on a real server).
"""

from __future__ import annotations

import json
from typing import Any

from kubesandbox.apiserver.validation.fields import (
    _CONFIG_KEY,
    CONFIG_KEY_MSG,
    PORT_RANGE_MSG,
    Cause,
    _int,
    _metadata,
    _obj,
    duplicate,
    forbidden,
    int_or_percent,
    invalid,
    nonnegative,
    not_supported,
    required,
    selector,
)
from kubesandbox.apiserver.validation.pods import _PROTOCOLS, _pod_update, _port_name, pod_spec
from kubesandbox.apiserver.validation.workloads import _cronjob, _job_spec, _replicated, cron_error
from kubesandbox.resources import ResourceType, errors

__all__ = ["cron_error", "validate"]

Obj = dict[str, Any]


# -- the rest -------------------------------------------------------------------------------------------------

_METRIC_TYPES = ("ContainerResource", "External", "Object", "Pods", "Resource")


def _hpa(spec: Obj) -> list[Cause]:
    causes: list[Cause] = []
    ref = _obj(spec.get("scaleTargetRef"))
    if not ref.get("kind"):
        causes.append(required("spec.scaleTargetRef.kind"))
    if not ref.get("name"):
        causes.append(required("spec.scaleTargetRef.name"))
    api_version = str(ref.get("apiVersion") or "")
    if "/" not in api_version or not api_version.split("/")[0]:
        causes.append(
            invalid("spec.scaleTargetRef.apiVersion", api_version, "apiVersion must specify API group")
        )
    low, high = _int(spec.get("minReplicas")), _int(spec.get("maxReplicas"))
    metrics = spec.get("metrics") or []
    if low is not None and low < 1:
        scales_to_zero = any(isinstance(m, dict) and m.get("type") in ("Object", "External") for m in metrics)
        if low < 0:
            causes.append(invalid("spec.minReplicas", low, "must be greater than or equal to 0"))
        elif not scales_to_zero:
            causes.append(
                forbidden(
                    "spec.metrics",
                    "must specify at least one Object or External metric to support scaling to zero replicas",
                )
            )
    if high is not None and low is not None and high < low:
        causes.append(invalid("spec.maxReplicas", high, "must be greater than or equal to `minReplicas`"))
    if high is None or high < 1:
        causes.append(required("spec.maxReplicas"))
    for i, m in enumerate(metrics):
        if not isinstance(m, dict):
            continue
        if m.get("type") not in _METRIC_TYPES:
            causes.append(not_supported(f"spec.metrics[{i}].type", m.get("type"), _METRIC_TYPES))
            continue
        target = ((m.get("resource") or {}).get("target") or {}) if m.get("type") == "Resource" else {}
        util = _int(target.get("averageUtilization"))
        if util is not None and util <= 0:
            causes.append(
                invalid(
                    f"spec.metrics[{i}].resource.target.averageUtilization", util, "must be greater than 0"
                )
            )
    return causes


def _pdb(spec: Obj) -> list[Cause]:
    causes: list[Cause] = []
    low, high = spec.get("minAvailable"), spec.get("maxUnavailable")
    if low is not None and high is not None:
        internal = {
            "MinAvailable": low,
            "Selector": spec.get("selector"),
            "MaxUnavailable": high,
            "UnhealthyPodEvictionPolicy": spec.get("unhealthyPodEvictionPolicy"),
        }
        value = json.dumps(internal, separators=(",", ":"), ensure_ascii=False)
        causes.append(
            (
                "spec",
                "FieldValueInvalid",
                f"Invalid value: {value}: minAvailable and maxUnavailable cannot be both set",
            )
        )
    causes += int_or_percent("spec.minAvailable", low) + int_or_percent("spec.maxUnavailable", high)
    policy = spec.get("unhealthyPodEvictionPolicy")
    if policy is not None and policy not in ("AlwaysAllow", "IfHealthyBudget"):
        causes.append(
            not_supported("spec.unhealthyPodEvictionPolicy", policy, ("AlwaysAllow", "IfHealthyBudget"))
        )
    more, _ = selector("spec.selector", spec.get("selector"))
    return causes + more


_SERVICE_TYPES = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")


def _service(spec: Obj) -> list[Cause]:
    causes: list[Cause] = []
    kind = spec.get("type")
    ports = spec.get("ports") or []
    if kind != "ExternalName" and not ports and spec.get("clusterIP") != "None":
        causes.append(required("spec.ports"))
    seen: list[Any] = []
    for i, port in enumerate(ports):
        if not isinstance(port, dict):
            continue
        p = f"spec.ports[{i}]"
        if len(ports) > 1 and not port.get("name"):
            causes.append(required(f"{p}.name"))
        elif port.get("name"):
            causes += _port_name(f"{p}.name", port["name"])
        number = _int(port.get("port"))
        if number is None or not 1 <= number <= 65535:
            causes.append(invalid(f"{p}.port", port.get("port"), PORT_RANGE_MSG))
        if port.get("protocol") not in _PROTOCOLS:
            causes.append(not_supported(f"{p}.protocol", port.get("protocol"), _PROTOCOLS))
        target = port.get("targetPort")
        if isinstance(target, str):
            causes += _port_name(f"{p}.targetPort", target)
        elif (t := _int(target)) is not None and not 1 <= t <= 65535:
            causes.append(invalid(f"{p}.targetPort", t, PORT_RANGE_MSG))
        key = (port.get("port"), port.get("protocol"))
        if key in seen:
            internal = {
                "Name": port.get("name", ""),
                "Protocol": port.get("protocol"),
                "AppProtocol": port.get("appProtocol"),
                "Port": port.get("port"),
                "TargetPort": target if target is not None else 0,
                "NodePort": port.get("nodePort", 0),
            }
            causes.append(duplicate(p, internal))
        seen.append(key)
    if kind not in _SERVICE_TYPES:
        causes.append(not_supported("spec.type", kind, _SERVICE_TYPES))
    return causes


def _data_keys(obj: Obj) -> list[Cause]:
    causes: list[Cause] = []
    for field_name in ("data", "binaryData"):
        for key in obj.get(field_name) or {}:
            p = f"{field_name}[{key}]"
            if len(str(key)) > 253:
                causes.append(invalid(p, key, "must be no more than 253 characters"))
            if not _CONFIG_KEY.match(str(key)):
                causes.append(invalid(p, key, CONFIG_KEY_MSG))
    return causes


def _lease(spec: Obj) -> list[Cause]:
    causes: list[Cause] = []
    duration = _int(spec.get("leaseDurationSeconds"))
    if duration is not None and duration <= 0:
        causes.append(invalid("spec.leaseDurationSeconds", duration, "must be greater than 0"))
    return causes + nonnegative("spec.leaseTransitions", spec.get("leaseTransitions"))


def _immutable_selector(rt: ResourceType, spec: Obj, old: Obj) -> list[Cause]:
    old_spec = old.get("spec") or {}
    if old_spec.get("selector") is not None and spec.get("selector") != old_spec.get("selector"):
        return [invalid("spec.selector", spec.get("selector"), "field is immutable")]
    return []


def validate(rt: ResourceType, obj: Obj, old: Obj | None = None) -> None:
    """Raise 422 Invalid when `obj` (after defaulting) would be rejected by a real API server."""
    meta = obj.get("metadata") or {}
    causes = _metadata(meta, rt.kind)
    spec: Obj = obj["spec"] if isinstance(obj.get("spec"), dict) else {}
    kind = rt.kind
    if kind in ("Deployment", "ReplicaSet"):
        causes += _replicated(spec, kind)
    elif kind == "Pod":
        causes += pod_spec(spec, "spec")
        if old is not None:
            causes += _pod_update(obj, old)
    elif kind == "Job":
        causes += _job_spec(spec, "spec")
    elif kind == "CronJob":
        causes += _cronjob(spec)
    elif kind == "HorizontalPodAutoscaler":
        causes += _hpa(spec)
    elif kind == "PodDisruptionBudget":
        causes += _pdb(spec)
    elif kind == "Service":
        causes += _service(spec)
    elif kind in ("ConfigMap", "Secret"):
        causes += _data_keys(obj)
    elif kind == "Lease":
        causes += _lease(spec)
    elif kind == "Event":
        involved = _obj(obj.get("involvedObject"))
        if involved.get("namespace", "") != meta.get("namespace", ""):
            causes.append(
                invalid(
                    "involvedObject.namespace",
                    involved.get("namespace", ""),
                    "does not match event.namespace",
                )
            )
    if old is not None and kind in ("Deployment", "ReplicaSet", "Job"):
        causes += _immutable_selector(rt, spec, old)
    if causes:
        raise errors.invalid(rt.kind, rt.group, str(meta.get("name", "")), causes)
