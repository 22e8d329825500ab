"""What a real API server would have refused on the way in: metadata, names, labels, and the fields of
each kind that the controllers and the self-healing job read. Each check fails with a one-line
`ScenarioError` naming the document and the field."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from kubesandbox.resources import ResourceType
from kubesandbox.resources.clock import parse_time
from kubesandbox.resources.errors import ApiError
from kubesandbox.resources.selectors import parse_label_selector, selector_matches, selector_to_string
from kubesandbox.serve.scenario.model import (
    DNS_1035_LABEL,
    DNS_LABEL,
    DNS_SUBDOMAIN,
    LABEL_NAME,
    LABEL_VALUE,
    MISSING,
    NAMESPACE_RT,
    RFC3339,
    Obj,
    Where,
    show,
)


def check_object(where: Where, rt: ResourceType, doc: Obj) -> None:
    """Every check that applies to one object of kind `rt`."""
    check_metadata(where, rt, doc)
    check = KIND_CHECKS.get(rt.kind)
    if check is not None:
        check(where, doc)
    check_conditions(where, doc)


def check_metadata(where: Where, rt: ResourceType, doc: Obj) -> None:
    meta = check_mapping(where, doc.get("metadata", MISSING), "metadata", required=True)
    name = check_str(where, meta.get("name", MISSING), "metadata.name", required=True)
    if rt is NAMESPACE_RT:
        check_name(where, name, "metadata.name", DNS_LABEL, 63)
    elif rt.kind == "Service":
        check_name(where, name, "metadata.name", DNS_1035_LABEL, 63)
    elif rt.group == "rbac.authorization.k8s.io":
        if name in (".", "..") or "/" in name or "%" in name or not name:
            where.fail(
                "metadata.name", f'{show(name)}: may not be "." or ".." and may not contain "/" or "%"'
            )
    else:
        check_name(where, name, "metadata.name", DNS_SUBDOMAIN, 253)
    namespace = meta.get("namespace")
    if namespace is not None and namespace != "":
        check_str(where, namespace, "metadata.namespace")
        check_name(where, namespace, "metadata.namespace", DNS_LABEL, 63)
    _check_labels(where, meta.get("labels", MISSING), "metadata.labels")
    _check_string_map(where, meta.get("annotations", MISSING), "metadata.annotations")
    uid = meta.get("uid", MISSING)
    if uid is not MISSING and (not isinstance(uid, str) or not uid):
        where.fail("metadata.uid", f"expected a non-empty string, got {show(uid)}")
    check_time(where, meta.get("creationTimestamp", MISSING), "metadata.creationTimestamp")
    _int(where, meta.get("generation", MISSING), "metadata.generation", minimum=1)
    check_str(where, meta.get("generateName", MISSING), "metadata.generateName")
    _check_owner_refs(where, meta.get("ownerReferences", MISSING))


def _check_owner_refs(where: Where, refs: Any) -> None:
    if _list(where, refs, "metadata.ownerReferences") is None:
        return
    controllers = 0
    for i, ref in enumerate(refs):
        path = f"metadata.ownerReferences[{i}]"
        check_mapping(where, ref, path, required=True)
        for key in ("apiVersion", "kind", "name"):
            check_str(where, ref.get(key, MISSING), f"{path}.{key}", required=True)
        uid = ref.get("uid", MISSING)
        if uid is not MISSING and uid is not None and not isinstance(uid, str):
            where.fail(f"{path}.uid", f"expected a string, got {show(uid)}")
        _bool(where, ref.get("blockOwnerDeletion", MISSING), f"{path}.blockOwnerDeletion")
        if _bool(where, ref.get("controller", MISSING), f"{path}.controller"):
            controllers += 1
    if controllers > 1:
        where.fail("metadata.ownerReferences", "Only one reference can have Controller set to true")


def _check_labels(where: Where, labels: Any, path: str) -> None:
    if _check_string_map(where, labels, path) is None:
        return
    for key, value in labels.items():
        prefix, _, label_name = key.rpartition("/")
        if (
            len(label_name) > 63
            or not LABEL_NAME.match(label_name)
            or (prefix and (len(prefix) > 253 or not DNS_SUBDOMAIN.match(prefix)))
        ):
            where.fail(f"{path}", f"{show(key)} is not a valid label key")
        if len(value) > 63 or not LABEL_VALUE.match(value):
            where.fail(f"{path}.{key}", f"{show(value)} is not a valid label value")


def _check_string_map(where: Where, value: Any, path: str) -> dict[str, str] | None:
    """A map[string]string field: the API server refuses numbers or booleans as values."""
    if check_mapping(where, value, path) is None:
        return None
    for key, item in value.items():
        if not isinstance(key, str):
            where.fail(path, f"keys must be strings, got {show(key)}")
        if not isinstance(item, str):
            where.fail(f"{path}.{key}", f"expected a string, got {show(item)} (quote it)")
    result: dict[str, str] = value
    return result


# -- kind-specific checks (the fields the controllers and the self-healing job read) ---------------


def _check_workload(where: Where, doc: Obj) -> None:
    """Deployment and ReplicaSet: replicas, selector, template labels, containers, status counters."""
    spec = check_mapping(where, doc.get("spec", MISSING), "spec", required=True)
    _int(where, spec.get("replicas", MISSING), "spec.replicas", minimum=0)
    selector = _check_selector(
        where, spec.get("selector", MISSING), "spec.selector", required=True, kind=doc["kind"].lower()
    )
    template = check_mapping(where, spec.get("template", MISSING), "spec.template", required=True)
    labels = _check_template_meta(where, template, "spec.template")
    if not selector_matches(selector, labels):
        where.fail(
            "spec.template.metadata.labels",
            f"`selector` does not match template `labels` (selector {selector_to_string(selector)}, "
            f"labels {labels_text(labels)})",
        )
    tspec = check_mapping(where, template.get("spec", MISSING), "spec.template.spec", required=True)
    _check_containers(where, tspec.get("containers", MISSING), "spec.template.spec.containers")
    status = check_mapping(where, doc.get("status", MISSING), "status") or {}
    for key in (
        "replicas",
        "readyReplicas",
        "availableReplicas",
        "updatedReplicas",
        "unavailableReplicas",
        "fullyLabeledReplicas",
        "observedGeneration",
        "terminatingReplicas",
    ):
        _int(where, status.get(key, MISSING), f"status.{key}", minimum=0)


def _check_pod(where: Where, doc: Obj) -> None:
    spec = check_mapping(where, doc.get("spec", MISSING), "spec", required=True)
    names = _check_containers(where, spec.get("containers", MISSING), "spec.containers")
    init = _check_containers(
        where, spec.get("initContainers", MISSING), "spec.initContainers", required=False
    )
    status = check_mapping(where, doc.get("status", MISSING), "status") or {}
    phase = status.get("phase", MISSING)
    if phase is not MISSING and phase not in ("Pending", "Running", "Succeeded", "Failed", "Unknown"):
        where.fail(
            "status.phase",
            f"unknown phase {show(phase)} (known: Pending, Running, Succeeded, Failed, Unknown)",
        )
    check_time(where, status.get("startTime", MISSING), "status.startTime")
    _check_container_statuses(
        where, status.get("containerStatuses", MISSING), "status.containerStatuses", names
    )
    _check_container_statuses(
        where, status.get("initContainerStatuses", MISSING), "status.initContainerStatuses", init
    )


def _check_job_template(where: Where, template: Any, path: str) -> None:
    template = check_mapping(where, template, path, required=True)
    _check_template_meta(where, template, path)
    tspec = check_mapping(where, template.get("spec", MISSING), f"{path}.spec", required=True)
    _check_containers(where, tspec.get("containers", MISSING), f"{path}.spec.containers")
    restart = tspec.get("restartPolicy", MISSING)
    if restart is not MISSING and restart not in ("Never", "OnFailure"):
        where.fail(
            f"{path}.spec.restartPolicy",
            f'Unsupported value: {show(restart)}: supported values: "OnFailure", "Never"',
        )


def _check_job(where: Where, doc: Obj) -> None:
    spec = check_mapping(where, doc.get("spec", MISSING), "spec", required=True)
    if spec.get("selector") is not None:
        _check_selector(where, spec["selector"], "spec.selector", required=False, kind="job")
    _check_job_template(where, spec.get("template", MISSING), "spec.template")


def _check_cronjob(where: Where, doc: Obj) -> None:
    spec = check_mapping(where, doc.get("spec", MISSING), "spec", required=True)
    schedule = check_str(where, spec.get("schedule", MISSING), "spec.schedule", required=True)
    if len(schedule.split()) not in (1, 5, 6) or not schedule.strip():
        where.fail("spec.schedule", f'{show(schedule)}: expected a cron schedule such as "*/5 * * * *"')
    policy = spec.get("concurrencyPolicy", MISSING)
    if policy is not MISSING and policy not in ("Allow", "Forbid", "Replace"):
        where.fail(
            "spec.concurrencyPolicy",
            f'Unsupported value: {show(policy)}: supported values: "Allow", "Forbid", "Replace"',
        )
    _bool(where, spec.get("suspend", MISSING), "spec.suspend")
    job = check_mapping(where, spec.get("jobTemplate", MISSING), "spec.jobTemplate", required=True)
    jspec = check_mapping(where, job.get("spec", MISSING), "spec.jobTemplate.spec", required=True)
    _check_job_template(where, jspec.get("template", MISSING), "spec.jobTemplate.spec.template")


def _check_hpa(where: Where, doc: Obj) -> None:
    spec = check_mapping(where, doc.get("spec", MISSING), "spec", required=True)
    target = check_mapping(where, spec.get("scaleTargetRef", MISSING), "spec.scaleTargetRef", required=True)
    for key in ("kind", "name"):
        check_str(where, target.get(key, MISSING), f"spec.scaleTargetRef.{key}", required=True)
    minimum = _int(where, spec.get("minReplicas", MISSING), "spec.minReplicas", minimum=1)
    maximum = _int(where, spec.get("maxReplicas", MISSING), "spec.maxReplicas", minimum=1, required=True)
    if maximum < (minimum or 1):
        where.fail(
            "spec.maxReplicas", f"Invalid value: {maximum}: must be greater than or equal to `minReplicas`"
        )


def _check_pdb(where: Where, doc: Obj) -> None:
    spec = check_mapping(where, doc.get("spec", MISSING), "spec", required=True)
    given = [key for key in ("minAvailable", "maxUnavailable") if spec.get(key) is not None]
    if len(given) == 2:
        where.fail("spec", "minAvailable and maxUnavailable cannot be both set")
    for key in given:
        value = spec[key]
        if isinstance(value, bool) or not (
            (isinstance(value, int) and value >= 0)
            or (isinstance(value, str) and re.fullmatch(r"\d+%", value))
        ):
            where.fail(f"spec.{key}", f"expected a non-negative integer or a percentage, got {show(value)}")
    if spec.get("selector") is not None:
        _check_selector(where, spec["selector"], "spec.selector", required=False, kind="poddisruptionbudget")


def _check_config_map(where: Where, doc: Obj) -> None:
    _check_string_map(where, doc.get("data", MISSING), "data")
    _check_string_map(where, doc.get("binaryData", MISSING), "binaryData")


def _check_secret(where: Where, doc: Obj) -> None:
    _check_string_map(where, doc.get("data", MISSING), "data")
    _check_string_map(where, doc.get("stringData", MISSING), "stringData")


def _check_service(where: Where, doc: Obj) -> None:
    spec = check_mapping(where, doc.get("spec", MISSING), "spec") or {}
    _check_string_map(where, spec.get("selector", MISSING), "spec.selector")
    ports = _list(where, spec.get("ports", MISSING), "spec.ports") or []
    for i, port in enumerate(ports):
        check_mapping(where, port, f"spec.ports[{i}]", required=True)
        _port(where, port.get("port", MISSING), f"spec.ports[{i}].port", required=True)


def _check_event(where: Where, doc: Obj) -> None:
    involved = check_mapping(where, doc.get("involvedObject", MISSING), "involvedObject", required=True)
    for key in ("kind", "name"):
        check_str(where, involved.get(key, MISSING), f"involvedObject.{key}", required=True)
    _int(where, doc.get("count", MISSING), "count", minimum=0)
    for key in ("firstTimestamp", "lastTimestamp"):
        check_time(where, doc.get(key, MISSING), key, nullable=True)


KIND_CHECKS: dict[str, Callable[[Where, Obj], None]] = {
    "Deployment": _check_workload,
    "ReplicaSet": _check_workload,
    "Pod": _check_pod,
    "Job": _check_job,
    "CronJob": _check_cronjob,
    "HorizontalPodAutoscaler": _check_hpa,
    "PodDisruptionBudget": _check_pdb,
    "ConfigMap": _check_config_map,
    "Secret": _check_secret,
    "Service": _check_service,
    "Event": _check_event,
}


def _check_template_meta(where: Where, template: Obj, path: str) -> dict[str, str]:
    meta = check_mapping(where, template.get("metadata", MISSING), f"{path}.metadata") or {}
    _check_string_map(where, meta.get("annotations", MISSING), f"{path}.metadata.annotations")
    _check_labels(where, meta.get("labels", MISSING), f"{path}.metadata.labels")
    labels: dict[str, str] = meta.get("labels") or {}
    return labels


def _check_selector(where: Where, selector: Any, path: str, *, required: bool, kind: str) -> Obj:
    selector = check_mapping(where, selector, path, required=required)
    if selector is None:
        return {}
    _check_labels(where, selector.get("matchLabels", MISSING), f"{path}.matchLabels")
    exprs = _list(where, selector.get("matchExpressions", MISSING), f"{path}.matchExpressions") or []
    for i, expr in enumerate(exprs):
        epath = f"{path}.matchExpressions[{i}]"
        check_mapping(where, expr, epath, required=True)
        check_str(where, expr.get("key", MISSING), f"{epath}.key", required=True)
        op = expr.get("operator")
        if op not in ("In", "NotIn", "Exists", "DoesNotExist"):
            where.fail(
                f"{epath}.operator",
                f'Unsupported value: {show(op)}: supported values: "In", "NotIn", "Exists", "DoesNotExist"',
            )
        values = _list(where, expr.get("values", MISSING), f"{epath}.values") or []
        if any(not isinstance(v, str) for v in values):
            where.fail(f"{epath}.values", "expected a list of strings")
        if op in ("In", "NotIn") and not values:
            where.fail(
                f"{epath}.values", "Required value: must be specified when `operator` is 'In' or 'NotIn'"
            )
        if op in ("Exists", "DoesNotExist") and values:
            where.fail(
                f"{epath}.values",
                "Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
            )
    if required and not selector.get("matchLabels") and not exprs:
        where.fail(path, f"Invalid value: empty selector is invalid for {kind}")
    try:
        parse_label_selector(selector_to_string(selector))
    except ApiError as exc:
        where.fail(path, exc.message)
    return selector


def _check_containers(where: Where, containers: Any, path: str, *, required: bool = True) -> set[str]:
    """The container list: each with a unique DNS-label name and an image (what the kubelet runs)."""
    if containers is MISSING or containers is None or containers == []:
        if required:
            where.fail(path, "Required value: a pod needs at least one container")
        return set()
    _list(where, containers, path, required=True)
    names: set[str] = set()
    for i, container in enumerate(containers):
        cpath = f"{path}[{i}]"
        check_mapping(where, container, cpath, required=True)
        name = check_str(where, container.get("name", MISSING), f"{cpath}.name", required=True)
        check_name(where, name, f"{cpath}.name", DNS_LABEL, 63)
        if name in names:
            where.fail(f"{cpath}.name", f"Duplicate value: {show(name)}")
        names.add(name)
        image = check_str(where, container.get("image", MISSING), f"{cpath}.image", required=True)
        if not image.strip():
            where.fail(f"{cpath}.image", "Required value")
        for j, port in enumerate(_list(where, container.get("ports", MISSING), f"{cpath}.ports") or []):
            check_mapping(where, port, f"{cpath}.ports[{j}]", required=True)
            _port(
                where, port.get("containerPort", MISSING), f"{cpath}.ports[{j}].containerPort", required=True
            )
        for j, env in enumerate(_list(where, container.get("env", MISSING), f"{cpath}.env") or []):
            check_mapping(where, env, f"{cpath}.env[{j}]", required=True)
            check_str(where, env.get("name", MISSING), f"{cpath}.env[{j}].name", required=True)
            check_str(where, env.get("value", MISSING), f"{cpath}.env[{j}].value")
    return names


def _check_container_statuses(where: Where, statuses: Any, path: str, names: set[str]) -> None:
    """What the job classifies crash loops by: state, lastState.terminated, restartCount."""
    for i, status in enumerate(_list(where, statuses, path) or []):
        spath = f"{path}[{i}]"
        check_mapping(where, status, spath, required=True)
        name = check_str(where, status.get("name", MISSING), f"{spath}.name", required=True)
        if name not in names:
            where.fail(
                f"{spath}.name",
                f"{show(name)} is not a container of this pod "
                f"(containers: {', '.join(sorted(names)) or 'none'})",
            )
        _int(where, status.get("restartCount", MISSING), f"{spath}.restartCount", minimum=0)
        _bool(where, status.get("ready", MISSING), f"{spath}.ready")
        _bool(where, status.get("started", MISSING), f"{spath}.started")
        check_str(where, status.get("image", MISSING), f"{spath}.image")
        for key in ("state", "lastState"):
            _check_container_state(where, status.get(key, MISSING), f"{spath}.{key}")


def _check_container_state(where: Where, state: Any, path: str) -> None:
    if check_mapping(where, state, path) is None:
        return
    unknown = set(state) - {"waiting", "running", "terminated"}
    if unknown:
        where.fail(
            f"{path}.{sorted(unknown)[0]}", "unknown container state (known: waiting, running, terminated)"
        )
    if len(state) > 1:
        where.fail(path, f"a container is in one state at a time, got {', '.join(sorted(state))}")
    for key, detail in state.items():
        dpath = f"{path}.{key}"
        check_mapping(where, detail, dpath, required=True)
        check_str(where, detail.get("reason", MISSING), f"{dpath}.reason")
        check_str(where, detail.get("message", MISSING), f"{dpath}.message")
        if key == "terminated":
            _int(where, detail.get("exitCode", MISSING), f"{dpath}.exitCode", required=True)
            check_time(where, detail.get("finishedAt", MISSING), f"{dpath}.finishedAt", nullable=True)
        if key in ("running", "terminated"):
            check_time(where, detail.get("startedAt", MISSING), f"{dpath}.startedAt", nullable=True)


def check_conditions(where: Where, doc: Obj) -> None:
    status = doc.get("status")
    if not isinstance(status, dict):
        check_mapping(where, doc.get("status", MISSING), "status")
        return
    for i, c in enumerate(_list(where, status.get("conditions", MISSING), "status.conditions") or []):
        path = f"status.conditions[{i}]"
        check_mapping(where, c, path, required=True)
        check_str(where, c.get("type", MISSING), f"{path}.type", required=True)
        if c.get("status") not in ("True", "False", "Unknown"):
            where.fail(
                f"{path}.status", f'expected "True", "False" or "Unknown", got {show(c.get("status"))}'
            )
        for key in ("lastTransitionTime", "lastUpdateTime", "lastProbeTime", "lastHeartbeatTime"):
            check_time(where, c.get(key, MISSING), f"{path}.{key}", nullable=True)


# -- value checks ------------------------------------------------------------------------------


def check_mapping(where: Where, value: Any, path: str, *, required: bool = False) -> Any:
    if value is MISSING or (value is None and not required):
        if required:
            where.fail(path, "Required value")
        return None
    if not isinstance(value, dict):
        where.fail(path, f"expected a mapping, got {show(value)}")
    return value


def _list(where: Where, value: Any, path: str, *, required: bool = False) -> Any:
    if value is MISSING or (value is None and not required):
        if required:
            where.fail(path, "Required value")
        return None
    if not isinstance(value, list):
        where.fail(path, f"expected a list, got {show(value)}")
    return value


def check_str(where: Where, value: Any, path: str, *, required: bool = False) -> Any:
    if value is MISSING or (value is None and not required):
        if required:
            where.fail(path, "Required value")
        return None
    if not isinstance(value, str):
        where.fail(path, f"expected a string, got {show(value)}")
    if required and not value:
        where.fail(path, "Required value")
    return value


def _int(where: Where, value: Any, path: str, *, minimum: int | None = None, required: bool = False) -> Any:
    if value is MISSING or (value is None and not required):
        if required:
            where.fail(path, "Required value")
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        where.fail(path, f"expected an integer, got {show(value)}")
    if minimum is not None and value < minimum:
        where.fail(path, f"Invalid value: {value}: must be greater than or equal to {minimum}")
    return value


def _port(where: Where, value: Any, path: str, *, required: bool = False) -> None:
    port = _int(where, value, path, required=required)
    if port is not None and not 1 <= port <= 65535:
        where.fail(path, f"Invalid value: {port}: must be between 1 and 65535, inclusive")


def _bool(where: Where, value: Any, path: str) -> Any:
    if value is MISSING or value is None:
        return None
    if not isinstance(value, bool):
        where.fail(path, f"expected true or false, got {show(value)}")
    return value


def check_time(where: Where, value: Any, path: str, *, nullable: bool = False) -> None:
    if value is MISSING or (value is None and nullable):
        return
    if not isinstance(value, str) or not RFC3339.match(value):
        where.fail(path, f'expected an RFC 3339 time such as "2026-01-01T11:55:00Z", got {show(value)}')
    try:
        parse_time(value)
    except ValueError:
        where.fail(path, f'expected an RFC 3339 time such as "2026-01-01T11:55:00Z", got {show(value)}')


_NAME_RULES = {  # the API server's wording (k8s.io/apimachinery/pkg/util/validation)
    DNS_LABEL.pattern: "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character",
    DNS_SUBDOMAIN.pattern: "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
    "'-' or '.', and must start and end with an alphanumeric character",
    DNS_1035_LABEL.pattern: "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start "
    "with an alphabetic character, and end with an alphanumeric character",
}


def check_name(where: Where, name: str, path: str, pattern: re.Pattern[str], limit: int) -> None:
    if len(name) > limit:
        where.fail(path, f"Invalid value: {show(name)}: must be no more than {limit} characters")
    if not pattern.match(name):
        where.fail(path, f"Invalid value: {show(name)}: {_NAME_RULES[pattern.pattern]}")


def labels_text(labels: Mapping[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items())) or "none"
