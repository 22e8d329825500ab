"""JSON patch (RFC 6902) as evanphx/json-patch v4.12.0 applies it, which the apiserver still vendors.

The library's quirks are real behaviour clients can see, so they are kept: `replace` of a missing *object*
key adds it, `copy` from a missing object key copies `null`, negative array indices count from the end, a
path that does not start with `/` has its first segment ignored. Any failure while applying is answered
with a 422 whose message is the fixed "the server rejected our request due to an error in our request"
(the apiserver builds it with `NewGenericServerResponse(422, ...)`, which drops the library's text); the
library's own message is kept as the exception's `__cause__` for logs.
"""

from __future__ import annotations

import json
import re
from typing import Any, Final

from kubesandbox.apiserver.patching.failures import decode_or_bad_request, invalid_generic
from kubesandbox.apiserver.patching.gojson import cannot_unmarshal, json_kind
from kubesandbox.apiserver.patching.values import clone, same
from kubesandbox.resources.errors import ApiError, bad_request

MAX_JSON_PATCH_OPERATIONS: Final = 10000
# The apiserver's JSONPatchMaxCopyBytes (3 MiB): the JSON size `copy` operations may add in one patch.
MAX_JSON_PATCH_COPY_BYTES: Final = 3 * 1024 * 1024

_JSON_PATCH_OP_FIELDS: Final = ("op", "path", "from")


class _PatchFailed(Exception):
    """A patch that decoded but cannot be applied; carries the library's message for the logs."""


def _decode_json_patch(body: bytes) -> list[dict[str, Any] | None]:
    """Decode like the apiserver's strict pass into `[]jsonPatchOp` (the first type error wins)."""
    ops = decode_or_bad_request(body, "error decoding patch: ")
    if ops is None:
        return []
    if not isinstance(ops, list):
        raise bad_request(f"error decoding patch: {cannot_unmarshal(ops, '[]handlers.jsonPatchOp')}")
    for op in ops:
        if op is None:
            continue
        if not isinstance(op, dict):
            raise bad_request(f"error decoding patch: {cannot_unmarshal(op, 'handlers.jsonPatchOp')}")
        for name, value in op.items():
            if name in _JSON_PATCH_OP_FIELDS and value is not None and not isinstance(value, str):
                raise bad_request(
                    f"error decoding patch: json: cannot unmarshal {json_kind(value)} "
                    f"into Go struct field jsonPatchOp.{name} of type string"
                )
    return ops


def apply_json_patch(original: dict[str, Any], body: bytes) -> dict[str, Any]:
    ops = _decode_json_patch(body)
    if len(ops) > MAX_JSON_PATCH_OPERATIONS:
        raise ApiError(
            413,
            "RequestEntityTooLarge",
            "Request entity too large: The allowed maximum operations in a JSON patch is "
            f"{MAX_JSON_PATCH_OPERATIONS}, got {len(ops)}",
        )
    doc: Any = clone(original)
    copied = [0]  # bytes added by `copy` operations so far
    try:
        for op in ops:
            doc = _apply_operation(doc, op or {}, copied)
    except _PatchFailed as exc:
        raise invalid_generic() from exc
    if not isinstance(doc, dict):
        # Decoding an array back into the object fails; the apiserver answers 422 as well.
        raise invalid_generic() from _PatchFailed("the patched document is not an object")
    return doc


# ---------------------------------------------------------------------------------------------------------
# JSON pointers into the document (the library's `container` interface)


def _unescape(token: str) -> str:
    """RFC 6901 token decoding: `~1` is `/`, `~0` is `~`, scanned left to right."""
    return re.sub("~[01]", lambda m: "/" if m.group() == "~1" else "~", token)


def _array_index(key: str) -> int:
    """Go's strconv.Atoi: optional sign and ASCII digits, nothing else."""
    if not re.fullmatch(r"[+-]?[0-9]+", key):
        raise _PatchFailed(f'strconv.Atoi: parsing "{key}": invalid syntax')
    return int(key)


def _existing_index(items: list[Any], key: str) -> int:
    """The index `key` names in `items`, a negative one counted from the end (`get` and `set`)."""
    idx = _array_index(key)
    if idx < 0:
        if idx < -len(items):
            raise _PatchFailed(f"Unable to access invalid index: {idx}")
        idx += len(items)
    return idx


def _container_get(container: Any, key: str) -> Any:
    """`get`: a missing object key is not an error (it is nil); arrays need an index in range."""
    if isinstance(container, dict):
        return container.get(key)
    idx = _existing_index(container, key)
    if idx >= len(container):
        raise _PatchFailed(f"Unable to access invalid index: {idx}")
    return container[idx]


def _container_set(container: Any, key: str, value: Any) -> None:
    if isinstance(container, dict):
        container[key] = value
        return
    container[_existing_index(container, key)] = value


def _container_add(container: Any, key: str, value: Any) -> None:
    if isinstance(container, dict):
        container[key] = value
        return
    if key == "-":
        container.append(value)
        return
    idx = _array_index(key)
    size = len(container) + 1
    if idx >= size or idx < -size:
        raise _PatchFailed(f"Unable to access invalid index: {idx}")
    if idx < 0:
        idx += size
    container.insert(idx, value)


def _container_remove(container: Any, key: str) -> None:
    if isinstance(container, dict):
        if key not in container:
            raise _PatchFailed(f"Unable to remove nonexistent key: {key}: missing value")
        del container[key]
        return
    idx = _array_index(key)
    if idx >= len(container) or idx < -len(container):
        raise _PatchFailed(f"Unable to access invalid index: {idx}")
    del container[idx]


def _find_container(doc: Any, path: str) -> tuple[Any, str] | None:
    """evanphx `findObject`: the parent container of `path` and the last token, or None.

    Like the library, the first segment is skipped without looking at it (so `a/b` means `/b`), and a
    step into a missing key, a null or a scalar means the path is missing.
    """
    parts = path.split("/")
    if len(parts) < 2:
        return None
    node = doc
    for part in parts[1:-1]:
        try:
            node = _container_get(node, _unescape(part))
        except _PatchFailed:
            return None
        if not isinstance(node, dict | list):
            return None
    return node, _unescape(parts[-1])


def _located(doc: Any, path: str, missing: str) -> tuple[Any, str]:
    """`_find_container`, failing with the operation's own `missing` message when the path is missing."""
    found = _find_container(doc, path)
    if found is None:
        raise _PatchFailed(missing)
    return found


# ---------------------------------------------------------------------------------------------------------
# Operations


def _op_field(op: dict[str, Any], name: str, kind: str) -> str:
    value = op.get(name)
    if value is None:
        raise _PatchFailed(f"{kind} operation failed to decode {name}")
    return str(value)


def _apply_operation(doc: Any, op: dict[str, Any], copied: list[int]) -> Any:
    """One operation; returns the (possibly replaced) document. `copied` accumulates `copy` sizes."""
    kind = op.get("op")
    kind = kind if isinstance(kind, str) else "unknown"
    value = op.get("value")
    if kind == "add":
        path = _op_field(op, "path", kind)
        found = _located(doc, path, f'add operation does not apply: doc is missing path: "{path}"')
        _container_add(found[0], found[1], value)
    elif kind == "remove":
        path = _op_field(op, "path", kind)
        found = _located(doc, path, f'remove operation does not apply: doc is missing path: "{path}"')
        _container_remove(*found)
    elif kind == "replace":
        path = _op_field(op, "path", kind)
        if path == "":
            if not isinstance(value, dict | list):
                raise _PatchFailed("replace operation value must be object or array")
            return value
        found = _located(doc, path, f"replace operation does not apply: doc is missing path: {path}")
        try:
            _container_get(*found)
        except _PatchFailed as exc:
            raise _PatchFailed(f"replace operation does not apply: doc is missing key: {path}") from exc
        _container_set(found[0], found[1], value)
    elif kind == "move":
        source = _op_field(op, "from", kind)
        found = _located(doc, source, f"move operation does not apply: doc is missing from path: {source}")
        moved = _container_get(*found)
        _container_remove(*found)
        path = _op_field(op, "path", kind)
        target = _located(
            doc, path, f"move operation does not apply: doc is missing destination path: {path}"
        )
        _container_add(target[0], target[1], moved)
    elif kind == "copy":
        source = _op_field(op, "from", kind)
        found = _located(doc, source, f"copy operation does not apply: doc is missing from path: {source}")
        duplicate = clone(_container_get(*found))
        path = _op_field(op, "path", kind)
        target = _located(
            doc, path, f"copy operation does not apply: doc is missing destination path: {path}"
        )
        copied[0] += len(json.dumps(duplicate, separators=(",", ":"), ensure_ascii=False).encode())
        if copied[0] > MAX_JSON_PATCH_COPY_BYTES:
            raise _PatchFailed(
                "Unable to complete the copy, the accumulated size increase of copy is "
                f"{copied[0]}, exceeding the limit {MAX_JSON_PATCH_COPY_BYTES}"
            )
        _container_add(target[0], target[1], duplicate)
    elif kind == "test":
        _test_operation(doc, op)
    else:
        raise _PatchFailed(f"Unexpected kind: {kind}")
    return doc


def _test_operation(doc: Any, op: dict[str, Any]) -> None:
    path = _op_field(op, "path", "test")
    has_value = "value" in op
    expected = op.get("value")
    if path == "":
        actual = doc
    else:
        found = _located(doc, path, f"test operation does not apply: is missing path: {path}")
        actual = _container_get(*found)
    if actual is None and has_value and expected is None:
        return
    if has_value and _test_equal(actual, expected):
        return
    raise _PatchFailed(f"testing value {path} failed: test failed")


def _test_equal(actual: Any, expected: Any) -> bool:
    """evanphx's lazyNode.equal: structure compared deeply, scalars by their compact JSON text.

    The document's side is Go-encoded (`2.0` is written `2`) while the patch's side is the raw text
    (`2.0` stays `2.0`), so an integral float in the patch never matches.
    """
    if isinstance(actual, dict):
        return (
            isinstance(expected, dict)
            and actual.keys() == expected.keys()
            and all(_test_equal(actual[k], expected[k]) for k in actual)
        )
    if isinstance(actual, list):
        return (
            isinstance(expected, list)
            and len(actual) == len(expected)
            and all(_test_equal(a, e) for a, e in zip(actual, expected, strict=True))
        )
    if isinstance(actual, bool) or isinstance(expected, bool) or actual is None or expected is None:
        return actual is expected
    if isinstance(actual, str) or isinstance(expected, str):
        return same(actual, expected)
    if isinstance(expected, float) and expected.is_integer():
        return False
    return bool(actual == expected)
