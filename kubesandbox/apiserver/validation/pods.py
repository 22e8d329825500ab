"""Pod specs and pod templates (k8s.io/kubernetes pkg/apis/core/validation), and what a pod update may change."""

from __future__ import annotations

import re
from typing import Any

from kubesandbox.apiserver.validation.fields import (
    _LABEL,
    IANA_SVC_NAME,
    LABEL_MSG,
    POD_UPDATE_MSG,
    PORT_RANGE_MSG,
    Cause,
    _int,
    _obj,
    annotation_keys,
    duplicate,
    invalid,
    labels,
    nonnegative,
    not_found,
    not_supported,
    required,
)
from kubesandbox.resources.quantity import parse_quantity

Obj = dict[str, Any]


# -- pods -----------------------------------------------------------------------------------------------------

_RESTART_POLICIES = ("Always", "OnFailure", "Never")
_DNS_POLICIES = ("ClusterFirstWithHostNet", "ClusterFirst", "Default", "None")
_PULL_POLICIES = ("Always", "IfNotPresent", "Never")
_PROTOCOLS = ("SCTP", "TCP", "UDP")
_PROBE_HANDLERS = ("exec", "httpGet", "tcpSocket", "grpc")
_PROBE_INTS = (
    "initialDelaySeconds",
    "timeoutSeconds",
    "periodSeconds",
    "successThreshold",
    "failureThreshold",
)


def _port_name(path: str, name: Any) -> list[Cause]:
    """`IsValidPortName` (IANA_SVC_NAME): at most 15 of [-a-z0-9], a letter, no leading/trailing/double '-'."""
    if not isinstance(name, str):
        return []
    if len(name) > 15:
        return [invalid(path, name, "must be no more than 15 characters")]
    if not re.fullmatch(r"[-a-z0-9]+", name):
        return [invalid(path, name, "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")]
    if not IANA_SVC_NAME.match(name):
        return [invalid(path, name, "must contain at least one letter (a-z)")]
    if "--" in name:
        return [invalid(path, name, "must not contain consecutive hyphens")]
    if name.startswith("-") or name.endswith("-"):
        return [invalid(path, name, "must not begin or end with a hyphen")]
    return []


def _probe(path: str, probe: Any) -> list[Cause]:
    if not isinstance(probe, dict):
        return []
    causes: list[Cause] = []
    for k in _PROBE_INTS:
        causes += nonnegative(f"{path}.{k}", probe.get(k))
    if not any(probe.get(h) is not None for h in _PROBE_HANDLERS):
        causes.append(required(path, "must specify a handler type"))
    return causes


def _resources(path: str, res: Any) -> list[Cause]:
    if not isinstance(res, dict):
        return []
    causes: list[Cause] = []
    limits = res.get("limits") or {}
    for k, v in (res.get("requests") or {}).items():
        if k in limits:
            req, lim = parse_quantity(v), parse_quantity(limits[k])
            if req is not None and lim is not None and req > lim:
                causes.append(
                    invalid(f"{path}.requests", v, f"must be less than or equal to {k} limit of {limits[k]}")
                )
    return causes


def _unique_label(path: str, name: Any, seen: set[str]) -> list[Cause]:
    """A container's or volume's name: required, an RFC 1123 label, unique among its siblings (`seen` grows)."""
    seen_before = str(name) in seen
    seen.add(str(name))
    if not name:
        return [required(path)]
    if not isinstance(name, str) or not _LABEL.match(name):
        return [invalid(path, name, LABEL_MSG)]
    return [duplicate(path, name)] if seen_before else []


def _containers(spec: Obj, path: str, field_name: str, volumes: set[str], seen: set[str]) -> list[Cause]:
    causes: list[Cause] = []
    for i, c in enumerate(spec.get(field_name) or []):
        p = f"{path}.{field_name}[{i}]"
        if not isinstance(c, dict):
            continue
        causes += _unique_label(f"{p}.name", c.get("name"), seen)
        image = c.get("image")
        if not image:
            causes.append(required(f"{p}.image"))
        elif isinstance(image, str) and image != image.strip():
            causes.append(invalid(f"{p}.image", image, "must not have leading or trailing whitespace"))
        port_names: set[str] = set()
        for j, port in enumerate(c.get("ports") or []):
            if not isinstance(port, dict):
                continue
            pp = f"{p}.ports[{j}]"
            if port.get("name"):
                causes += _port_name(f"{pp}.name", port["name"])
                if port["name"] in port_names:
                    causes.append(duplicate(f"{pp}.name", port["name"]))
                port_names.add(str(port["name"]))
            cp = _int(port.get("containerPort"))
            if cp is None or cp == 0:
                causes.append(required(f"{pp}.containerPort"))
            elif not 1 <= cp <= 65535:
                causes.append(invalid(f"{pp}.containerPort", cp, PORT_RANGE_MSG))
            if port.get("protocol") not in (None, *_PROTOCOLS):
                causes.append(not_supported(f"{pp}.protocol", port.get("protocol"), _PROTOCOLS))
        for j, mount in enumerate(c.get("volumeMounts") or []):
            if isinstance(mount, dict) and mount.get("name") not in volumes:
                causes.append(not_found(f"{p}.volumeMounts[{j}].name", mount.get("name")))
        policy = c.get("imagePullPolicy")
        if policy is not None and policy not in _PULL_POLICIES:
            causes.append(not_supported(f"{p}.imagePullPolicy", policy, _PULL_POLICIES))
        causes += _resources(f"{p}.resources", c.get("resources"))
        if field_name == "containers":
            for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
                causes += _probe(f"{p}.{probe}", c.get(probe))
    return causes


def pod_spec(
    spec: Any, path: str, *, restart_policies: tuple[str, ...] | None = None, restart_required: bool = False
) -> list[Cause]:
    """`ValidatePodSpec`: volumes, init containers, containers, restartPolicy, dnsPolicy."""
    if not isinstance(spec, dict):
        return [required(path)]
    causes: list[Cause] = []
    names: set[str] = set()
    for i, v in enumerate(spec.get("volumes") or []):
        if not isinstance(v, dict):
            continue
        causes += _unique_label(f"{path}.volumes[{i}].name", v.get("name"), names)
    seen: set[str] = set()
    causes += _containers(spec, path, "initContainers", names, seen)
    if not spec.get("containers"):
        causes.append(required(f"{path}.containers"))
    else:
        causes += _containers(spec, path, "containers", names, seen)
    policy = spec.get("restartPolicy")
    if policy not in _RESTART_POLICIES:
        causes.append(not_supported(f"{path}.restartPolicy", policy, _RESTART_POLICIES))
    elif restart_policies is not None and policy not in restart_policies:
        if restart_required:
            quoted = ", ".join(f'"{v}"' for v in restart_policies)
            causes.append(required(f"{path}.restartPolicy", f"valid values: {quoted}"))
        else:
            causes.append(not_supported(f"{path}.restartPolicy", policy, restart_policies))
    dns = spec.get("dnsPolicy")
    if dns is not None and dns not in _DNS_POLICIES:
        causes.append(not_supported(f"{path}.dnsPolicy", dns, _DNS_POLICIES))
    return causes


def _template(
    tmpl: Any, path: str, *, restart_policies: tuple[str, ...], restart_required: bool = False
) -> list[Cause]:
    tmpl = _obj(tmpl)
    meta = tmpl.get("metadata") or {}
    causes = labels(f"{path}.metadata.labels", meta.get("labels"))
    causes += annotation_keys(f"{path}.metadata.annotations", meta.get("annotations"))
    return causes + pod_spec(
        tmpl.get("spec"), f"{path}.spec", restart_policies=restart_policies, restart_required=restart_required
    )


def _pod_update(new: Obj, old: Obj) -> list[Cause]:
    """`ValidatePodUpdate`: only images, activeDeadlineSeconds, added tolerations and a negative grace period
    may change. (The real message goes on with a diff of Go's internal PodSpec, which is not reproduced.)"""
    a, b = dict(new.get("spec") or {}), dict(old.get("spec") or {})
    for spec in (a, b):
        for field_name in ("containers", "initContainers"):
            spec[field_name] = [
                {k: v for k, v in c.items() if k != "image"}
                for c in spec.get(field_name) or []
                if isinstance(c, dict)
            ]
        spec.pop("activeDeadlineSeconds", None)
    old_tol, new_tol = b.pop("tolerations", None) or [], a.pop("tolerations", None) or []
    if a != b or any(t not in new_tol for t in old_tol):
        return [("spec", "FieldValueForbidden", POD_UPDATE_MSG)]
    return []
