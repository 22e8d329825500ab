"""Strategic merge patch: k8s.io/apimachinery `strategicpatch.StrategicMergeMapPatch` with the server's
options (merge parallel lists, ignore unmatched nulls).

Per-field behaviour comes from the kind's `PATCH_STRATEGIES` table: merge lists merge by their merge key,
every other list is replaced. `$patch: merge` is rejected as upstream does (maps: "unknown patch type",
lists: "merging lists cannot yet be specified in the patch"). Where the Go code's result depends on slice
aliasing, that is emulated rather than "fixed" - the aim is the object the server would store.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubesandbox.apiserver.patching.directives import (
    DELETE_PREFIX,
    DIRECTIVE,
    ORDER_PREFIX,
    RETAIN_KEYS,
    as_stored,
    extract_key,
)
from kubesandbox.apiserver.patching.failures import (
    BAD_RETAIN_KEYS,
    SmpError,
    bad_arg_type,
    bad_patch_type,
    decode_or_bad_request,
    no_merge_key,
)
from kubesandbox.apiserver.patching.gojson import MAP, SLICE, cannot_unmarshal, go_type
from kubesandbox.apiserver.patching.lists import (
    find_by_key,
    normalize_element_order,
    partition,
    slice_element_type,
    validate_order,
)
from kubesandbox.apiserver.patching.strategies import NO_STRATEGY, PATCH_STRATEGIES, PatchStrategy
from kubesandbox.apiserver.patching.values import clone, hkey
from kubesandbox.resources.errors import bad_request


def apply_strategic_merge_patch(original: dict[str, Any], body: bytes, kind: str) -> dict[str, Any]:
    patch = decode_or_bad_request(body)
    if patch is None:
        return clone(original)
    if not isinstance(patch, dict):
        raise bad_request(cannot_unmarshal(patch, MAP))
    engine = _StrategicMerge(PATCH_STRATEGIES.get(kind, {}))
    try:
        return engine.merge_map(clone(original), patch, "")
    except SmpError as exc:
        raise exc.to_api_error() from exc


class _StrategicMerge:
    """One strategic merge, with the field table of the object's kind."""

    def __init__(self, table: Mapping[str, PatchStrategy]) -> None:
        self.table = table

    def lookup(self, path: str) -> PatchStrategy:
        return self.table.get(path, NO_STRATEGY)

    def merge_map(self, original: dict[str, Any], patch: dict[str, Any], path: str) -> dict[str, Any]:
        if DIRECTIVE in patch:
            directive = patch[DIRECTIVE]
            if directive == "replace":
                del patch[DIRECTIVE]
                replaced, _ = as_stored(patch)
                return dict(replaced)
            if directive == "delete":
                return {}
            raise bad_patch_type(directive, patch)
        self.apply_retain_keys(original, patch)
        self.apply_set_element_order(original, patch, path)
        for key in list(patch):
            self.merge_field(original, key, patch[key], path)
        return original

    def merge_field(self, original: dict[str, Any], key: str, patch_value: Any, path: str) -> None:
        is_delete_list = key.startswith(DELETE_PREFIX)
        if is_delete_list:
            key = extract_key(key, DELETE_PREFIX) or key
        if patch_value is None:
            original.pop(key, None)
            return
        if key not in original or go_type(original[key]) != go_type(patch_value):
            if not is_delete_list:
                value, keep = as_stored(patch_value)
                if keep:
                    original[key] = value
                else:
                    original.pop(key, None)
            return
        field_path = f"{path}.{key}" if path else key
        current = original[key]
        if isinstance(current, dict):
            if self.lookup(field_path).list_strategy == "replace":
                patch_value.pop(DIRECTIVE, None)  # the map is taken as it is; decoding drops the marker
                original[key], _ = as_stored(patch_value)
            else:
                original[key] = self.merge_map(current, patch_value, field_path)
        elif isinstance(current, list):
            strategy = self.lookup(field_path)
            merged, _ = self.merge_list_field(current, patch_value, field_path, strategy, is_delete_list)
            original[key] = merged
        else:
            original[key] = patch_value

    def merge_list_field(
        self,
        original: list[Any],
        patch: list[Any],
        field_path: str,
        strategy: PatchStrategy,
        is_delete_list: bool,
    ) -> tuple[list[Any], list[Any]]:
        """`mergeSliceHandler`: merge lists merge, delete lists delete, every other list is replaced.

        Returns (result, the live list as the caller's Go slice now shows it): see `merge_list`.
        """
        if strategy.list_strategy == "merge" or is_delete_list:
            return self.merge_list(original, patch, f"{field_path}[]", strategy.merge_key, is_delete_list)
        value, _ = as_stored(patch)
        return list(value), original

    def merge_list(
        self, original: list[Any], patch: list[Any], item_path: str, merge_key: str, is_delete_list: bool
    ) -> tuple[list[Any], list[Any]]:
        """`mergeSlice`; returns (merged list, the caller's view of the live list afterwards).

        Go deletes items by shifting the live slice's backing array in place and appends new items into
        it while capacity lasts (the server builds it with capacity == length). The caller keeps its own
        slice header on that array, and `$setElementOrder` uses it as the live order - so the upstream
        results depend on this aliasing, and it is emulated here rather than "fixed".
        """
        if not original and not patch:
            return original, original
        kind = slice_element_type(original, patch)
        if kind != MAP:
            if is_delete_list:
                doomed = {hkey(v) for v in patch}
                return [v for v in original if hkey(v) not in doomed], original
            merged: list[Any] = []
            seen: set[tuple[str, Any]] = set()
            for item in [*original, *patch]:
                if hkey(item) not in seen:
                    seen.add(hkey(item))
                    merged.append(item)
            in_patch, server_only = partition(merged, patch, merge_key)
            return normalize_element_order(in_patch, server_only, patch, original, merge_key, kind), original
        if not merge_key:
            raise SmpError("cannot merge lists without merge key for struct")
        backing = list(original)  # the array the caller's slice still points at
        length, plain, replace = self.apply_list_directives(backing, patch, merge_key)
        if replace:
            server_order = [as_stored(item)[0] for item in plain]
            merged, plain = list(server_order), []
        else:
            server_order = backing[:length]
            array = backing
            for item in plain:
                if merge_key not in item:
                    raise no_merge_key(item, merge_key)
                found = find_by_key(array[:length], merge_key, item[merge_key])
                if found is not None:
                    array[found] = self.merge_map(array[found], item, item_path)
                    continue
                value, _ = as_stored(item)
                if length < len(array):
                    array[length] = value  # append within capacity: the caller's array sees it
                else:
                    array = [*array[:length], value]  # append reallocates: the caller's array does not
                length += 1
            merged = array[:length]
        in_patch, server_only = partition(merged, plain, merge_key)
        return normalize_element_order(in_patch, server_only, plain, server_order, merge_key, kind), backing

    @staticmethod
    def apply_list_directives(
        backing: list[Any], patch: list[Any], merge_key: str
    ) -> tuple[int, list[Any], bool]:
        """`mergeSliceWithSpecialElements`: apply `$patch: delete` items to `backing` in place.

        Returns (live length after the deletions, the patch items without directives, whether a
        `$patch: replace` item asked for the list to be replaced by those items).
        """
        length = len(backing)
        plain: list[Any] = []
        replace = False
        for item in patch:
            if DIRECTIVE not in item:
                plain.append(item)
                continue
            directive = item[DIRECTIVE]
            if directive == "delete":
                if merge_key not in item:
                    raise no_merge_key(item, merge_key)
                while (found := find_by_key(backing[:length], merge_key, item[merge_key])) is not None:
                    backing[found : length - 1] = backing[
                        found + 1 : length
                    ]  # Go's append(s[:i], s[i+1:]...)
                    length -= 1
            elif directive == "replace":
                replace = True
            elif directive == "merge":
                raise SmpError("merging lists cannot yet be specified in the patch")
            else:
                raise bad_patch_type(directive, item)
        return length, plain, replace

    @staticmethod
    def apply_retain_keys(original: dict[str, Any], patch: dict[str, Any]) -> None:
        """`$retainKeys`: every other key of the live map is cleared; the patch may only set listed keys."""
        if RETAIN_KEYS not in patch:
            return
        retain = patch.pop(RETAIN_KEYS)
        if not isinstance(retain, list):
            raise SmpError(BAD_RETAIN_KEYS, 400)
        keys = {k for k in retain if isinstance(k, str)}
        for key, value in patch.items():
            if value is None or key.startswith((DELETE_PREFIX, ORDER_PREFIX)):
                continue
            if key not in keys:
                raise SmpError(BAD_RETAIN_KEYS, 400)
        for key in [k for k in original if k not in keys]:
            del original[key]

    def apply_set_element_order(self, original: dict[str, Any], patch: dict[str, Any], path: str) -> None:
        """`mergePatchIntoOriginal`: merge each list named by `$setElementOrder/<field>` and order it."""
        for directive_key in [k for k in patch if k.startswith(ORDER_PREFIX)]:
            if directive_key not in patch:
                continue
            order = patch.pop(directive_key)
            if not isinstance(order, list):
                raise bad_arg_type(SLICE, order)
            key = extract_key(directive_key, ORDER_PREFIX)
            found_original, found_patch = key in original, key in patch
            original_list: list[Any] = []
            patch_list: list[Any] = []
            if found_original:
                if not isinstance(original[key], list):
                    raise bad_arg_type(SLICE, original[key])
                original_list = original[key]
            if found_patch:
                if not isinstance(patch[key], list):
                    raise bad_arg_type(SLICE, patch[key])
                patch_list = patch[key]
            field_path = f"{path}.{key}" if path else key
            strategy = self.lookup(field_path)
            merge_key = strategy.merge_key
            validate_order(patch_list, order, merge_key)
            live = original_list
            if found_original and not found_patch:
                merged = original_list
            elif found_patch and not found_original:
                merged, _ = as_stored(patch_list)
            elif found_original and found_patch:
                merged, live = self.merge_list_field(original_list, patch_list, field_path, strategy, False)
            else:
                continue
            in_order, server_only = partition(merged, order, merge_key)
            kind = slice_element_type(live, patch_list)
            original[key] = normalize_element_order(in_order, server_only, order, live, merge_key, kind)
            patch.pop(key, None)
