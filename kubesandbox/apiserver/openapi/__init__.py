"""OpenAPI v3, as the real server publishes it: `/openapi/v3` (an index of group versions, each with a content
hash) and `/openapi/v3/<group version>` (its document). The documents are the v1.37.2 kube-apiserver's own,
copied byte for byte (tests/realk8s/differential/capture_openapi.py) for every group version the sandbox
serves; kubectl reads them to validate `create -f` / `apply -f` on the client side and for `kubectl explain`.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent
GROUP_VERSIONS = (
    "api/v1",
    "apis/apps/v1",
    "apis/authorization.k8s.io/v1",
    "apis/autoscaling/v2",
    "apis/batch/v1",
    "apis/coordination.k8s.io/v1",
    "apis/policy/v1",
    "apis/rbac.authorization.k8s.io/v1",
)


def file_for(group_version: str) -> str:
    return group_version.replace("/", "__") + ".json.gz"


@functools.cache
def document(group_version: str) -> bytes | None:
    """The document of `api/v1`, `apis/apps/v1`, ...; None for one the sandbox does not serve."""
    if group_version not in GROUP_VERSIONS:
        return None
    return gzip.decompress((DATA / file_for(group_version)).read_bytes())


@functools.cache
def digest(group_version: str) -> str:
    return hashlib.sha512(document(group_version) or b"").hexdigest().upper()


@functools.cache
def index() -> dict[str, dict[str, dict[str, str]]]:
    """`/openapi/v3`: where each document is, with the hash that lets clients cache it."""
    return {
        "paths": {gv: {"serverRelativeURL": f"/openapi/v3/{gv}?hash={digest(gv)}"} for gv in GROUP_VERSIONS}
    }


# -- decoding against the schemas: fields the Go types do not have ---------------------------------------------

Schema = dict[str, Any]


@functools.cache
def _schemas(group_version: str) -> dict[str, Schema]:
    doc = document(group_version)
    return json.loads(doc)["components"]["schemas"] if doc else {}


@functools.cache
def _root(api_version: str, kind: str) -> tuple[str, str] | None:
    """(document, schema name) of a kind, found by its x-kubernetes-group-version-kind."""
    group, _, version = api_version.rpartition("/")
    gv = f"apis/{api_version}" if group else f"api/{version}"
    for name, schema in _schemas(gv).items():
        for gvk in schema.get("x-kubernetes-group-version-kind") or []:
            if (gvk.get("group", ""), gvk.get("version"), gvk.get("kind")) == (group, version, kind):
                return gv, name
    return None


def _resolve(gv: str, schema: Schema) -> Schema:
    while True:
        ref = schema.get("$ref") or (schema.get("allOf") or [{}])[0].get("$ref")
        if not ref:
            return schema
        schema = _schemas(gv).get(ref.rsplit("/", 1)[-1], {})


def _walk(gv: str, schema: Schema, value: Any, path: str, found: list[str], prune: bool) -> None:
    schema = _resolve(gv, schema)
    if schema.get("x-kubernetes-preserve-unknown-fields"):
        return
    if isinstance(value, dict):
        props = schema.get("properties")
        extra = schema.get("additionalProperties")
        if props is not None:
            for key in list(value):
                sub = f"{path}.{key}" if path else key
                if key not in props:
                    found.append(sub)
                    if prune:
                        del value[key]
                else:
                    _walk(gv, props[key], value[key], sub, found, prune)
        elif isinstance(extra, dict):
            for key, item in value.items():
                _walk(gv, extra, item, f"{path}.{key}" if path else key, found, prune)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            _walk(gv, schema["items"], item, f"{path}[{i}]", found, prune)


def unknown_fields(obj: dict[str, Any], *, prune: bool = False) -> list[str]:
    """The paths of `obj`'s fields its kind's schema does not have (`spec.nope`,
    `spec.template.spec.containers[0].bogus`), as Go's strict decoder names them; with `prune`, dropped as the
    non-strict decoder drops them. An unknown kind has none."""
    root = _root(str(obj.get("apiVersion", "")), str(obj.get("kind", "")))
    if root is None:
        return []
    found: list[str] = []
    gv, name = root
    _walk(gv, _schemas(gv)[name], obj, "", found, prune)
    return found
