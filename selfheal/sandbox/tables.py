"""Server-side printing: the `meta.k8s.io/v1 Table` a kube-apiserver 1.32 answers to `kubectl get`.

kubectl asks for `Accept: application/json;as=Table;v=v1;g=meta.k8s.io` and prints whatever columns
the server sends; a plain list makes it fall back to NAME and AGE. So the columns, their order, their
`priority` (1 = only with `-o wide`) and every cell string must be the ones the real printers produce
(kubernetes/kubernetes `pkg/printers/internalversion/printers.go`, release-1.32), or a reader of the
sandbox's `kubectl get` output would learn something a real cluster never says.

Two details of the real server matter for the shape of what is built here:

- The apiserver's TableConvertor always generates with `Wide: true` (`pkg/printers/storage`), so
  every row carries the wide cells too; kubectl drops priority-1 columns unless `-o wide`.
- Row objects follow the `includeObject` query parameter (`apiserver/.../handlers/response.go`
  `asTable`): `Metadata` (kubectl's default) turns each into a `PartialObjectMetadata`.

Kinds without a printer get the apiserver's default convertor: `Name` and `Created At`
(`apiserver/pkg/registry/rest/table.go`) — that is what `kubectl get role` shows on a real cluster.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from selfheal.sandbox.errors import bad_request

Obj = Mapping[str, Any]
Cells = list[Any]

INCLUDE_OBJECT_VALUES = ("None", "Metadata", "Object")


@dataclass(frozen=True)
class Column:
    """One `TableColumnDefinition`. `doc` is a key of `_DOCS` (the API's swagger text) or literal text."""

    name: str
    type: str
    doc: str
    priority: int = 0
    format: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "format": self.format,
                "description": _DOCS.get(self.doc, self.doc), "priority": self.priority}


@dataclass(frozen=True)
class Printer:
    columns: tuple[Column, ...]
    cells: Callable[[Obj, datetime], Cells]
    conditions: Callable[[Obj], list[dict[str, str]]] | None = None


# --------------------------------------------------------------------------------------------------
# Public entry point


def to_table(kind: str, objects: list[dict[str, Any]], now: datetime, *, include_object: str = "Metadata",
             list_meta: dict[str, Any] | None = None, no_headers: bool = False) -> dict[str, Any]:
    """Render `objects` (all of `kind`) as the Table the real apiserver would send.

    `list_meta` becomes the Table's `metadata`: the list's resourceVersion/continue for a LIST, the
    object's resourceVersion for a single GET (that is what the real TableGenerator copies).

    `include_object` is the `includeObject` query parameter ("" counts as the default, Metadata);
    anything else is the same 400 the apiserver answers. `no_headers` mirrors `TableOptions.noHeaders`
    (watch events after the first omit the column definitions).
    """
    if include_object not in INCLUDE_OBJECT_VALUES and include_object != "":
        raise bad_request(f'unrecognized includeObject value: "{include_object}"')
    printer = PRINTERS.get(kind, DEFAULT_PRINTER)
    rows = []
    for obj in objects:
        row: dict[str, Any] = {"cells": printer.cells(obj, now)}
        conditions = printer.conditions(obj) if printer.conditions else []
        if conditions:
            row["conditions"] = conditions
        row["object"] = _row_object(obj, include_object)
        rows.append(row)
    table: dict[str, Any] = {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": dict(list_meta or {})}
    if not no_headers:
        table["columnDefinitions"] = [c.to_json() for c in printer.columns]
    table["rows"] = rows
    return table


def _row_object(obj: Obj, include_object: str) -> dict[str, Any] | None:
    if include_object == "None":
        return None  # RawExtension with nothing in it marshals as `null`
    if include_object == "Object":
        return dict(obj)
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
            "metadata": dict(obj.get("metadata") or {})}


# --------------------------------------------------------------------------------------------------
# Time: apimachinery `duration.HumanDuration` and the printers' translateTimestampSince


def human_duration(d: timedelta) -> str:
    """`k8s.io/apimachinery/pkg/util/duration.HumanDuration`: ~2-3 significant figures."""
    ns = (d.days * 86_400 + d.seconds) * 1_000_000_000 + d.microseconds * 1_000
    seconds = int(ns / 1_000_000_000)  # Go's int(d.Seconds()) truncates toward zero
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    if seconds < 60 * 2:
        return f"{seconds}s"
    minutes = ns // 60_000_000_000
    if minutes < 10:
        s = (ns // 1_000_000_000) % 60
        return f"{minutes}m" if s == 0 else f"{minutes}m{s}s"
    if minutes < 60 * 3:
        return f"{minutes}m"
    hours = ns // 3_600_000_000_000
    if hours < 8:
        m = minutes % 60
        return f"{hours}h" if m == 0 else f"{hours}h{m}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        h = hours % 24
        return f"{hours // 24}d" if h == 0 else f"{hours // 24}d{h}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        dy = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if dy == 0 else f"{hours // 24 // 365}y{dy}d"
    return f"{hours // 24 // 365}y"


def _time(value: Any) -> datetime | None:
    """A metav1.Time / MicroTime from JSON (RFC 3339, optionally fractional) or a datetime; None = zero."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def since(value: Any, now: datetime) -> str:
    """translateTimestampSince: `<unknown>` for a zero time, else HumanDuration(now - t)."""
    t = _time(value)
    return "<unknown>" if t is None else human_duration(now - t)


# --------------------------------------------------------------------------------------------------
# Formatting helpers shared by several printers


def _meta(obj: Obj) -> Obj:
    return obj.get("metadata") or {}


def _name(obj: Obj) -> str:
    return str(_meta(obj).get("name", ""))


def _age(obj: Obj, now: datetime) -> str:
    return since(_meta(obj).get("creationTimestamp"), now)


def _at(obj: Obj, *path: str) -> Any:
    cur: Any = obj
    for key in path:
        if not isinstance(cur, Mapping):
            return None
        cur = cur.get(key)
    return cur


def _containers(containers: list[Obj] | None) -> tuple[str, str]:
    """layoutContainerCells: names and images, comma separated."""
    containers = containers or []
    return ",".join(str(c.get("name", "")) for c in containers), ",".join(str(c.get("image", "")) for c in containers)


def format_labels(labels: Mapping[str, str] | None) -> str:
    """labels.FormatLabels: sorted `k=v` pairs, `<none>` when empty."""
    text = ",".join(sorted(f"{k}={v}" for k, v in (labels or {}).items()))
    return text or "<none>"


def _requirement(key: str, op: str, values: list[str]) -> str:
    if op == "DoesNotExist":
        return "!" + key
    if op == "Exists":
        return key
    if op == "=":
        return f"{key}={values[0]}"
    joined = values[0] if len(values) == 1 else ",".join(sorted(values))
    return f"{key} {'in' if op == 'In' else 'notin'} ({joined})"


def selector_string(selector: Obj | None) -> str | None:
    """metav1.LabelSelectorAsSelector(...).String(); None for an invalid operator.

    A nil selector selects nothing and an empty one everything: both print as "".
    Requirements are sorted by key (labels.ByKey), values of in/notin sorted.
    """
    if not selector:
        return ""
    reqs: list[tuple[str, str]] = [(k, _requirement(k, "=", [str(v)]))
                                   for k, v in (selector.get("matchLabels") or {}).items()]
    for expr in selector.get("matchExpressions") or []:
        op = expr.get("operator")
        if op not in ("In", "NotIn", "Exists", "DoesNotExist"):
            return None
        key = str(expr.get("key", ""))
        reqs.append((key, _requirement(key, op, [str(v) for v in expr.get("values") or []])))
    reqs.sort(key=lambda r: r[0])
    return ",".join(r for _, r in reqs)


def format_label_selector(selector: Obj | None) -> str:
    """metav1.FormatLabelSelector: the selector string, `<none>` when it is empty, `<error>` if invalid."""
    text = selector_string(selector)
    if text is None:
        return "<error>"
    return text or "<none>"


def _int_or_string(value: Any) -> str:
    return str(value)


def _bool_ptr(value: Any) -> str:
    """printBoolPtr."""
    if value is None:
        return "<unset>"
    return "True" if value else "False"


def _condition_true(conditions: list[Obj] | None, ctype: str) -> bool:
    """hasJobCondition: the first condition of that type decides."""
    for c in conditions or []:
        if c.get("type") == ctype:
            return bool(c.get("status") == "True")
    return False


def _quantity(value: Any) -> str:
    """resource.Quantity.String() for what the sandbox stores (already canonical); nil prints `<nil>`."""
    return "<nil>" if value is None else str(value)


# --------------------------------------------------------------------------------------------------
# Pods: printPod


_POD_COMPLETED = [{"type": "Completed", "status": "True", "reason": "Succeeded",
                   "message": "The pod has completed successfully."}]
_POD_FAILED = [{"type": "Completed", "status": "True", "reason": "Failed", "message": "The pod failed."}]


def _restartable(container: Obj | None) -> bool:
    """podutil.IsRestartableInitContainer: a sidecar (`restartPolicy: Always` init container)."""
    return container is not None and container.get("restartPolicy") == "Always"


def _finished_at(cs: Obj) -> datetime | None:
    return _time(_at(cs, "lastState", "terminated", "finishedAt"))


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    if b is None:
        return a
    return b if a is None or a < b else a


def _terminated_reason(terminated: Obj, prefix: str) -> str:
    if terminated.get("reason"):
        return prefix + str(terminated["reason"])
    if terminated.get("signal"):
        return f"{prefix}Signal:{terminated['signal']}"
    return f"{prefix}ExitCode:{terminated.get('exitCode', 0)}"


def _initialized(conditions: list[Obj]) -> bool:
    """isPodInitializedConditionTrue: the first `Initialized` condition decides."""
    cond = next((c for c in conditions if c.get("type") == "Initialized"), None)
    return cond is not None and cond.get("status") == "True"


def pod_status_reason(pod: Obj) -> tuple[str, int, int, datetime | None]:
    """The STATUS, READY count, RESTARTS count and last restart time, exactly as printPod derives them."""
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    init_specs = {str(c.get("name")): c for c in spec.get("initContainers") or []}
    conditions = status.get("conditions") or []
    phase = str(status.get("phase") or "")
    reason = str(status.get("reason") or phase)
    if any(c.get("type") == "PodScheduled" and c.get("reason") == "SchedulingGated" for c in conditions):
        reason = "SchedulingGated"

    restarts = sidecar_restarts = ready = 0
    last_restart: datetime | None = None
    last_sidecar_restart: datetime | None = None
    initializing = False
    for i, cs in enumerate(status.get("initContainerStatuses") or []):
        restarts += int(cs.get("restartCount") or 0)
        last_restart = _later(last_restart, _finished_at(cs))
        sidecar = _restartable(init_specs.get(str(cs.get("name"))))
        if sidecar:
            sidecar_restarts += int(cs.get("restartCount") or 0)
            last_sidecar_restart = _later(last_sidecar_restart, _finished_at(cs))
        state = cs.get("state") or {}
        terminated, waiting = state.get("terminated"), state.get("waiting")
        if terminated is not None and int(terminated.get("exitCode") or 0) == 0:
            continue
        if sidecar and cs.get("started"):
            ready += 1 if cs.get("ready") else 0
            continue
        if terminated is not None:
            reason = _terminated_reason(terminated, "Init:")
        elif waiting is not None and waiting.get("reason") and waiting.get("reason") != "PodInitializing":
            reason = "Init:" + str(waiting["reason"])
        else:
            reason = f"Init:{i}/{len(spec.get('initContainers') or [])}"
        initializing = True
        break

    if not initializing or _initialized(conditions):
        restarts, last_restart = sidecar_restarts, last_sidecar_restart
        has_running = False
        for cs in reversed(status.get("containerStatuses") or []):
            restarts += int(cs.get("restartCount") or 0)
            last_restart = _later(last_restart, _finished_at(cs))
            state = cs.get("state") or {}
            terminated, waiting = state.get("terminated"), state.get("waiting")
            if waiting is not None and waiting.get("reason"):
                reason = str(waiting["reason"])
            elif terminated is not None:
                reason = _terminated_reason(terminated, "")
            elif cs.get("ready") and state.get("running") is not None:
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            pod_ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)
            reason = "Running" if pod_ready else "NotReady"

    if _meta(pod).get("deletionTimestamp"):
        if status.get("reason") == "NodeLost":
            reason = "Unknown"
        elif phase not in ("Failed", "Succeeded"):
            reason = "Terminating"
    return reason, ready, restarts, last_restart


def _pod_cells(pod: Obj, now: datetime) -> Cells:
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    reason, ready, restarts, last_restart = pod_status_reason(pod)
    total = len(spec.get("containers") or []) + sum(1 for c in spec.get("initContainers") or [] if _restartable(c))
    restarts_text = str(restarts)
    if restarts and last_restart is not None:
        restarts_text = f"{restarts} ({human_duration(now - last_restart)} ago)"
    # v1 -> internal conversion fills podIPs from podIP; the printer reads podIPs[0].
    pod_ips = status.get("podIPs") or ([{"ip": status["podIP"]}] if status.get("podIP") else [])
    gates = "<none>"
    if spec.get("readinessGates"):
        true_gates = 0
        for gate in spec["readinessGates"]:
            cond = next((c for c in status.get("conditions") or [] if c.get("type") == gate.get("conditionType")), None)
            true_gates += 1 if cond is not None and cond.get("status") == "True" else 0
        gates = f"{true_gates}/{len(spec['readinessGates'])}"
    return [_name(pod), f"{ready}/{total}", reason, restarts_text, _age(pod, now),
            (pod_ips[0].get("ip") if pod_ips else "") or "<none>", spec.get("nodeName") or "<none>",
            status.get("nominatedNodeName") or "<none>", gates]


def _pod_conditions(pod: Obj) -> list[dict[str, str]]:
    phase = _at(pod, "status", "phase")
    if phase == "Succeeded":
        return [dict(c) for c in _POD_COMPLETED]
    if phase == "Failed":
        return [dict(c) for c in _POD_FAILED]
    return []


# --------------------------------------------------------------------------------------------------
# Workloads


def _replicas(obj: Obj) -> int:
    """spec.replicas, defaulted to 1 as the API does for Deployments, ReplicaSets and StatefulSets."""
    value = _at(obj, "spec", "replicas")
    return 1 if value is None else int(value)


def _status_int(obj: Obj, field: str) -> int:
    return int(_at(obj, "status", field) or 0)


def _template_containers(obj: Obj) -> tuple[str, str]:
    return _containers(_at(obj, "spec", "template", "spec", "containers"))


def _deployment_cells(obj: Obj, now: datetime) -> Cells:
    names, images = _template_containers(obj)
    selector = selector_string(_at(obj, "spec", "selector"))
    return [_name(obj), f"{_status_int(obj, 'readyReplicas')}/{_replicas(obj)}", _status_int(obj, "updatedReplicas"),
            _status_int(obj, "availableReplicas"), _age(obj, now), names, images,
            "<invalid>" if selector is None else selector]


def _replicaset_cells(obj: Obj, now: datetime) -> Cells:
    names, images = _template_containers(obj)
    return [_name(obj), _replicas(obj), _status_int(obj, "replicas"), _status_int(obj, "readyReplicas"),
            _age(obj, now), names, images, format_label_selector(_at(obj, "spec", "selector"))]


def _statefulset_cells(obj: Obj, now: datetime) -> Cells:
    names, images = _template_containers(obj)
    return [_name(obj), f"{_status_int(obj, 'readyReplicas')}/{_replicas(obj)}", _age(obj, now), names, images]


def _daemonset_cells(obj: Obj, now: datetime) -> Cells:
    names, images = _template_containers(obj)
    return [_name(obj), _status_int(obj, "desiredNumberScheduled"), _status_int(obj, "currentNumberScheduled"),
            _status_int(obj, "numberReady"), _status_int(obj, "updatedNumberScheduled"),
            _status_int(obj, "numberAvailable"), format_labels(_at(obj, "spec", "template", "spec", "nodeSelector")),
            _age(obj, now), names, images, format_label_selector(_at(obj, "spec", "selector"))]


def _job_cells(obj: Obj, now: datetime) -> Cells:
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    succeeded = int(status.get("succeeded") or 0)
    if spec.get("completions") is not None:
        completions = f"{succeeded}/{spec['completions']}"
    elif int(spec.get("parallelism") or 0) > 1:
        completions = f"{succeeded}/1 of {spec['parallelism']}"
    else:
        completions = f"{succeeded}/1"
    start, end = _time(status.get("startTime")), _time(status.get("completionTime"))
    duration = "" if start is None else human_duration((end or now) - start)
    conditions = status.get("conditions")
    if _condition_true(conditions, "Complete"):
        state = "Complete"
    elif _condition_true(conditions, "Failed"):
        state = "Failed"
    elif _meta(obj).get("deletionTimestamp"):
        state = "Terminating"
    elif _condition_true(conditions, "Suspended"):
        state = "Suspended"
    elif _condition_true(conditions, "FailureTarget"):
        state = "FailureTarget"
    else:
        state = "Running"
    names, images = _template_containers(obj)
    return [_name(obj), state, completions, duration, _age(obj, now), names, images,
            format_label_selector(spec.get("selector"))]


def _cronjob_cells(obj: Obj, now: datetime) -> Cells:
    spec = obj.get("spec") or {}
    last = _at(obj, "status", "lastScheduleTime")
    job_spec = _at(spec, "jobTemplate", "spec") or {}
    names, images = _containers(_at(job_spec, "template", "spec", "containers"))
    return [_name(obj), spec.get("schedule", ""), spec.get("timeZone") or "<none>", _bool_ptr(spec.get("suspend")),
            len(_at(obj, "status", "active") or []), "<none>" if last is None else since(last, now), _age(obj, now),
            names, images, format_label_selector(job_spec.get("selector"))]


# --------------------------------------------------------------------------------------------------
# HorizontalPodAutoscaler: formatHPAMetrics


def _hpa_metric(spec: Obj, status: Obj | None) -> str:
    mtype = spec.get("type")
    if mtype in ("Resource", "ContainerResource"):
        key = "resource" if mtype == "Resource" else "containerResource"
        source, current_src = spec.get(key) or {}, (status or {}).get(key)
        target = source.get("target") or {}
        name = source.get("name", "")
        if target.get("averageValue") is not None:
            current = "<unknown>" if current_src is None else _quantity(_at(current_src, "current", "averageValue"))
            return f"{name}: {current}/{_quantity(target['averageValue'])}"
        utilization = _at(current_src, "current", "averageUtilization") if current_src else None
        current = "<unknown>" if utilization is None else f"{utilization}%"
        wanted = "<auto>" if target.get("averageUtilization") is None else f"{target['averageUtilization']}%"
        return f"{name}: {current}/{wanted}"
    if mtype == "Pods":
        current_src = (status or {}).get("pods")
        current = "<unknown>" if current_src is None else _quantity(_at(current_src, "current", "averageValue"))
        return f"{current}/{_quantity(_at(spec, 'pods', 'target', 'averageValue'))}"
    if mtype in ("Object", "External"):
        key = mtype.lower()
        target = _at(spec, key, "target") or {}
        current_src = (status or {}).get(key)
        if target.get("averageValue") is not None:
            value = _at(current_src, "current", "averageValue") if current_src else None
            current = "<unknown>" if value is None else _quantity(value)
            return f"{current}/{_quantity(target['averageValue'])} (avg)"
        current = "<unknown>" if current_src is None else _quantity(_at(current_src, "current", "value"))
        return f"{current}/{_quantity(target.get('value'))}"
    return "<unknown type>"


def _hpa_metrics(obj: Obj) -> tuple[list[Obj], list[Obj]]:
    """autoscaling/v2 metrics; an autoscaling/v1 object converts its CPU target the way the API does."""
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    if "metrics" in spec or "targetCPUUtilizationPercentage" not in spec:
        return list(spec.get("metrics") or []), list(status.get("currentMetrics") or [])
    specs: list[Obj] = [{"type": "Resource", "resource": {"name": "cpu", "target": {
        "type": "Utilization", "averageUtilization": spec["targetCPUUtilizationPercentage"]}}}]
    statuses: list[Obj] = []
    if status.get("currentCPUUtilizationPercentage") is not None:
        statuses = [{"type": "Resource", "resource": {"name": "cpu", "current": {
            "averageUtilization": status["currentCPUUtilizationPercentage"]}}}]
    return specs, statuses


def format_hpa_metrics(specs: list[Obj], statuses: list[Obj]) -> str:
    if not specs:
        return "<none>"
    items = [_hpa_metric(s, statuses[i] if i < len(statuses) else None) for i, s in enumerate(specs)]
    if len(items) > 2:
        return f"{', '.join(items[:2])} + {len(items) - 2} more..."
    return ", ".join(items)


def _hpa_cells(obj: Obj, now: datetime) -> Cells:
    spec = obj.get("spec") or {}
    ref = spec.get("scaleTargetRef") or {}
    min_pods = "<unset>" if spec.get("minReplicas") is None else str(spec["minReplicas"])
    return [_name(obj), f"{ref.get('kind', '')}/{ref.get('name', '')}", format_hpa_metrics(*_hpa_metrics(obj)),
            min_pods, int(spec.get("maxReplicas") or 0), _status_int(obj, "currentReplicas"), _age(obj, now)]


# --------------------------------------------------------------------------------------------------
# Core and other kinds


def _event_cells(obj: Obj, now: datetime) -> Cells:
    first = (since(obj["firstTimestamp"], now) if obj.get("firstTimestamp")
             else since(obj.get("eventTime"), now))
    last = since(obj["lastTimestamp"], now) if obj.get("lastTimestamp") else first
    count = int(obj.get("count") or 0)
    series = obj.get("series")
    if series is not None:
        last = since(series.get("lastObservedTime"), now)
        count = int(series.get("count") or 0)
    elif count == 0:
        count = 1  # singleton events of the events.k8s.io API carry no count
    involved = obj.get("involvedObject") or {}
    kind = str(involved.get("kind", "")).lower()
    target = f"{kind}/{involved['name']}" if involved.get("name") else kind
    source = obj.get("source") or {}
    component = source.get("component") or obj.get("reportingComponent") or ""
    host = source.get("host") or obj.get("reportingInstance") or ""
    return [last, obj.get("type", ""), obj.get("reason", ""), target, involved.get("fieldPath", ""),
            f"{component}, {host}" if host else component, str(obj.get("message", "")).strip(), first, count,
            _name(obj)]


def _service_external_ip(spec: Obj, status: Obj) -> str:
    """getServiceExternalIP with wide=true (no clipping of load-balancer addresses)."""
    external = [str(ip) for ip in spec.get("externalIPs") or []]
    svc_type = spec.get("type", "ClusterIP")
    if svc_type in ("ClusterIP", "NodePort"):
        return ",".join(external) or "<none>"
    if svc_type == "LoadBalancer":
        ingress = _at(status, "loadBalancer", "ingress") or []
        lb = sorted({str(i.get("ip") or i.get("hostname")) for i in ingress if i.get("ip") or i.get("hostname")})
        if external:
            return ",".join(lb + external)
        return ",".join(lb) or "<pending>"
    if svc_type == "ExternalName":
        return str(spec.get("externalName", ""))
    return "<unknown>"


def _service_cells(obj: Obj, now: datetime) -> Cells:
    spec = obj.get("spec") or {}
    cluster_ips = spec.get("clusterIPs") or ([spec["clusterIP"]] if spec.get("clusterIP") else [])
    ports = []
    for p in spec.get("ports") or []:
        protocol = p.get("protocol") or "TCP"  # defaulted by the API on write
        ports.append(f"{p.get('port')}:{p['nodePort']}/{protocol}" if p.get("nodePort")
                     else f"{p.get('port')}/{protocol}")
    return [_name(obj), spec.get("type", "ClusterIP"), cluster_ips[0] if cluster_ips else "<none>",
            _service_external_ip(spec, obj.get("status") or {}), ",".join(ports) or "<none>", _age(obj, now),
            format_labels(spec.get("selector"))]


def _namespace_cells(obj: Obj, now: datetime) -> Cells:
    return [_name(obj), _at(obj, "status", "phase") or "", _age(obj, now)]


def _configmap_cells(obj: Obj, now: datetime) -> Cells:
    return [_name(obj), len(obj.get("data") or {}) + len(obj.get("binaryData") or {}), _age(obj, now)]


def _secret_cells(obj: Obj, now: datetime) -> Cells:
    return [_name(obj), obj.get("type", ""), len(obj.get("data") or {}), _age(obj, now)]


def _serviceaccount_cells(obj: Obj, now: datetime) -> Cells:
    return [_name(obj), len(obj.get("secrets") or []), _age(obj, now)]


def _pdb_cells(obj: Obj, now: datetime) -> Cells:
    spec = obj.get("spec") or {}
    min_available = "N/A" if spec.get("minAvailable") is None else _int_or_string(spec["minAvailable"])
    max_unavailable = "N/A" if spec.get("maxUnavailable") is None else _int_or_string(spec["maxUnavailable"])
    return [_name(obj), min_available, max_unavailable, _status_int(obj, "disruptionsAllowed"), _age(obj, now)]


def _lease_cells(obj: Obj, now: datetime) -> Cells:
    return [_name(obj), _at(obj, "spec", "holderIdentity") or "", _age(obj, now)]


def _binding_cells(obj: Obj, now: datetime) -> Cells:
    ref = obj.get("roleRef") or {}
    users: list[str] = []
    groups: list[str] = []
    sas: list[str] = []
    for s in obj.get("subjects") or []:  # rbac.SubjectsStrings
        if s.get("kind") == "ServiceAccount":
            sas.append(f"{s.get('namespace', '')}/{s.get('name', '')}")
        elif s.get("kind") == "User":
            users.append(str(s.get("name", "")))
        elif s.get("kind") == "Group":
            groups.append(str(s.get("name", "")))
    return [_name(obj), f"{ref.get('kind', '')}/{ref.get('name', '')}", _age(obj, now),
            ", ".join(users), ", ".join(groups), ", ".join(sas)]


def _default_cells(obj: Obj, now: datetime) -> Cells:
    created = _time(_meta(obj).get("creationTimestamp"))
    return [_name(obj), "0001-01-01T00:00:00Z" if created is None
            else created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")]


# --------------------------------------------------------------------------------------------------
# Column definitions (printers.go AddHandlers), in the order and with the priorities of release-1.32

_NAME = Column("Name", "string", "OM_NAME", format="name")
_AGE = Column("Age", "string", "OM_CREATED")
_CONTAINERS = Column("Containers", "string", "Names of each container in the template.", 1)
_IMAGES = Column("Images", "string", "Images referenced by each container in the template.", 1)

PRINTERS: dict[str, Printer] = {
    "Pod": Printer((
        _NAME,
        Column("Ready", "string", "The aggregate readiness state of this pod for accepting traffic."),
        Column("Status", "string", "The aggregate status of the containers in this pod."),
        Column("Restarts", "string", "The number of times the containers in this pod have been restarted and "
               "when the last container in this pod has restarted."),
        _AGE,
        Column("IP", "string", "POD_IP", 1),
        Column("Node", "string", "POD_NODE", 1),
        Column("Nominated Node", "string", "POD_NOMINATED", 1),
        Column("Readiness Gates", "string", "POD_GATES", 1),
    ), _pod_cells, _pod_conditions),
    "Deployment": Printer((
        _NAME,
        Column("Ready", "string", "Number of the pod with ready state"),
        Column("Up-to-date", "string", "DEP_UPDATED"),
        Column("Available", "string", "DEP_AVAILABLE"),
        _AGE, _CONTAINERS, _IMAGES,
        Column("Selector", "string", "DEP_SELECTOR", 1),
    ), _deployment_cells),
    "ReplicaSet": Printer((
        _NAME,
        Column("Desired", "integer", "RS_SPEC_REPLICAS"),
        Column("Current", "integer", "RS_STATUS_REPLICAS"),
        Column("Ready", "integer", "RS_READY"),
        _AGE, _CONTAINERS, _IMAGES,
        Column("Selector", "string", "RS_SELECTOR", 1),
    ), _replicaset_cells),
    "StatefulSet": Printer((
        _NAME,
        Column("Ready", "string", "Number of the pod with ready state"),
        _AGE, _CONTAINERS, _IMAGES,
    ), _statefulset_cells),
    "DaemonSet": Printer((
        _NAME,
        Column("Desired", "integer", "DS_DESIRED"),
        Column("Current", "integer", "DS_CURRENT"),
        Column("Ready", "integer", "DS_READY"),
        Column("Up-to-date", "integer", "DS_UPDATED"),
        Column("Available", "integer", "DS_AVAILABLE"),
        Column("Node Selector", "string", "DS_NODE_SELECTOR"),
        _AGE, _CONTAINERS, _IMAGES,
        Column("Selector", "string", "DS_SELECTOR", 1),
    ), _daemonset_cells),
    "Job": Printer((
        _NAME,
        Column("Status", "string", "Status of the job."),
        Column("Completions", "string", "JOB_SUCCEEDED"),
        Column("Duration", "string", "Time required to complete the job."),
        _AGE, _CONTAINERS, _IMAGES,
        Column("Selector", "string", "JOB_SELECTOR", 1),
    ), _job_cells),
    "CronJob": Printer((
        _NAME,
        Column("Schedule", "string", "CJ_SCHEDULE"),
        Column("Timezone", "string", "CJ_TZ"),
        Column("Suspend", "boolean", "CJ_SUSPEND"),
        Column("Active", "integer", "CJ_ACTIVE"),
        Column("Last Schedule", "string", "CJ_LAST"),
        _AGE, _CONTAINERS, _IMAGES,
        Column("Selector", "string", "JOB_SELECTOR", 1),
    ), _cronjob_cells),
    "HorizontalPodAutoscaler": Printer((
        _NAME,
        Column("Reference", "string", "HPA_REF"),
        Column("Targets", "string", "HPA_METRICS"),
        Column("MinPods", "string", "HPA_MIN"),
        Column("MaxPods", "string", "HPA_MAX"),
        Column("Replicas", "string", "HPA_CURRENT"),
        _AGE,
    ), _hpa_cells),
    "Event": Printer((
        Column("Last Seen", "string", "EV_LAST"),
        Column("Type", "string", "EV_TYPE"),
        Column("Reason", "string", "EV_REASON"),
        Column("Object", "string", "EV_OBJECT"),
        Column("Subobject", "string", "EV_FIELDPATH", 1),
        Column("Source", "string", "EV_SOURCE", 1),
        Column("Message", "string", "EV_MESSAGE"),
        Column("First Seen", "string", "EV_FIRST", 1),
        Column("Count", "string", "EV_COUNT", 1),
        Column("Name", "string", "OM_NAME", 1, format="name"),
    ), _event_cells),
    "Namespace": Printer((_NAME, Column("Status", "string", "The status of the namespace"), _AGE), _namespace_cells),
    "ConfigMap": Printer((_NAME, Column("Data", "string", "CM_DATA"), _AGE), _configmap_cells),
    "Secret": Printer((_NAME, Column("Type", "string", "SECRET_TYPE"), Column("Data", "string", "SECRET_DATA"), _AGE),
                      _secret_cells),
    "ServiceAccount": Printer((_NAME, Column("Secrets", "string", "SA_SECRETS"), _AGE), _serviceaccount_cells),
    "Service": Printer((
        _NAME,
        Column("Type", "string", "SVC_TYPE"),
        Column("Cluster-IP", "string", "SVC_CLUSTER_IP"),
        Column("External-IP", "string", "SVC_EXTERNAL"),
        Column("Port(s)", "string", "SVC_PORTS"),
        _AGE,
        Column("Selector", "string", "SVC_SELECTOR", 1),
    ), _service_cells),
    "PodDisruptionBudget": Printer((
        _NAME,
        Column("Min Available", "string", "The minimum number of pods that must be available."),
        Column("Max Unavailable", "string", "The maximum number of pods that may be unavailable."),
        Column("Allowed Disruptions", "integer", "Calculated number of pods that may be disrupted at this time."),
        _AGE,
    ), _pdb_cells),
    "Lease": Printer((_NAME, Column("Holder", "string", "LEASE_HOLDER"), _AGE), _lease_cells),
    "RoleBinding": Printer((
        _NAME,
        Column("Role", "string", "RB_ROLEREF"),
        _AGE,
        Column("Users", "string", "Users in the roleBinding", 1),
        Column("Groups", "string", "Groups in the roleBinding", 1),
        Column("ServiceAccounts", "string", "ServiceAccounts in the roleBinding", 1),
    ), _binding_cells),
    "ClusterRoleBinding": Printer((
        _NAME,
        Column("Role", "string", "CRB_ROLEREF"),
        _AGE,
        Column("Users", "string", "Users in the clusterRoleBinding", 1),
        Column("Groups", "string", "Groups in the clusterRoleBinding", 1),
        Column("ServiceAccounts", "string", "ServiceAccounts in the clusterRoleBinding", 1),
    ), _binding_cells),
}

# Role, ClusterRole and every kind without a printer: rest.NewDefaultTableConvertor.
DEFAULT_PRINTER = Printer((_NAME, Column("Created At", "date", "OM_CREATED")), _default_cells)


# --------------------------------------------------------------------------------------------------
# Column descriptions: the API's swagger docs (k8s.io/apimachinery and k8s.io/api v0.32.4
# types_swagger_doc_generated.go) for the fields the printers cite.

_DOCS: dict[str, str] = {
    "OM_NAME": "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names",
    "OM_CREATED": "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata",
    "POD_IP": "podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.",
    "POD_NODE": "NodeName indicates in which node this pod is scheduled. If empty, this pod is a candidate for scheduling by the scheduler defined in schedulerName. Once this field is set, the kubelet for this node becomes responsible for the lifecycle of this pod. This field should not be used to express a desire for the pod to be scheduled on a specific node. https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#nodename",
    "POD_NOMINATED": "nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods. This field does not guarantee that the pod will be scheduled on this node. Scheduler may decide to place the pod elsewhere if other nodes become available sooner. Scheduler may also decide to give the resources on this node to a higher priority pod that is created after preemption. As a result, this field may be different than PodSpec.nodeName when the pod is scheduled.",
    "POD_GATES": "If specified, all readiness gates will be evaluated for pod readiness. A pod is ready when all its containers are ready AND all conditions specified in the readiness gates have status equal to \"True\" More info: https://git.k8s.io/enhancements/keps/sig-network/580-pod-readiness-gates",
    "RS_SPEC_REPLICAS": "Replicas is the number of desired replicas. This is a pointer to distinguish between explicit zero and unspecified. Defaults to 1. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller/#what-is-a-replicationcontroller",
    "RS_STATUS_REPLICAS": "Replicas is the most recently observed number of replicas. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller/#what-is-a-replicationcontroller",
    "RS_READY": "The number of ready replicas for this replica set.",
    "RS_SELECTOR": "Selector is a label query over pods that should match the replica count. If the selector is empty, it is defaulted to the labels present on the pod template. Label keys and values that must match in order to be controlled by this replica set. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors",
    "DS_DESIRED": "The total number of nodes that should be running the daemon pod (including nodes correctly running the daemon pod). More info: https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/",
    "DS_CURRENT": "The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod. More info: https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/",
    "DS_READY": "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.",
    "DS_UPDATED": "The total number of nodes that are running updated daemon pod",
    "DS_AVAILABLE": "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)",
    "DS_NODE_SELECTOR": "NodeSelector is a selector which must be true for the pod to fit on a node. Selector which must match a node's labels for the pod to be scheduled on that node. More info: https://kubernetes.io/docs/concepts/configuration/assign-pod-node/",
    "DS_SELECTOR": "A label query over pods that are managed by the daemon set. Must match in order to be controlled. If empty, defaulted to labels on Pod template. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors",
    "JOB_SUCCEEDED": "The number of pods which reached phase Succeeded. The value increases monotonically for a given spec. However, it may decrease in reaction to scale down of elastic indexed jobs.",
    "JOB_SELECTOR": "A label query over pods that should match the pod count. Normally, the system sets this field for you. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors",
    "CJ_SCHEDULE": "The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron.",
    "CJ_TZ": "The time zone name for the given schedule, see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones. If not specified, this will default to the time zone of the kube-controller-manager process. The set of valid time zone names and the time zone offset is loaded from the system-wide time zone database by the API server during CronJob validation and the controller manager during execution. If no system-wide time zone database can be found a bundled version of the database is used instead. If the time zone name becomes invalid during the lifetime of a CronJob or due to a change in host configuration, the controller will stop creating new new Jobs and will create a system event with the reason UnknownTimeZone. More information can be found in https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/#time-zones",
    "CJ_SUSPEND": "This flag tells the controller to suspend subsequent executions, it does not apply to already started executions.  Defaults to false.",
    "CJ_ACTIVE": "A list of pointers to currently running jobs.",
    "CJ_LAST": "Information when was the last time the job was successfully scheduled.",
    "SVC_TYPE": "type determines how the Service is exposed. Defaults to ClusterIP. Valid options are ExternalName, ClusterIP, NodePort, and LoadBalancer. \"ClusterIP\" allocates a cluster-internal IP address for load-balancing to endpoints. Endpoints are determined by the selector or if that is not specified, by manual construction of an Endpoints object or EndpointSlice objects. If clusterIP is \"None\", no virtual IP is allocated and the endpoints are published as a set of endpoints rather than a virtual IP. \"NodePort\" builds on ClusterIP and allocates a port on every node which routes to the same endpoints as the clusterIP. \"LoadBalancer\" builds on NodePort and creates an external load-balancer (if supported in the current cloud) which routes to the same endpoints as the clusterIP. \"ExternalName\" aliases this service to the specified externalName. Several other fields do not apply to ExternalName services. More info: https://kubernetes.io/docs/concepts/services-networking/service/#publishing-services-service-types",
    "SVC_CLUSTER_IP": "clusterIP is the IP address of the service and is usually assigned randomly. If an address is specified manually, is in-range (as per system configuration), and is not in use, it will be allocated to the service; otherwise creation of the service will fail. This field may not be changed through updates unless the type field is also being changed to ExternalName (which requires this field to be blank) or the type field is being changed from ExternalName (in which case this field may optionally be specified, as describe above).  Valid values are \"None\", empty string (\"\"), or a valid IP address. Setting this to \"None\" makes a \"headless service\" (no virtual IP), which is useful when direct endpoint connections are preferred and proxying is not required.  Only applies to types ClusterIP, NodePort, and LoadBalancer. If this field is specified when creating a Service of type ExternalName, creation will fail. This field will be wiped when updating a Service to type ExternalName. More info: https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies",
    "SVC_EXTERNAL": "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.  These IPs are not managed by Kubernetes.  The user is responsible for ensuring that traffic arrives at a node with this IP.  A common example is external load-balancers that are not part of the Kubernetes system.",
    "SVC_PORTS": "The list of ports that are exposed by this service. More info: https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies",
    "SVC_SELECTOR": "Route service traffic to pods with label keys and values matching this selector. If empty or not present, the service is assumed to have an external process managing its endpoints, which Kubernetes will not modify. Only applies to types ClusterIP, NodePort, and LoadBalancer. Ignored if type is ExternalName. More info: https://kubernetes.io/docs/concepts/services-networking/service/",
    "EV_LAST": "The time at which the most recent occurrence of this event was recorded.",
    "EV_TYPE": "Type of this event (Normal, Warning), new types could be added in the future",
    "EV_REASON": "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.",
    "EV_OBJECT": "The object that this event is about.",
    "EV_FIELDPATH": "If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement, such as desiredState.manifest.containers[2]. For example, if the object reference is to a container within a pod, this would take on a value like: \"spec.containers{name}\" (where \"name\" refers to the name of the container that triggered the event) or if no container name is specified \"spec.containers[2]\" (container with index 2 in this pod). This syntax is chosen only to have some well-defined way of referencing a part of an object.",
    "EV_SOURCE": "The component reporting this event. Should be a short machine understandable string.",
    "EV_MESSAGE": "A human-readable description of the status of this operation.",
    "EV_FIRST": "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)",
    "EV_COUNT": "The number of times this event has occurred.",
    "SECRET_TYPE": "Used to facilitate programmatic handling of secret data. More info: https://kubernetes.io/docs/concepts/configuration/secret/#secret-types",
    "SECRET_DATA": "Data contains the secret data. Each key must consist of alphanumeric characters, '-', '_' or '.'. The serialized form of the secret data is a base64 encoded string, representing the arbitrary (possibly non-string) data value here. Described in https://tools.ietf.org/html/rfc4648#section-4",
    "SA_SECRETS": "Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use. Pods are only limited to this list if this service account has a \"kubernetes.io/enforce-mountable-secrets\" annotation set to \"true\". The \"kubernetes.io/enforce-mountable-secrets\" annotation is deprecated since v1.32. Prefer separate namespaces to isolate access to mounted secrets. This field should not be used to find auto-generated service account token secrets for use outside of pods. Instead, tokens can be requested directly using the TokenRequest API, or service account token secrets can be manually created. More info: https://kubernetes.io/docs/concepts/configuration/secret",
    "CM_DATA": "Data contains the configuration data. Each key must consist of alphanumeric characters, '-', '_' or '.'. Values with non-UTF-8 byte sequences must use the BinaryData field. The keys stored in Data must not overlap with the keys in the BinaryData field, this is enforced during validation process.",
    "DEP_UPDATED": "Total number of non-terminated pods targeted by this deployment that have the desired template spec.",
    "DEP_AVAILABLE": "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.",
    "DEP_SELECTOR": "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.",
    "HPA_REF": "scaleTargetRef points to the target resource to scale, and is used to the pods for which metrics should be collected, as well as to actually change the replica count.",
    "HPA_METRICS": "metrics contains the specifications for which to use to calculate the desired replica count (the maximum replica count across all metrics will be used).  The desired replica count is calculated multiplying the ratio between the target value and the current value by the current number of pods.  Ergo, metrics used must decrease as the pod count is increased, and vice-versa.  See the individual metric source types for more information about how each type of metric must respond.",
    "HPA_MIN": "minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down.  It defaults to 1 pod.  minReplicas is allowed to be 0 if the alpha feature gate HPAScaleToZero is enabled and at least one Object or External metric is configured.  Scaling is active as long as at least one metric value is available.",
    "HPA_MAX": "maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up. It cannot be less that minReplicas.",
    "HPA_CURRENT": "currentReplicas is current number of replicas of pods managed by this autoscaler, as last seen by the autoscaler.",
    "RB_ROLEREF": "RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error.",
    "CRB_ROLEREF": "RoleRef can only reference a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error.",
    "LEASE_HOLDER": "holderIdentity contains the identity of the holder of a current lease. If Coordinated Leader Election is used, the holder identity must be equal to the elected LeaseCandidate.metadata.name field.",
}
