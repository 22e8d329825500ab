"""Is a recorded write already in the cluster? (Recovering an intent whose outcome was never recorded.)

A patch is *reflected* in an object when applying it again would change nothing: every field a merge
or strategic merge patch sets already has that value (`null` = absent), every JSON-patch `replace`/`add`
already holds its value, `remove` finds nothing, `test` holds. Metadata the executor adds as
preconditions (uid, resourceVersion) is not part of the question. Pure: documents in, yes or no out.

The job's strategic merge patches are plain map merges (template annotations), so they are read as
merge patches; a list in a merge patch is compared whole, as RFC 7386 replaces lists.
"""

from __future__ import annotations

from typing import Any

_PRECONDITIONS = frozenset({"uid", "resourceVersion"})
_ABSENT = object()


def _merge_reflected(patch: Any, live: Any) -> bool:
    if not isinstance(patch, dict):
        return bool(patch == live)
    if not isinstance(live, dict):
        return False
    for key, value in patch.items():
        current = live.get(key, _ABSENT)
        if value is None:
            if current is not _ABSENT and current is not None:
                return False
        elif isinstance(value, dict):
            if not _merge_reflected(value, current if current is not _ABSENT else {}):
                return False
        elif current is _ABSENT or current != value:
            return False
    return True


def merge_patch_reflected(patch: dict[str, Any], live: dict[str, Any]) -> bool:
    meta = {k: v for k, v in (patch.get("metadata") or {}).items() if k not in _PRECONDITIONS}
    body = {**patch, "metadata": meta} if "metadata" in patch else patch
    return _merge_reflected(body, live)


def _pointer(doc: Any, path: str) -> Any:
    node = doc
    for raw in path.split("/")[1:]:
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict):
            if part not in node:
                return _ABSENT
            node = node[part]
        elif isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                return _ABSENT
            node = node[int(part)]
        else:
            return _ABSENT
    return node


def json_patch_reflected(ops: list[dict[str, Any]], live: dict[str, Any]) -> bool:
    for op in ops:
        path = str(op.get("path", ""))
        if path in ("/metadata/uid", "/metadata/resourceVersion"):
            continue
        current = _pointer(live, path)
        kind = op.get("op")
        if kind in ("replace", "add", "test") and (current is _ABSENT or current != op.get("value")):
            return False
        if kind == "remove" and current is not _ABSENT:
            return False
    return True


def reflected(content_type: str, body: Any, live: dict[str, Any]) -> bool:
    """Whether the write with this content type and decoded body is already in `live`."""
    if content_type == "application/json-patch+json":
        return isinstance(body, list) and json_patch_reflected(body, live)
    return isinstance(body, dict) and merge_patch_reflected(body, live)
