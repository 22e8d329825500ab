"""The list machinery of strategic merge patch: element types, merge-key lookups and element order.

These are the helpers strategicpatch's `mergeSlice` and `$setElementOrder` handling rely on, including
`mergeSortedSlice`, which puts a new item *before* the first server-only item it cannot order against (so a
new env var lands first, not last). Their error texts reach clients, so they are kept word for word.
"""

from __future__ import annotations

from typing import Any

from kubesandbox.apiserver.patching.directives import DIRECTIVE, ORDER_PREFIX
from kubesandbox.apiserver.patching.failures import (
    NO_LIST_OF_LISTS,
    PANIC,
    SmpError,
    bad_arg_type,
    no_merge_key,
)
from kubesandbox.apiserver.patching.gojson import MAP, SLICE, go_fmt, go_type
from kubesandbox.apiserver.patching.gosort import go_stable_sort
from kubesandbox.apiserver.patching.values import hkey, same


def slice_element_type(*lists: list[Any]) -> str:
    """All items of all lists must share one Go type, and must not be lists."""
    found: str | None = None
    seen = False
    for items in lists:
        for item in items:
            current = go_type(item)
            if not seen:
                seen = True
                found = current
                if current is None:
                    raise SmpError(PANIC)  # reflect.TypeOf(nil).Kind() panics in the Go code
                if current == SLICE:
                    raise SmpError(NO_LIST_OF_LISTS, 422)
            elif current != found:
                raise SmpError(f"list element types are not identical: {go_fmt(list(lists))}")
    if found is None:
        raise SmpError("no elements in any of the given slices")
    return found


def find_by_key(items: list[Any], merge_key: str, value: Any) -> int | None:
    for idx, item in enumerate(items):
        if not isinstance(item, dict):
            raise SmpError(f"value for key {idx} is not a map")
        if same(item.get(merge_key), value):
            return idx
    return None


def _require_merge_key(item: Any, merge_key: str) -> None:
    """An item of a merged list of maps must be a map and carry the merge key."""
    if not isinstance(item, dict):
        raise bad_arg_type(MAP, item)
    if merge_key not in item:
        raise no_merge_key(item, merge_key)


def _merge_key_equal(left: Any, right: Any, merge_key: str) -> bool:
    if not merge_key:
        return same(left, right)
    _require_merge_key(left, merge_key)
    _require_merge_key(right, merge_key)
    return same(left[merge_key], right[merge_key])


def _split_deletes(items: list[Any]) -> tuple[list[Any], list[Any]]:
    """`extractToDeleteItems`: (kept, items carrying `$patch: delete`)."""
    kept: list[Any] = []
    deleted: list[Any] = []
    for item in items:
        if not isinstance(item, dict):
            raise bad_arg_type(MAP, item)
        (deleted if item.get(DIRECTIVE) == "delete" else kept).append(item)
    return kept, deleted


def _index(items: list[Any], value: Any, merge_key: str, kind: str) -> int:
    def identity(item: Any) -> Any:
        if kind != MAP:
            return item
        return item.get(merge_key) if isinstance(item, dict) else None

    wanted = identity(value)
    for idx, item in enumerate(items):
        if same(identity(item), wanted):
            return idx
    return -1


def _normalize_slice_order(items: list[Any], order: list[Any], merge_key: str, kind: str) -> list[Any]:
    to_sort, deleted = list(items), list[Any]()
    if kind == MAP:
        for item in [*items, *order]:
            _require_merge_key(item, merge_key)
        to_sort, deleted = _split_deletes(items)

    def less(i: int, j: int) -> bool:
        ii = _index(order, to_sort[i], merge_key, kind)
        if ii >= 0:
            ij = _index(order, to_sort[j], merge_key, kind)
            if ij >= 0:
                return ii < ij
        return True

    go_stable_sort(to_sort, less)
    return to_sort + deleted


def _merge_sorted(
    left: list[Any], right: list[Any], server_order: list[Any], merge_key: str, kind: str
) -> list[Any]:
    """`mergeSortedSlice`: interleave server-only items (left) with patch items (right).

    A left item goes first only when both items are found in the live list and it comes earlier there;
    otherwise the patch item goes first - which is why new items end up ahead of server-only ones.
    """
    out: list[Any] = []
    i = j = 0
    while i < len(left) or j < len(right):
        if i >= len(left):
            out.append(right[j])
            j += 1
        elif j >= len(right):
            out.append(left[i])
            i += 1
        else:
            li = _index(server_order, left[i], merge_key, kind)
            ri = _index(server_order, right[j], merge_key, kind)
            if li >= 0 and ri >= 0 and li < ri:
                out.append(left[i])
                i += 1
            else:
                out.append(right[j])
                j += 1
    return out


def normalize_element_order(
    patch_items: list[Any],
    server_only: list[Any],
    patch_order: list[Any],
    server_order: list[Any],
    merge_key: str,
    kind: str,
) -> list[Any]:
    patch_items = _normalize_slice_order(patch_items, patch_order, merge_key, kind)
    server_only = _normalize_slice_order(server_only, server_order, merge_key, kind)
    return _merge_sorted(server_only, patch_items, server_order, merge_key, kind)


def partition(merged: list[Any], by: list[Any], merge_key: str) -> tuple[list[Any], list[Any]]:
    """Split `merged` into (items present in `by`, server-only items), keeping their order."""
    in_patch: list[Any] = []
    server_only: list[Any] = []
    if not merge_key:
        wanted = {hkey(v) for v in by}
        for item in merged:
            (in_patch if hkey(item) in wanted else server_only).append(item)
        return in_patch, server_only
    for item in merged:
        _require_merge_key(item, merge_key)
        found = find_by_key(by, merge_key, item[merge_key])
        (server_only if found is None else in_patch).append(item)
    return in_patch, server_only


def validate_order(patch_list: list[Any], order: list[Any], merge_key: str) -> None:
    """`validatePatchWithSetOrderList`: patch items must appear in `$setElementOrder`, in that order."""
    if not order or not patch_list:
        return
    items = _split_deletes(patch_list)[0] if merge_key else patch_list
    pi = si = 0
    while pi < len(items) and si < len(order):
        if isinstance(items[pi], dict) and DIRECTIVE in items[pi]:
            pi += 1
            continue
        if _merge_key_equal(items[pi], order[si], merge_key):
            pi += 1
        si += 1
    if pi < len(items) and si >= len(order):
        raise SmpError(
            f"The order in patch list:\n{go_fmt(patch_list)}\n doesn't match {ORDER_PREFIX} "
            f"list:\n{go_fmt(order)}\n"
        )
