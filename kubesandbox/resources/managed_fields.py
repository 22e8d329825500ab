"""`metadata.managedFields`: who wrote what, as a real server attributes `Update` operations.

Each write is compared with the object before it: the writer (manager, operation, subresource) owns
the fields it set or changed; a field another manager owned and this write changed moves to the writer;
a field no longer in the object is owned by nobody; a manager left owning nothing loses its entry (so
a patch that only removes fields leaves no entry of its own, as on a real server).

Simplified from structured-merge-diff: lists of objects with a `name`, `type`, `uid`, `ip`,
`containerPort` or `port` are associative (items addressed as `k:{...}`), every other list is atomic;
every map has its `.` (owned by whoever created it), where a real server marks only some.
"""

from __future__ import annotations

import json
from typing import Any

from kubesandbox.resources.clock import rfc3339

Path = tuple[str, ...]

CONTROLLER_MANAGER = "kube-controller-manager"
APISERVER = "kube-apiserver"
KUBELET = "kubelet"

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
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
}
_LIST_KEYS: tuple[tuple[str, ...], ...] = (
    ("name",),
    ("type",),
    ("uid",),
    ("ip",),
    ("containerPort", "protocol"),
    ("port", "protocol"),
)


def _item_keys(items: list[Any]) -> tuple[str, ...] | None:
    if not items or not all(isinstance(x, dict) for x in items):
        return None
    for keys in _LIST_KEYS:
        if all(keys[0] in x for x in items):
            ids = [json.dumps({k: x.get(k) for k in keys if k in x}, sort_keys=True) for x in items]
            if len(set(ids)) == len(ids):
                return keys
    return None


def _leaves(value: Any, path: Path, out: dict[Path, Any]) -> None:
    if isinstance(value, dict) and value:
        out[(*path, ".")] = True  # the map itself: whoever created it keeps it while it exists
        for k, v in value.items():
            _leaves(v, (*path, f"f:{k}"), out)
        return
    if isinstance(value, list):
        keys = _item_keys(value)
        if keys is not None:
            for item in value:
                ident = json.dumps({k: item[k] for k in keys if k in item}, separators=(",", ":"))
                _leaves(item, (*path, f"k:{ident}"), out)
            return
    out[path] = value


def leaves(obj: Any) -> dict[Path, Any]:
    """Every field of the object a manager can own, with its value."""
    out: dict[Path, Any] = {}
    if not isinstance(obj, dict):
        return out
    for k, v in obj.items():
        if k in _SKIP_TOP or k.startswith("$"):
            continue
        if k == "metadata" and isinstance(v, dict):
            for mk, mv in v.items():
                if mk not in _SKIP_META:
                    _leaves(mv, ("f:metadata", f"f:{mk}"), out)
            continue
        _leaves(v, (f"f:{k}",), out)
    return out


def to_fields_v1(paths: set[Path]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for p in sorted(paths):
        node = tree
        for seg in p:
            node = node.setdefault(seg, {})
    return tree


def from_fields_v1(tree: Any, path: Path = ()) -> set[Path]:
    if not isinstance(tree, dict):
        return set()
    if not tree:
        return {path} if path else set()
    out: set[Path] = set()
    for k, v in tree.items():
        out |= from_fields_v1(v, (*path, k))
    return out


def _present(p: Path, fields: set[Path]) -> bool:
    """The field is still in the object (itself, or the map it names still has fields)."""
    return p in fields or any(f[: len(p)] == p for f in fields)


def update(
    obj: dict[str, Any],
    old: dict[str, Any] | None,
    manager: str,
    operation: str,
    subresource: str,
    api_version: str,
    now: Any,
) -> None:
    """Attribute the write that turned `old` (None: a create) into `obj`, in `obj`'s managedFields."""
    meta = obj.setdefault("metadata", {})
    new_fields = leaves(obj)
    old_fields = leaves(old) if old is not None else {}
    changed = {p for p, v in new_fields.items() if p not in old_fields or old_fields[p] != v}
    present = set(new_fields)
    me = (manager, operation, subresource)
    entries: list[dict[str, Any]] = []
    mine: set[Path] = set()
    mine_at: int | None = None
    for e in meta.get("managedFields") or []:
        if not isinstance(e, dict):
            continue
        owned = from_fields_v1(e.get("fieldsV1"))
        if (e.get("manager"), e.get("operation"), e.get("subresource", "")) == me:
            mine, mine_at = owned, len(entries)
            continue
        kept = {p for p in owned if p not in changed and _present(p, present)}
        if kept == owned:
            entries.append(e)
        elif kept:
            entries.append({**e, "fieldsV1": to_fields_v1(kept)})
    kept_mine = {p for p in mine if _present(p, present)}
    ours = kept_mine | changed
    if ours:
        entry: dict[str, Any] = {"manager": manager, "operation": operation, "apiVersion": api_version}
        if subresource != "scale":  # a real apiserver's ScaleHandler builds the parent's entry without a time
            entry["time"] = rfc3339(now)
        entry["fieldsType"] = "FieldsV1"
        entry["fieldsV1"] = to_fields_v1(ours)
        if subresource:
            entry["subresource"] = subresource
        entries.insert(len(entries) if mine_at is None else mine_at, entry)
    if entries:
        meta["managedFields"] = entries
    else:
        meta.pop("managedFields", None)


def manager_from(field_manager: str, user_agent: str) -> str:
    """The API server uses `fieldManager`, else the User-Agent up to its first '/'."""
    if field_manager:
        return field_manager
    return (user_agent or "unknown").split("/", 1)[0][:128]
