"""Decoding a patched object into the Go types: the first value whose JSON type the kind's schema refuses
(a number where a string belongs, a list where an object belongs), named the way the two decoders a
real server uses name it.

- a strategic merge patch's result goes through apimachinery's unstructured converter:
  `cannot convert int64 to string`, `unrecognized type: int32`, `cannot restore struct from: slice`;
- a JSON or merge patch's result through encoding/json:
  `json: cannot unmarshal number into Go struct field ConfigMap.data of type string`.

Schemas without one JSON type (quantities, int-or-string, times: Go types with their own decoding) are
not checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kubesandbox.apiserver.openapi import Schema, _root, _schemas

_CUSTOM = {
    "io.k8s.apimachinery.pkg.apis.meta.v1.Time",
    "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime",
    "io.k8s.apimachinery.pkg.api.resource.Quantity",
    "io.k8s.apimachinery.pkg.util.intstr.IntOrString",
    "io.k8s.apimachinery.pkg.runtime.RawExtension",
}


@dataclass(frozen=True)
class Mismatch:
    value: Any
    go_type: str  # string, int32, int64, float64, bool, v1.PodTemplateSpec, map[string]string, []v1.Container
    kind: str  # what the schema wants: string, integer, number, boolean, struct, map, slice
    struct: str  # the Go struct holding the field (ConfigMap, ObjectMeta, DeploymentSpec)
    field: str  # its JSON path from the root, map keys and list indices left out (metadata.labels)


def _ref_name(schema: Schema) -> str | None:
    ref = schema.get("$ref") or (schema.get("allOf") or [{}])[0].get("$ref")
    return ref.rsplit("/", 1)[-1] if isinstance(ref, str) else None


def _go_name(schema_name: str) -> str:
    parts = schema_name.split(".")
    return f"{parts[-2]}.{parts[-1]}" if len(parts) >= 2 else schema_name


def _resolve(gv: str, schema: Schema) -> tuple[str | None, Schema]:
    name = None
    while (ref := _ref_name(schema)) is not None:
        name, schema = ref, _schemas(gv).get(ref, {})
    return name, schema


def _go_type(gv: str, schema: Schema) -> tuple[str, str]:
    """(Go type, kind) of a schema; kind "" for one not checked."""
    name, s = _resolve(gv, schema)
    if name in _CUSTOM or "oneOf" in s or "anyOf" in s or s.get("x-kubernetes-preserve-unknown-fields"):
        return "", ""
    t = s.get("type")
    if t == "object" and s.get("properties") is not None:
        return (_go_name(name) if name else "struct"), "struct"
    if t == "object":
        extra = s.get("additionalProperties")
        inner = _go_type(gv, extra)[0] if isinstance(extra, dict) else ""
        return f"map[string]{inner or 'interface {}'}", "map"
    if t == "array":
        inner = _go_type(gv, s["items"])[0] if isinstance(s.get("items"), dict) else ""
        return f"[]{inner or 'interface {}'}", "slice"
    if t == "string":
        return "string", "string"
    if t == "boolean":
        return "bool", "boolean"
    if t == "integer":
        return ("int64" if s.get("format") == "int64" else "int32"), "integer"
    if t == "number":
        return "float64", "number"
    return "", ""


def _fits(kind: str, value: Any) -> bool:
    if value is None or kind == "":
        return True
    if kind == "string":
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer":
        whole = isinstance(value, float) and value.is_integer()
        return (isinstance(value, int) and not isinstance(value, bool)) or whole
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind in ("struct", "map"):
        return isinstance(value, dict)
    return isinstance(value, list)  # slice


def _walk(gv: str, schema: Schema, value: Any, struct: str, field: str) -> Mismatch | None:
    go_type, kind = _go_type(gv, schema)
    if not _fits(kind, value):
        return Mismatch(value, go_type, kind, struct, field)
    name, s = _resolve(gv, schema)
    if kind == "struct" and isinstance(value, dict):
        props = s.get("properties") or {}
        here = _go_name(name).split(".")[-1] if name else struct
        for key, item in value.items():
            if key in props:
                found = _walk(gv, props[key], item, here, f"{field}.{key}" if field else key)
                if found is not None:
                    return found
    elif kind == "map" and isinstance(value, dict) and isinstance(s.get("additionalProperties"), dict):
        for item in value.values():
            found = _walk(gv, s["additionalProperties"], item, struct, field)
            if found is not None:
                return found
    elif kind == "slice" and isinstance(value, list) and isinstance(s.get("items"), dict):
        for item in value:
            found = _walk(gv, s["items"], item, struct, field)
            if found is not None:
                return found
    return None


def first_mismatch(obj: dict[str, Any]) -> Mismatch | None:
    root = _root(str(obj.get("apiVersion", "")), str(obj.get("kind", "")))
    if root is None:
        return None
    gv, name = root
    return _walk(gv, {"$ref": f"#/components/schemas/{name}"}, obj, "", "")
