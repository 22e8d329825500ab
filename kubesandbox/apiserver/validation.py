"""The subset of API-server validation that matters to the job and to kubectl: 422 Invalid answers
with the field paths and messages a real server uses (k8s.io/kubernetes `pkg/apis/*/validation`).

Not validated: unknown fields (`fieldValidation=Strict` needs the full schema, which the
sandbox does not carry). Everything checked here is listed in `validate`.
"""

from __future__ import annotations

import re
from typing import Any

from kubesandbox.resources import ResourceType, errors
from kubesandbox.resources.selectors import selector_matches

Obj = dict[str, Any]
Cause = tuple[str, str, str]

_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def _name(meta: Obj, kind: str) -> list[Cause]:
    name = meta.get("name", "")
    pattern = _DNS1123_LABEL if kind in ("Namespace", "Service") else _DNS1123_SUBDOMAIN
    if not isinstance(name, str) or not pattern.match(name) or len(name) > 253:
        return [
            (
                "metadata.name",
                "FieldValueInvalid",
                f'Invalid value: "{name}": a lowercase RFC 1123 subdomain must consist of lower case '
                "alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
            )
        ]
    return []


def _string_map(meta: Obj, field: str) -> list[Cause]:
    value = meta.get(field)
    if value is None:
        return []
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        return [(f"metadata.{field}", "FieldValueInvalid", "Invalid value: values must be strings")]
    return []


def _containers(spec: Any, path: str) -> list[Cause]:
    if not isinstance(spec, dict):
        return [(path, "FieldValueRequired", "Required value")]
    containers = spec.get("containers")
    if not isinstance(containers, list) or not containers:
        return [(f"{path}.containers", "FieldValueRequired", "Required value")]
    causes: list[Cause] = []
    seen: set[str] = set()
    for i, c in enumerate(containers):
        if not isinstance(c, dict):
            causes.append(
                (f"{path}.containers[{i}]", "FieldValueInvalid", "Invalid value: must be an object")
            )
            continue
        if not c.get("name"):
            causes.append((f"{path}.containers[{i}].name", "FieldValueRequired", "Required value"))
        elif c["name"] in seen:
            causes.append(
                (f"{path}.containers[{i}].name", "FieldValueDuplicate", f'Duplicate value: "{c["name"]}"')
            )
        seen.add(str(c.get("name")))
        if not c.get("image"):
            causes.append((f"{path}.containers[{i}].image", "FieldValueRequired", "Required value"))
    return causes


def _replicas(spec: Obj) -> list[Cause]:
    r = spec.get("replicas")
    if r is None:
        return []
    if isinstance(r, bool) or not isinstance(r, int):
        return [("spec.replicas", "FieldValueInvalid", f"Invalid value: {r!r}: must be an integer")]
    if r < 0:
        return [
            ("spec.replicas", "FieldValueInvalid", f"Invalid value: {r}: must be greater than or equal to 0")
        ]
    return []


def _selector_and_template(spec: Obj) -> list[Cause]:
    sel = spec.get("selector")
    if not isinstance(sel, dict) or not (sel.get("matchLabels") or sel.get("matchExpressions")):
        return [("spec.selector", "FieldValueRequired", "Required value")]
    tmpl = spec.get("template") or {}
    labels = (tmpl.get("metadata") or {}).get("labels") or {}
    causes = []
    if not selector_matches(sel, labels):
        causes.append(
            (
                "spec.template.metadata.labels",
                "FieldValueInvalid",
                f"Invalid value: {labels}: `selector` does not match template `labels`",
            )
        )
    return causes + _containers(tmpl.get("spec"), "spec.template.spec")


def validate(rt: ResourceType, obj: Obj, old: Obj | None = None) -> None:
    """Raise 422 Invalid when `obj` (after defaulting) would be rejected by a real API server."""
    meta = obj.get("metadata") or {}
    causes = _name(meta, rt.kind) + _string_map(meta, "labels") + _string_map(meta, "annotations")
    spec: Obj = obj["spec"] if isinstance(obj.get("spec"), dict) else {}
    if rt.kind in ("Deployment", "ReplicaSet"):
        causes += _replicas(spec) + _selector_and_template(spec)
    elif rt.kind == "Pod":
        causes += _containers(spec, "spec")
    elif rt.kind == "Job":
        causes += _containers((spec.get("template") or {}).get("spec"), "spec.template.spec")
    if old is not None and rt.kind in ("Deployment", "ReplicaSet", "Job"):
        old_spec = old.get("spec") or {}
        if old_spec.get("selector") is not None and spec.get("selector") != old_spec.get("selector"):
            causes.append(
                (
                    "spec.selector",
                    "FieldValueInvalid",
                    f"Invalid value: {spec.get('selector')}: field is immutable",
                )
            )
    if causes:
        raise errors.invalid(rt.kind, rt.group, str(meta.get("name", "")), causes)
