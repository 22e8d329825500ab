"""JSON merge patch (RFC 7386) as evanphx/json-patch v4 `MergePatch` applies it.

`null` deletes, objects merge, anything else replaces, and nulls are pruned from values that are set
wholesale (also inside arrays of objects) - except where the library forgets to, which is kept.
"""

from __future__ import annotations

from typing import Any

from kubesandbox.apiserver.patching.failures import decode_or_bad_request
from kubesandbox.apiserver.patching.gojson import MAP, cannot_unmarshal
from kubesandbox.apiserver.patching.values import clone, prune_nulls
from kubesandbox.resources.errors import bad_request


def apply_merge_patch(original: dict[str, Any], body: bytes) -> dict[str, Any]:
    patch = decode_or_bad_request(body, "error decoding patch: ")
    if patch is None:
        raise bad_request("Invalid JSON Patch")
    if not isinstance(patch, dict):
        raise bad_request(f"error decoding patch: {cannot_unmarshal(patch, MAP)}")
    doc = clone(original)
    _merge_objects(doc, patch)
    return doc


def _merge_objects(doc: dict[str, Any], patch: dict[str, Any]) -> None:
    for key, value in patch.items():
        if value is None:
            doc.pop(key, None)
            continue
        current = doc.get(key)
        if current is None:
            prune_nulls(value)
            doc[key] = value
        else:
            doc[key] = _merge_value(current, value)


def _merge_value(current: Any, patch: Any) -> Any:
    if not isinstance(current, dict):
        prune_nulls(patch)
        return patch
    if not isinstance(patch, dict):
        return patch  # the library returns it unpruned here
    _merge_objects(current, patch)
    return current
