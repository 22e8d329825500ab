"""`metadata.managedFields`: who wrote what, so callers' `fieldManager` attribution is visible.

Simplified from server-side apply: each write upserts one entry per (manager, operation,
subresource) whose `fieldsV1` lists the map keys the request body set. Real servers track
list items too; the sandbox records the path down to the first list.
"""

from __future__ import annotations

from typing import Any

from kubesandbox.resources.clock import rfc3339

_SKIP_TOP = {"apiVersion", "kind"}
_SKIP_META = {
    "resourceVersion",
    "uid",
    "creationTimestamp",
    "generation",
    "managedFields",
    "name",
    "namespace",
    "selfLink",
}


def fields_of(body: Any, top: bool = True) -> dict[str, Any]:
    if not isinstance(body, dict):
        return {}
    out: dict[str, Any] = {}
    for k, v in body.items():
        if top and k in _SKIP_TOP:
            continue
        if k.startswith("$"):
            continue
        if top and k == "metadata" and isinstance(v, dict):
            inner = fields_of({kk: vv for kk, vv in v.items() if kk not in _SKIP_META}, top=False)
            if inner:
                out["f:metadata"] = inner
            continue
        out[f"f:{k}"] = fields_of(v, top=False) if isinstance(v, dict) else {}
    return out


def manager_from(field_manager: str, user_agent: str) -> str:
    """The API server uses `fieldManager`, else the User-Agent up to its first '/'."""
    if field_manager:
        return field_manager
    return (user_agent or "unknown").split("/", 1)[0][:128]


def record(
    obj: dict[str, Any], manager: str, operation: str, body: Any, subresource: str, api_version: str, now: Any
) -> None:
    meta = obj.setdefault("metadata", {})
    entries = [
        e
        for e in meta.get("managedFields") or []
        if not (
            e.get("manager") == manager
            and e.get("operation") == operation
            and e.get("subresource", "") == subresource
        )
    ]
    entry: dict[str, Any] = {
        "manager": manager,
        "operation": operation,
        "apiVersion": api_version,
        "time": rfc3339(now),
        "fieldsType": "FieldsV1",
        "fieldsV1": fields_of(body),
    }
    if subresource:
        entry["subresource"] = subresource
    entries.append(entry)
    meta["managedFields"] = entries
