"""The workload printers: Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob and HPA.

These are the rows a reader checks to see whether a rollout, a job or an autoscaler is doing its work,
so each cell follows its `printers.go` function (named on each) including the quirks: a Deployment's
wide selector says `<invalid>` where a ReplicaSet's says `<error>`, a Job's COMPLETIONS depends on
completions/parallelism, and an autoscaling/v1 HPA's CPU target is converted the way the API does.
"""

from __future__ import annotations

from datetime import datetime

from kubesandbox.apiserver.tables.columns import AGE, CONTAINERS, IMAGES, NAME, Cells, Column, Obj, Printer
from kubesandbox.apiserver.tables.format import (
    age_of,
    at,
    bool_ptr,
    condition_true,
    format_label_selector,
    format_labels,
    human_duration,
    kind_slash_name,
    meta,
    name_of,
    parse_time,
    quantity,
    selector_string,
    since,
    status_int,
    template_containers,
)


def _replicas(obj: Obj) -> int:
    """spec.replicas, defaulted to 1 as the API does for Deployments, ReplicaSets and StatefulSets."""
    value = at(obj, "spec", "replicas")
    return 1 if value is None else int(value)


def _deployment_cells(obj: Obj, now: datetime) -> Cells:
    """printDeployment."""
    names, images = template_containers(obj.get("spec"))
    selector = selector_string(at(obj, "spec", "selector"))
    return [
        name_of(obj),
        f"{status_int(obj, 'readyReplicas')}/{_replicas(obj)}",
        status_int(obj, "updatedReplicas"),
        status_int(obj, "availableReplicas"),
        age_of(obj, now),
        names,
        images,
        "<invalid>" if selector is None else selector,
    ]


def _replicaset_cells(obj: Obj, now: datetime) -> Cells:
    """printReplicaSet."""
    names, images = template_containers(obj.get("spec"))
    return [
        name_of(obj),
        _replicas(obj),
        status_int(obj, "replicas"),
        status_int(obj, "readyReplicas"),
        age_of(obj, now),
        names,
        images,
        format_label_selector(at(obj, "spec", "selector")),
    ]


def _statefulset_cells(obj: Obj, now: datetime) -> Cells:
    """printStatefulSet."""
    names, images = template_containers(obj.get("spec"))
    return [
        name_of(obj),
        f"{status_int(obj, 'readyReplicas')}/{_replicas(obj)}",
        age_of(obj, now),
        names,
        images,
    ]


def _daemonset_cells(obj: Obj, now: datetime) -> Cells:
    """printDaemonSet."""
    names, images = template_containers(obj.get("spec"))
    return [
        name_of(obj),
        status_int(obj, "desiredNumberScheduled"),
        status_int(obj, "currentNumberScheduled"),
        status_int(obj, "numberReady"),
        status_int(obj, "updatedNumberScheduled"),
        status_int(obj, "numberAvailable"),
        format_labels(at(obj, "spec", "template", "spec", "nodeSelector")),
        age_of(obj, now),
        names,
        images,
        format_label_selector(at(obj, "spec", "selector")),
    ]


def _job_state(obj: Obj) -> str:
    """printJob's STATUS: the terminal conditions first, then deletion, suspension, a pending failure."""
    conditions = at(obj, "status", "conditions")
    if condition_true(conditions, "Complete"):
        return "Complete"
    if condition_true(conditions, "Failed"):
        return "Failed"
    if meta(obj).get("deletionTimestamp"):
        return "Terminating"
    if condition_true(conditions, "Suspended"):
        return "Suspended"
    if condition_true(conditions, "FailureTarget"):
        return "FailureTarget"
    return "Running"


def _job_cells(obj: Obj, now: datetime) -> Cells:
    """printJob."""
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    succeeded = int(status.get("succeeded") or 0)
    if spec.get("completions") is not None:
        completions = f"{succeeded}/{spec['completions']}"
    elif int(spec.get("parallelism") or 0) > 1:
        completions = f"{succeeded}/1 of {spec['parallelism']}"
    else:
        completions = f"{succeeded}/1"
    start, end = parse_time(status.get("startTime")), parse_time(status.get("completionTime"))
    duration = "" if start is None else human_duration((end or now) - start)
    names, images = template_containers(spec)
    return [
        name_of(obj),
        _job_state(obj),
        completions,
        duration,
        age_of(obj, now),
        names,
        images,
        format_label_selector(spec.get("selector")),
    ]


def _cronjob_cells(obj: Obj, now: datetime) -> Cells:
    """printCronJob."""
    spec = obj.get("spec") or {}
    last = at(obj, "status", "lastScheduleTime")
    job_spec = at(spec, "jobTemplate", "spec") or {}
    names, images = template_containers(job_spec)
    return [
        name_of(obj),
        spec.get("schedule", ""),
        spec.get("timeZone") or "<none>",
        bool_ptr(spec.get("suspend")),
        len(at(obj, "status", "active") or []),
        "<none>" if last is None else since(last, now),
        age_of(obj, now),
        names,
        images,
        format_label_selector(job_spec.get("selector")),
    ]


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
            current = (
                "<unknown>" if current_src is None else quantity(at(current_src, "current", "averageValue"))
            )
            return f"{name}: {current}/{quantity(target['averageValue'])}"
        utilization = at(current_src, "current", "averageUtilization") if current_src else None
        current = "<unknown>" if utilization is None else f"{utilization}%"
        wanted = "<auto>" if target.get("averageUtilization") is None else f"{target['averageUtilization']}%"
        return f"{name}: {current}/{wanted}"
    if mtype == "Pods":
        current_src = (status or {}).get("pods")
        current = "<unknown>" if current_src is None else quantity(at(current_src, "current", "averageValue"))
        return f"{current}/{quantity(at(spec, 'pods', 'target', 'averageValue'))}"
    if mtype in ("Object", "External"):
        key = mtype.lower()
        target = at(spec, key, "target") or {}
        current_src = (status or {}).get(key)
        if target.get("averageValue") is not None:
            value = at(current_src, "current", "averageValue") if current_src else None
            current = "<unknown>" if value is None else quantity(value)
            return f"{current}/{quantity(target['averageValue'])} (avg)"
        current = "<unknown>" if current_src is None else quantity(at(current_src, "current", "value"))
        return f"{current}/{quantity(target.get('value'))}"
    return "<unknown type>"


def _hpa_metrics(obj: Obj) -> tuple[list[Obj], list[Obj]]:
    """autoscaling/v2 metrics; an autoscaling/v1 object converts its CPU target the way the API does."""
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    if "metrics" in spec or "targetCPUUtilizationPercentage" not in spec:
        return list(spec.get("metrics") or []), list(status.get("currentMetrics") or [])
    specs: list[Obj] = [
        {
            "type": "Resource",
            "resource": {
                "name": "cpu",
                "target": {
                    "type": "Utilization",
                    "averageUtilization": spec["targetCPUUtilizationPercentage"],
                },
            },
        }
    ]
    statuses: list[Obj] = []
    if status.get("currentCPUUtilizationPercentage") is not None:
        statuses = [
            {
                "type": "Resource",
                "resource": {
                    "name": "cpu",
                    "current": {"averageUtilization": status["currentCPUUtilizationPercentage"]},
                },
            }
        ]
    return specs, statuses


def format_hpa_metrics(specs: list[Obj], statuses: list[Obj]) -> str:
    """formatHPAMetrics: each metric as current/target, at most two, then `+ N more...`."""
    if not specs:
        return "<none>"
    items = [_hpa_metric(s, statuses[i] if i < len(statuses) else None) for i, s in enumerate(specs)]
    if len(items) > 2:
        return f"{', '.join(items[:2])} + {len(items) - 2} more..."
    return ", ".join(items)


def _hpa_cells(obj: Obj, now: datetime) -> Cells:
    """printHorizontalPodAutoscaler."""
    spec = obj.get("spec") or {}
    min_pods = "<unset>" if spec.get("minReplicas") is None else str(spec["minReplicas"])
    return [
        name_of(obj),
        kind_slash_name(spec.get("scaleTargetRef") or {}),
        format_hpa_metrics(*_hpa_metrics(obj)),
        min_pods,
        int(spec.get("maxReplicas") or 0),
        status_int(obj, "currentReplicas"),
        age_of(obj, now),
    ]


_READY_OF_DESIRED = Column("Ready", "string", "Number of the pod with ready state")
_JOB_SELECTOR = Column("Selector", "string", "JOB_SELECTOR", 1)

WORKLOAD_PRINTERS: dict[str, Printer] = {
    "Deployment": Printer(
        (
            NAME,
            _READY_OF_DESIRED,
            Column("Up-to-date", "string", "DEP_UPDATED"),
            Column("Available", "string", "DEP_AVAILABLE"),
            AGE,
            CONTAINERS,
            IMAGES,
            Column("Selector", "string", "DEP_SELECTOR", 1),
        ),
        _deployment_cells,
    ),
    "ReplicaSet": Printer(
        (
            NAME,
            Column("Desired", "integer", "RS_SPEC_REPLICAS"),
            Column("Current", "integer", "RS_STATUS_REPLICAS"),
            Column("Ready", "integer", "RS_READY"),
            AGE,
            CONTAINERS,
            IMAGES,
            Column("Selector", "string", "RS_SELECTOR", 1),
        ),
        _replicaset_cells,
    ),
    "StatefulSet": Printer((NAME, _READY_OF_DESIRED, AGE, CONTAINERS, IMAGES), _statefulset_cells),
    "DaemonSet": Printer(
        (
            NAME,
            Column("Desired", "integer", "DS_DESIRED"),
            Column("Current", "integer", "DS_CURRENT"),
            Column("Ready", "integer", "DS_READY"),
            Column("Up-to-date", "integer", "DS_UPDATED"),
            Column("Available", "integer", "DS_AVAILABLE"),
            Column("Node Selector", "string", "DS_NODE_SELECTOR"),
            AGE,
            CONTAINERS,
            IMAGES,
            Column("Selector", "string", "DS_SELECTOR", 1),
        ),
        _daemonset_cells,
    ),
    "Job": Printer(
        (
            NAME,
            Column("Status", "string", "Status of the job."),
            Column("Completions", "string", "JOB_SUCCEEDED"),
            Column("Duration", "string", "Time required to complete the job."),
            AGE,
            CONTAINERS,
            IMAGES,
            _JOB_SELECTOR,
        ),
        _job_cells,
    ),
    "CronJob": Printer(
        (
            NAME,
            Column("Schedule", "string", "CJ_SCHEDULE"),
            Column("Timezone", "string", "CJ_TZ"),
            Column("Suspend", "boolean", "CJ_SUSPEND"),
            Column("Active", "integer", "CJ_ACTIVE"),
            Column("Last Schedule", "string", "CJ_LAST"),
            AGE,
            CONTAINERS,
            IMAGES,
            _JOB_SELECTOR,
        ),
        _cronjob_cells,
    ),
    "HorizontalPodAutoscaler": Printer(
        (
            NAME,
            Column("Reference", "string", "HPA_REF"),
            Column("Targets", "string", "HPA_METRICS"),
            Column("MinPods", "string", "HPA_MIN"),
            Column("MaxPods", "string", "HPA_MAX"),
            Column("Replicas", "string", "HPA_CURRENT"),
            AGE,
        ),
        _hpa_cells,
    ),
}
