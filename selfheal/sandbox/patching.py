"""The PATCH engine: applies a PATCH body to an object the way a 1.32 kube-apiserver does.

Pure: no store, no HTTP. The HTTP layer calls `apply_patch` with the current object and gets a new one
back (or an `ApiError` to answer with); it validates the result itself (name, namespace, uid, schema).

Why each semantic is what it is (read from the Go sources, not from the RFCs, where they differ):

* JSON patch (RFC 6902) is evanphx/json-patch v4.12.0, which the apiserver still vendors. Its quirks are
  real behaviour clients can see, so they are kept: `replace` of a missing *object* key adds it, `copy` from
  a missing object key copies `null`, negative array indices count from the end, a path that does not start
  with `/` has its first segment ignored. Any failure while applying is answered with a 422 whose message
  is the fixed "the server rejected our request due to an error in our request" (the apiserver builds it
  with `NewGenericServerResponse(422, ...)`, which drops the library's text); the library's own message is
  kept as the exception's `__cause__` for logs.
* JSON merge patch (RFC 7386) is the same library's `MergePatch`: `null` deletes, objects merge, anything
  else replaces, and nulls are pruned from values that are set wholesale (also inside arrays of objects).
* Strategic merge patch is k8s.io/apimachinery `strategicpatch.StrategicMergeMapPatch` with the server's
  options (merge parallel lists, ignore unmatched nulls). Notably: a new item in a merged list is placed by
  `mergeSortedSlice`, which puts it *before* the first server-only item it cannot order against (so a new
  env var lands first, not last), and `$patch: merge` is rejected (maps: "unknown patch type", lists:
  "merging lists cannot yet be specified in the patch"). The per-field strategies come from
  `PATCH_STRATEGIES`, a table keyed by field path that is built from the `patchStrategy`/`patchMergeKey`
  tags of the k8s.io/api types (v0.32).

Where the Go code would decode into the typed object afterwards (dropping `null`s and unknown `$`-keys that
patch values carried in), the values inserted wholesale are cleaned the same way, so the result is what the
server would store. Bodies that are not JSON get Go's `encoding/json` syntax error text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from selfheal.sandbox.errors import ApiError, bad_request, unsupported_media_type

JSON_PATCH: Final = "application/json-patch+json"
MERGE_PATCH: Final = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH: Final = "application/strategic-merge-patch+json"

MAX_JSON_PATCH_OPERATIONS: Final = 10000
# The apiserver's JSONPatchMaxCopyBytes (3 MiB): the JSON size `copy` operations may add in one patch.
MAX_JSON_PATCH_COPY_BYTES: Final = 3 * 1024 * 1024
_REJECTED: Final = "the server rejected our request due to an error in our request"
_PANIC: Final = "This request caused apiserver to panic. Look in the logs for details."


def apply_patch(original: dict[str, Any], patch_body: bytes, content_type: str, kind: str) -> dict[str, Any]:
    """Return `original` with the PATCH body applied; `original` itself is left untouched.

    `content_type` may carry parameters (`; charset=utf-8`): like the apiserver, only the part before the
    first `;` selects the patch type. `kind` selects the strategic-merge field table (unknown kinds have no
    merge lists, so every list is replaced).
    """
    media_type = content_type.split(";", 1)[0].strip()
    if media_type == JSON_PATCH:
        return _apply_json_patch(original, patch_body)
    if media_type == MERGE_PATCH:
        return _apply_merge_patch(original, patch_body)
    if media_type == STRATEGIC_MERGE_PATCH:
        return _apply_strategic_merge_patch(original, patch_body, kind)
    raise unsupported_media_type(content_type)


# ---------------------------------------------------------------------------------------------------------
# Errors as the apiserver shapes them


def _invalid_generic() -> ApiError:
    """`NewGenericServerResponse(422, ...)`: reason Invalid and a fixed message, whatever went wrong."""
    return ApiError(422, "Invalid", _REJECTED)


def _internal(message: str) -> ApiError:
    """A plain Go error reaching the handler: 500 with an empty (Unknown) reason and the error text."""
    return ApiError(500, "", message)


class _PatchFailed(Exception):
    """A patch that decoded but cannot be applied; carries the library's message for the logs."""


class _SmpError(Exception):
    """A strategicpatch error, mapped to a status the way `interpretStrategicMergePatchError` does."""

    def __init__(self, message: str, code: int = 500) -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    def to_api_error(self) -> ApiError:
        if self.code == 400:
            return bad_request(self.message)
        if self.code == 422:
            return _invalid_generic()
        if self.message == _PANIC:
            return ApiError(500, "InternalError", _PANIC)
        return _internal(self.message)


# mergepatch sentinel errors that `interpretStrategicMergePatchError` turns into 400 or 422.
_BAD_PRIMITIVE_LIST: Final = "invalid patch format of primitive list"
_BAD_RETAIN_KEYS: Final = "invalid patch format of retainKeys"
_BAD_SET_ORDER: Final = "invalid patch format of setElementOrder list"
_NO_LIST_OF_LISTS: Final = "lists of lists are not supported"


# ---------------------------------------------------------------------------------------------------------
# Decoding bodies, with Go's encoding/json messages


class _GoJsonError(Exception):
    """A decode error worded like Go's encoding/json (`invalid character ...`, `cannot unmarshal ...`)."""


def _decode(body: bytes) -> Any:
    """Parse JSON the way Go does: syntax is checked first (Go's wording), then Python parses it."""
    syntax_error = _go_syntax_error(body)
    if syntax_error is not None:
        raise _GoJsonError(syntax_error)

    def parse_float(text: str) -> float:
        value = float(text)
        if value in (float("inf"), float("-inf")):
            raise _GoJsonError(f"json: cannot unmarshal number {text} into Go value of type float64")
        return value

    try:
        return json.loads(body.decode("utf-8", errors="replace"), parse_float=parse_float)
    except RecursionError as exc:  # Go allows 10000 levels; Python's parser gives up earlier
        raise _GoJsonError("exceeded max depth") from exc
    except ValueError as exc:  # not reached once Go's scanner accepted the body; kept as a guard
        raise _GoJsonError(str(exc)) from exc


def _json_kind(value: Any) -> str:
    """The word Go's UnmarshalTypeError uses for a JSON value."""
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "bool"
    return "number"


def _cannot_unmarshal(value: Any, go_type: str) -> str:
    return f"json: cannot unmarshal {_json_kind(value)} into Go value of type {go_type}"


_SPACE: Final = frozenset(b" \t\r\n")
_DIGITS: Final = frozenset(b"0123456789")
_HEX: Final = frozenset(b"0123456789abcdefABCDEF")
_ESCAPES: Final = frozenset(b'bfnrt\\/"')
_OBJECT_KEY, _OBJECT_VALUE, _ARRAY_VALUE = range(3)
_MAX_DEPTH: Final = 10000


def _quote_char(c: int) -> str:
    """Go's `quoteChar`: how a byte is shown in `invalid character ...`."""
    if c == 0x27:
        return "'\\''"
    if c == 0x22:
        return "'\"'"
    named = {7: "\\a", 8: "\\b", 9: "\\t", 10: "\\n", 11: "\\v", 12: "\\f", 13: "\\r", 0x5C: "\\\\"}
    if c in named:
        return f"'{named[c]}'"
    ch = chr(c)
    if ch.isprintable():
        return f"'{ch}'"
    return f"'\\x{c:02x}'" if c < 0x20 or c == 0x7F else f"'\\u{c:04x}'"


class _GoScanner:
    """A port of the state machine in Go's encoding/json scanner, used only for its error messages."""

    def __init__(self) -> None:
        self.stack: list[int] = []
        self.err: str | None = None
        self.end_top = False
        self.step: Callable[[int], None] = self.begin_value

    def fail(self, c: int, context: str) -> None:
        self.err = f"invalid character {_quote_char(c)} {context}"

    def push(self, state: int) -> None:
        self.stack.append(state)
        if len(self.stack) > _MAX_DEPTH:
            self.err = "exceeded max depth"

    def pop(self) -> None:
        self.stack.pop()
        if self.stack:
            self.step = self.end_value
        else:
            self.step = self.end_top_state
            self.end_top = True

    def begin_value_or_empty(self, c: int) -> None:
        if c in _SPACE:
            return
        if c == ord("]"):
            self.end_value(c)
            return
        self.begin_value(c)

    def begin_value(self, c: int) -> None:
        if c in _SPACE:
            return
        if c == ord("{"):
            self.step = self.begin_string_or_empty
            self.push(_OBJECT_KEY)
        elif c == ord("["):
            self.step = self.begin_value_or_empty
            self.push(_ARRAY_VALUE)
        elif c == ord('"'):
            self.step = self.in_string
        elif c == ord("-"):
            self.step = self.neg
        elif c == ord("0"):
            self.step = self.zero
        elif c in _DIGITS:
            self.step = self.one
        elif c in b"tfn":
            word = {ord("t"): "true", ord("f"): "false", ord("n"): "null"}[c]
            self.step = self.literal(word, 1)
        else:
            self.fail(c, "looking for beginning of value")

    def begin_string_or_empty(self, c: int) -> None:
        if c in _SPACE:
            return
        if c == ord("}"):
            self.stack[-1] = _OBJECT_VALUE
            self.end_value(c)
            return
        self.begin_string(c)

    def begin_string(self, c: int) -> None:
        if c in _SPACE:
            return
        if c == ord('"'):
            self.step = self.in_string
            return
        self.fail(c, "looking for beginning of object key string")

    def end_value(self, c: int) -> None:
        if not self.stack:
            self.step = self.end_top_state
            self.end_top = True
            self.end_top_state(c)
            return
        if c in _SPACE:
            self.step = self.end_value
            return
        top = self.stack[-1]
        if top == _OBJECT_KEY:
            if c == ord(":"):
                self.stack[-1] = _OBJECT_VALUE
                self.step = self.begin_value
                return
            self.fail(c, "after object key")
        elif top == _OBJECT_VALUE:
            if c == ord(","):
                self.stack[-1] = _OBJECT_KEY
                self.step = self.begin_string
                return
            if c == ord("}"):
                self.pop()
                return
            self.fail(c, "after object key:value pair")
        else:
            if c == ord(","):
                self.step = self.begin_value
                return
            if c == ord("]"):
                self.pop()
                return
            self.fail(c, "after array element")

    def end_top_state(self, c: int) -> None:
        if c not in _SPACE:
            self.fail(c, "after top-level value")

    def in_string(self, c: int) -> None:
        if c == ord('"'):
            self.step = self.end_value
        elif c == ord("\\"):
            self.step = self.in_string_escape
        elif c < 0x20:
            self.fail(c, "in string literal")

    def in_string_escape(self, c: int) -> None:
        if c in _ESCAPES:
            self.step = self.in_string
        elif c == ord("u"):
            self.step = self.in_unicode_escape(4)
        else:
            self.fail(c, "in string escape code")

    def in_unicode_escape(self, left: int) -> Callable[[int], None]:
        def step(c: int) -> None:
            if c not in _HEX:
                self.fail(c, "in \\u hexadecimal character escape")
            else:
                self.step = self.in_string if left == 1 else self.in_unicode_escape(left - 1)
        return step

    def neg(self, c: int) -> None:
        if c == ord("0"):
            self.step = self.zero
        elif c in _DIGITS:
            self.step = self.one
        else:
            self.fail(c, "in numeric literal")

    def one(self, c: int) -> None:
        if c in _DIGITS:
            return
        self.zero(c)

    def zero(self, c: int) -> None:
        if c == ord("."):
            self.step = self.dot
        elif c in b"eE":
            self.step = self.exp
        else:
            self.end_value(c)

    def dot(self, c: int) -> None:
        if c in _DIGITS:
            self.step = self.dot_digits
        else:
            self.fail(c, "after decimal point in numeric literal")

    def dot_digits(self, c: int) -> None:
        if c in _DIGITS:
            return
        if c in b"eE":
            self.step = self.exp
        else:
            self.end_value(c)

    def exp(self, c: int) -> None:
        if c in b"+-":
            self.step = self.exp_sign
            return
        self.exp_sign(c)

    def exp_sign(self, c: int) -> None:
        if c in _DIGITS:
            self.step = self.exp_digits
        else:
            self.fail(c, "in exponent of numeric literal")

    def exp_digits(self, c: int) -> None:
        if c not in _DIGITS:
            self.end_value(c)

    def literal(self, word: str, at: int) -> Callable[[int], None]:
        def step(c: int) -> None:
            if c != ord(word[at]):
                self.fail(c, f"in literal {word} (expecting {_quote_char(ord(word[at]))})")
            else:
                self.step = self.end_value if at + 1 == len(word) else self.literal(word, at + 1)
        return step


def _go_syntax_error(body: bytes) -> str | None:
    """What Go's `checkValid` says about `body`, or None when it is valid JSON."""
    scanner = _GoScanner()
    for c in body:
        scanner.step(c)
        if scanner.err is not None:
            return scanner.err
    if scanner.end_top:
        return None
    scanner.step(ord(" "))
    if scanner.end_top:
        return None
    return scanner.err or "unexpected end of JSON input"


# ---------------------------------------------------------------------------------------------------------
# Small JSON helpers


def _clone(value: Any) -> Any:
    """Deep copy of a JSON value (faster and stricter than copy.deepcopy)."""
    if isinstance(value, dict):
        return {k: _clone(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clone(v) for v in value]
    return value


def _same(a: Any, b: Any) -> bool:
    """Go interface equality on decoded JSON: the dynamic types must match (bool is not 1, 1 is not 1.0)."""
    return type(a) is type(b) and a == b


def _hkey(value: Any) -> tuple[str, Any]:
    """A hashable stand-in for a JSON value that keeps Go's type distinctions."""
    if isinstance(value, dict | list):
        return ("json", json.dumps(value, sort_keys=True))
    return (type(value).__name__, value)


# ---------------------------------------------------------------------------------------------------------
# JSON patch (RFC 6902, as evanphx/json-patch v4 implements it)


_JSON_PATCH_OP_FIELDS: Final = ("op", "path", "from")


def _decode_json_patch(body: bytes) -> list[dict[str, Any] | None]:
    """Decode like the apiserver's strict pass into `[]jsonPatchOp` (the first type error wins)."""
    try:
        ops = _decode(body)
    except _GoJsonError as exc:
        raise bad_request(f"error decoding patch: {exc}") from exc
    if ops is None:
        return []
    if not isinstance(ops, list):
        raise bad_request(f"error decoding patch: {_cannot_unmarshal(ops, '[]handlers.jsonPatchOp')}")
    for op in ops:
        if op is None:
            continue
        if not isinstance(op, dict):
            raise bad_request(f"error decoding patch: {_cannot_unmarshal(op, 'handlers.jsonPatchOp')}")
        for name, value in op.items():
            if name in _JSON_PATCH_OP_FIELDS and value is not None and not isinstance(value, str):
                raise bad_request(f"error decoding patch: json: cannot unmarshal {_json_kind(value)} "
                                  f"into Go struct field jsonPatchOp.{name} of type string")
    return ops


def _apply_json_patch(original: dict[str, Any], body: bytes) -> dict[str, Any]:
    ops = _decode_json_patch(body)
    if len(ops) > MAX_JSON_PATCH_OPERATIONS:
        raise ApiError(413, "RequestEntityTooLarge",
                       "Request entity too large: The allowed maximum operations in a JSON patch is "
                       f"{MAX_JSON_PATCH_OPERATIONS}, got {len(ops)}")
    doc: Any = _clone(original)
    copied = [0]  # bytes added by `copy` operations so far
    try:
        for op in ops:
            doc = _apply_operation(doc, op or {}, copied)
    except _PatchFailed as exc:
        raise _invalid_generic() from exc
    if not isinstance(doc, dict):
        # Decoding an array back into the object fails; the apiserver answers 422 as well.
        raise _invalid_generic() from _PatchFailed("the patched document is not an object")
    return doc


_MISSING: Final = object()


def _unescape(token: str) -> str:
    """RFC 6901 token decoding: `~1` is `/`, `~0` is `~`, scanned left to right."""
    return re.sub("~[01]", lambda m: "/" if m.group() == "~1" else "~", token)


def _array_index(key: str) -> int:
    """Go's strconv.Atoi: optional sign and ASCII digits, nothing else."""
    if not re.fullmatch(r"[+-]?[0-9]+", key):
        raise _PatchFailed(f'strconv.Atoi: parsing "{key}": invalid syntax')
    return int(key)


def _container_get(container: Any, key: str) -> Any:
    """`get`: a missing object key is not an error (it is nil); arrays need an index in range."""
    if isinstance(container, dict):
        return container.get(key)
    idx = _array_index(key)
    if idx < 0:
        if idx < -len(container):
            raise _PatchFailed(f"Unable to access invalid index: {idx}")
        idx += len(container)
    if idx >= len(container):
        raise _PatchFailed(f"Unable to access invalid index: {idx}")
    return container[idx]


def _container_set(container: Any, key: str, value: Any) -> None:
    if isinstance(container, dict):
        container[key] = value
        return
    idx = _array_index(key)
    if idx < 0:
        if idx < -len(container):
            raise _PatchFailed(f"Unable to access invalid index: {idx}")
        idx += len(container)
    container[idx] = value


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
        found = _find_container(doc, path)
        if found is None:
            raise _PatchFailed(f'add operation does not apply: doc is missing path: "{path}"')
        _container_add(found[0], found[1], value)
    elif kind == "remove":
        path = _op_field(op, "path", kind)
        found = _find_container(doc, path)
        if found is None:
            raise _PatchFailed(f'remove operation does not apply: doc is missing path: "{path}"')
        _container_remove(*found)
    elif kind == "replace":
        path = _op_field(op, "path", kind)
        if path == "":
            if not isinstance(value, dict | list):
                raise _PatchFailed("replace operation value must be object or array")
            return value
        found = _find_container(doc, path)
        if found is None:
            raise _PatchFailed(f"replace operation does not apply: doc is missing path: {path}")
        try:
            _container_get(*found)
        except _PatchFailed as exc:
            raise _PatchFailed(f"replace operation does not apply: doc is missing key: {path}") from exc
        _container_set(found[0], found[1], value)
    elif kind == "move":
        source = _op_field(op, "from", kind)
        found = _find_container(doc, source)
        if found is None:
            raise _PatchFailed(f"move operation does not apply: doc is missing from path: {source}")
        moved = _container_get(*found)
        _container_remove(*found)
        path = _op_field(op, "path", kind)
        target = _find_container(doc, path)
        if target is None:
            raise _PatchFailed(f"move operation does not apply: doc is missing destination path: {path}")
        _container_add(target[0], target[1], moved)
    elif kind == "copy":
        source = _op_field(op, "from", kind)
        found = _find_container(doc, source)
        if found is None:
            raise _PatchFailed(f"copy operation does not apply: doc is missing from path: {source}")
        duplicate = _clone(_container_get(*found))
        path = _op_field(op, "path", kind)
        target = _find_container(doc, path)
        if target is None:
            raise _PatchFailed(f"copy operation does not apply: doc is missing destination path: {path}")
        copied[0] += len(json.dumps(duplicate, separators=(",", ":"), ensure_ascii=False).encode())
        if copied[0] > MAX_JSON_PATCH_COPY_BYTES:
            raise _PatchFailed("Unable to complete the copy, the accumulated size increase of copy is "
                               f"{copied[0]}, exceeding the limit {MAX_JSON_PATCH_COPY_BYTES}")
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
        found = _find_container(doc, path)
        if found is None:
            raise _PatchFailed(f"test operation does not apply: is missing path: {path}")
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
        return (isinstance(expected, dict) and actual.keys() == expected.keys()
                and all(_test_equal(actual[k], expected[k]) for k in actual))
    if isinstance(actual, list):
        return (isinstance(expected, list) and len(actual) == len(expected)
                and all(_test_equal(a, e) for a, e in zip(actual, expected, strict=True)))
    if isinstance(actual, bool) or isinstance(expected, bool) or actual is None or expected is None:
        return actual is expected
    if isinstance(actual, str) or isinstance(expected, str):
        return _same(actual, expected)
    if isinstance(expected, float) and expected.is_integer():
        return False
    return bool(actual == expected)


# ---------------------------------------------------------------------------------------------------------
# JSON merge patch (RFC 7386, as evanphx/json-patch v4 MergePatch implements it)


def _apply_merge_patch(original: dict[str, Any], body: bytes) -> dict[str, Any]:
    try:
        patch = _decode(body)
    except _GoJsonError as exc:
        raise bad_request(f"error decoding patch: {exc}") from exc
    if patch is None:
        raise bad_request("Invalid JSON Patch")
    if not isinstance(patch, dict):
        raise bad_request(f"error decoding patch: {_cannot_unmarshal(patch, 'map[string]interface {}')}")
    doc = _clone(original)
    _merge_objects(doc, patch)
    return doc


def _merge_objects(doc: dict[str, Any], patch: dict[str, Any]) -> None:
    for key, value in patch.items():
        if value is None:
            doc.pop(key, None)
            continue
        current = doc.get(key)
        if current is None:
            _prune_nulls(value)
            doc[key] = value
        else:
            doc[key] = _merge_value(current, value)


def _merge_value(current: Any, patch: Any) -> Any:
    if not isinstance(current, dict):
        _prune_nulls(patch)
        return patch
    if not isinstance(patch, dict):
        return patch  # the library returns it unpruned here
    _merge_objects(current, patch)
    return current


def _prune_nulls(value: Any) -> None:
    """Drop null members of objects, recursively, also inside arrays (null array items stay)."""
    if isinstance(value, dict):
        for key in [k for k, v in value.items() if v is None]:
            del value[key]
        for item in value.values():
            _prune_nulls(item)
    elif isinstance(value, list):
        for item in value:
            _prune_nulls(item)


# ---------------------------------------------------------------------------------------------------------
# Strategic merge patch: the field table


@dataclass(frozen=True)
class PatchStrategy:
    """The `patchStrategy` / `patchMergeKey` struct tags of one field, as written in k8s.io/api."""

    strategy: str = ""  # "merge", "replace", "retainKeys", "merge,retainKeys" or ""
    merge_key: str = ""

    @property
    def list_strategy(self) -> str:
        """The strategy with `retainKeys` taken out (the server only acts on `$retainKeys` in patches)."""
        parts = [p for p in self.strategy.split(",") if p and p != "retainKeys"]
        return parts[0] if parts else ""


_NONE: Final = PatchStrategy()


def _merge(key: str = "", retain_keys: bool = False) -> PatchStrategy:
    return PatchStrategy("merge,retainKeys" if retain_keys else "merge", key)


def _under(prefix: str, table: Mapping[str, PatchStrategy]) -> dict[str, PatchStrategy]:
    """Re-root a table: the same struct's fields nested at `prefix`."""
    return {f"{prefix}.{path}": strategy for path, strategy in table.items()}


def _for_each(prefixes: Iterable[str], table: Mapping[str, PatchStrategy]) -> dict[str, PatchStrategy]:
    out: dict[str, PatchStrategy] = {}
    for prefix in prefixes:
        out.update(_under(prefix, table))
    return out


# Paths are field names joined by "."; "[]" steps into the items of a merged list.
OBJECT_META: Final[Mapping[str, PatchStrategy]] = {  # metav1.ObjectMeta
    "ownerReferences": _merge("uid"),
    "finalizers": _merge(),
}

CONTAINER: Final[Mapping[str, PatchStrategy]] = {  # core/v1 Container and EphemeralContainerCommon
    "ports": _merge("containerPort"),
    "env": _merge("name"),
    "volumeMounts": _merge("mountPath"),
    "volumeDevices": _merge("devicePath"),
}

POD_SPEC: Final[Mapping[str, PatchStrategy]] = {  # core/v1 PodSpec
    "volumes": _merge("name", retain_keys=True),
    "initContainers": _merge("name"),
    "containers": _merge("name"),
    "ephemeralContainers": _merge("name"),
    "imagePullSecrets": _merge("name"),
    "hostAliases": _merge("ip"),
    "topologySpreadConstraints": _merge("topologyKey"),
    "schedulingGates": _merge("name"),
    "resourceClaims": _merge("name", retain_keys=True),
    **_for_each(("initContainers[]", "containers[]", "ephemeralContainers[]"), CONTAINER),
}

CONTAINER_STATUS: Final[Mapping[str, PatchStrategy]] = {  # core/v1 ContainerStatus
    "volumeMounts": _merge("mountPath"),
    "allocatedResourcesStatus": _merge("name"),
}

POD_STATUS: Final[Mapping[str, PatchStrategy]] = {  # core/v1 PodStatus
    "conditions": _merge("type"),
    "hostIPs": _merge("ip"),
    "podIPs": _merge("ip"),
    "resourceClaimStatuses": _merge("name", retain_keys=True),
    **_for_each(("initContainerStatuses[]", "containerStatuses[]", "ephemeralContainerStatuses[]"),
                CONTAINER_STATUS),
}

POD_TEMPLATE_SPEC: Final[Mapping[str, PatchStrategy]] = {
    **_under("metadata", OBJECT_META),
    **_under("spec", POD_SPEC),
}

CONDITIONS: Final[Mapping[str, PatchStrategy]] = {"conditions": _merge("type")}


def _kind_table(*parts: Mapping[str, PatchStrategy]) -> dict[str, PatchStrategy]:
    table: dict[str, PatchStrategy] = dict(_under("metadata", OBJECT_META))
    for part in parts:
        table.update(part)
    return table


PATCH_STRATEGIES: Final[Mapping[str, Mapping[str, PatchStrategy]]] = {
    "Pod": _kind_table(_under("spec", POD_SPEC), _under("status", POD_STATUS)),
    "Deployment": _kind_table(_under("spec.template", POD_TEMPLATE_SPEC),
                              {"spec.strategy": PatchStrategy("retainKeys")}, _under("status", CONDITIONS)),
    "ReplicaSet": _kind_table(_under("spec.template", POD_TEMPLATE_SPEC), _under("status", CONDITIONS)),
    "Job": _kind_table(_under("spec.template", POD_TEMPLATE_SPEC), _under("status", CONDITIONS)),
    "CronJob": _kind_table(_under("spec.jobTemplate.metadata", OBJECT_META),
                           _under("spec.jobTemplate.spec.template", POD_TEMPLATE_SPEC)),
    "HorizontalPodAutoscaler": _kind_table(_under("status", CONDITIONS)),
    "PodDisruptionBudget": _kind_table({"spec.selector": PatchStrategy("replace")},
                                       _under("status", CONDITIONS)),
    "Service": _kind_table({"spec.ports": _merge("port")}, _under("status", CONDITIONS)),
    "Namespace": _kind_table(_under("status", CONDITIONS)),
    "ServiceAccount": _kind_table({"secrets": _merge("name")}),
    "ConfigMap": _kind_table(),
    "Secret": _kind_table(),
    "Event": _kind_table(),
    "Lease": _kind_table(),
    "Role": _kind_table(),
    "RoleBinding": _kind_table(),
}


# ---------------------------------------------------------------------------------------------------------
# Strategic merge patch: the algorithm (k8s.io/apimachinery/pkg/util/strategicpatch, server-side options)

_DIRECTIVE: Final = "$patch"
_RETAIN_KEYS: Final = "$retainKeys"
_DELETE_PREFIX: Final = "$deleteFromPrimitiveList"
_ORDER_PREFIX: Final = "$setElementOrder"

_MAP, _SLICE = "map[string]interface {}", "[]interface {}"


def _go_type(value: Any) -> str | None:
    """The Go dynamic type a decoded JSON value would have (ints are int64: the decoder preserves them)."""
    if value is None:
        return None
    if isinstance(value, dict):
        return _MAP
    if isinstance(value, list):
        return _SLICE
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int64"
    if isinstance(value, float):
        return "float64"
    return "string"


def _go_float(value: float) -> str:
    """Go's `%v` of a float64 (`strconv` shortest `g`: exponent form below 1e-4 and from 1e6)."""
    if value != value or value in (float("inf"), float("-inf")):
        return {"nan": "NaN", "inf": "+Inf", "-inf": "-Inf"}[repr(value)]
    if value == 0:
        return "-0" if str(value).startswith("-") else "0"
    sign, digits, exponent = Decimal(repr(value)).normalize().as_tuple()
    assert isinstance(exponent, int)
    text = "".join(map(str, digits))
    point = len(text) + exponent
    exp = point - 1
    minus = "-" if sign else ""
    if exp < -4 or exp >= 6:
        mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
        return f"{minus}{mantissa}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if point <= 0:
        return f"{minus}0.{'0' * -point}{text}"
    if point >= len(text):
        return f"{minus}{text}{'0' * (point - len(text))}"
    return f"{minus}{text[:point]}.{text[point:]}"


def _go_fmt(value: Any) -> str:
    """Go's `%v` of a decoded JSON value (maps print with sorted keys)."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _go_float(value)
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{_go_fmt(value[k])}" for k in sorted(value)) + "]"
    if isinstance(value, list):
        return "[" + " ".join(_go_fmt(v) for v in value) + "]"
    return str(value)


def _go_fmt_s(value: Any) -> str:
    """Go's `%s` of a decoded JSON value (non-strings print as `%!s(type=value)`)."""
    if isinstance(value, str | dict | list):
        return _go_fmt(value)
    if value is None:
        return "%!s(<nil>)"
    return f"%!s({_go_type(value)}={_go_fmt(value)})"


def _bad_arg_type(expected: str, actual: Any) -> _SmpError:
    actual_type = _go_type(actual)
    return _SmpError(f"expected a {expected}, but received a {actual_type or '%!s(<nil>)'}")


def _no_merge_key(item: dict[str, Any], merge_key: str) -> _SmpError:
    return _SmpError(f"map: {_go_fmt(item)} does not contain declared merge key: {merge_key}")


def _bad_patch_type(directive: Any, item: dict[str, Any]) -> _SmpError:
    return _SmpError(f"unknown patch type: {_go_fmt_s(directive)} in map: {_go_fmt(item)}")


def _is_directive_key(key: str) -> bool:
    return key in (_DIRECTIVE, _RETAIN_KEYS) or key.startswith((_ORDER_PREFIX + "/", _DELETE_PREFIX + "/"))


def _discard_nulls(value: Any) -> None:
    """`discardNullValuesFromPatch`: null members of maps go, at any depth (null list items stay)."""
    if isinstance(value, dict):
        for key in [k for k, v in value.items() if v is None]:
            del value[key]
        for item in value.values():
            _discard_nulls(item)
    elif isinstance(value, list):
        for item in value:
            _discard_nulls(item)


def _remove_directives(value: Any) -> tuple[Any, bool]:
    """`removeDirectives`: maps carrying `$patch` disappear (from maps and lists); (value, keep)."""
    if isinstance(value, dict):
        if _DIRECTIVE in value:
            return None, False
        for key in list(value):
            item, keep = _remove_directives(value[key])
            if keep:
                value[key] = item
            else:
                del value[key]
        return value, True
    if isinstance(value, list):
        kept = []
        for item in value:
            cleaned, keep = _remove_directives(item)
            if keep:
                kept.append(cleaned)
        return kept, True
    return value, True


def _strip_directive_keys(value: Any) -> None:
    """Directive keys left inside wholesale values are unknown fields the typed decode drops."""
    if isinstance(value, dict):
        for key in [k for k in value if _is_directive_key(k)]:
            del value[key]
        for item in value.values():
            _strip_directive_keys(item)
    elif isinstance(value, list):
        for item in value:
            _strip_directive_keys(item)


def _as_stored(value: Any) -> tuple[Any, bool]:
    """A patch value taken wholesale, as the server would store it: (value, keep)."""
    _discard_nulls(value)
    value, keep = _remove_directives(value)
    if keep:
        _strip_directive_keys(value)
    return value, keep


def _extract_key(key: str, prefix: str) -> str:
    parts = key.split("/", 1)
    if len(parts) <= 1 or parts[0] != prefix:
        raise _SmpError(_BAD_PRIMITIVE_LIST if prefix == _DELETE_PREFIX else _BAD_SET_ORDER, 400)
    return parts[1]


def _slice_element_type(*lists: list[Any]) -> str:
    """All items of all lists must share one Go type, and must not be lists."""
    found: str | None = None
    seen = False
    for items in lists:
        for item in items:
            current = _go_type(item)
            if not seen:
                seen = True
                found = current
                if current is None:
                    raise _SmpError(_PANIC)  # reflect.TypeOf(nil).Kind() panics in the Go code
                if current == _SLICE:
                    raise _SmpError(_NO_LIST_OF_LISTS, 422)
            elif current != found:
                raise _SmpError(f"list element types are not identical: {_go_fmt(list(lists))}")
    if found is None:
        raise _SmpError("no elements in any of the given slices")
    return found


def _find_by_key(items: list[Any], merge_key: str, value: Any) -> int | None:
    for idx, item in enumerate(items):
        if not isinstance(item, dict):
            raise _SmpError(f"value for key {idx} is not a map")
        if _same(item.get(merge_key), value):
            return idx
    return None


def _merge_key_equal(left: Any, right: Any, merge_key: str) -> bool:
    if not merge_key:
        return _same(left, right)
    for item in (left, right):
        if not isinstance(item, dict):
            raise _bad_arg_type(_MAP, item)
        if merge_key not in item:
            raise _no_merge_key(item, merge_key)
    return _same(left[merge_key], right[merge_key])


def _split_deletes(items: list[Any]) -> tuple[list[Any], list[Any]]:
    """`extractToDeleteItems`: (kept, items carrying `$patch: delete`)."""
    kept: list[Any] = []
    deleted: list[Any] = []
    for item in items:
        if not isinstance(item, dict):
            raise _bad_arg_type(_MAP, item)
        (deleted if item.get(_DIRECTIVE) == "delete" else kept).append(item)
    return kept, deleted


def _index(items: list[Any], value: Any, merge_key: str, kind: str) -> int:
    def identity(item: Any) -> Any:
        if kind != _MAP:
            return item
        return item.get(merge_key) if isinstance(item, dict) else None

    wanted = identity(value)
    for idx, item in enumerate(items):
        if _same(identity(item), wanted):
            return idx
    return -1


def _go_stable_sort(items: list[Any], less: Callable[[int, int], bool]) -> None:
    """Go's `sort.SliceStable` (insertion sort in blocks of 20, then SymMerge).

    Ported rather than replaced by `sorted` because strategicpatch's comparator is not a strict weak
    order when items are missing from the order list, and the result then depends on the algorithm.
    """
    def swap(i: int, j: int) -> None:
        items[i], items[j] = items[j], items[i]

    def insertion_sort(a: int, b: int) -> None:
        for i in range(a + 1, b):
            j = i
            while j > a and less(j, j - 1):
                swap(j, j - 1)
                j -= 1

    def swap_range(a: int, b: int, n: int) -> None:
        for i in range(n):
            swap(a + i, b + i)

    def rotate(a: int, m: int, b: int) -> None:
        i, j = m - a, b - m
        while i != j:
            if i > j:
                swap_range(m - i, m, j)
                i -= j
            else:
                swap_range(m - i, m + j - i, i)
                j -= i
        swap_range(m - i, m, i)

    def sym_merge(a: int, m: int, b: int) -> None:
        if m - a == 1:
            i, j = m, b
            while i < j:
                h = (i + j) // 2
                if less(h, a):
                    i = h + 1
                else:
                    j = h
            for k in range(a, i - 1):
                swap(k, k + 1)
            return
        if b - m == 1:
            i, j = a, m
            while i < j:
                h = (i + j) // 2
                if not less(m, h):
                    i = h + 1
                else:
                    j = h
            for k in range(m, i, -1):
                swap(k, k - 1)
            return
        mid = (a + b) // 2
        n = mid + m
        if m > mid:
            start, r = n - b, mid
        else:
            start, r = a, m
        p = n - 1
        while start < r:
            c = (start + r) // 2
            if not less(p - c, c):
                start = c + 1
            else:
                r = c
        end = n - start
        if start < m < end:
            rotate(start, m, end)
        if a < start < mid:
            sym_merge(a, start, mid)
        if mid < end < b:
            sym_merge(mid, end, b)

    n = len(items)
    block = 20
    a, b = 0, block
    while b <= n:
        insertion_sort(a, b)
        a, b = b, b + block
    insertion_sort(a, n)
    while block < n:
        a, b = 0, 2 * block
        while b <= n:
            sym_merge(a, a + block, b)
            a, b = b, b + 2 * block
        if a + block < n:
            sym_merge(a, a + block, n)
        block *= 2


def _normalize_slice_order(items: list[Any], order: list[Any], merge_key: str, kind: str) -> list[Any]:
    to_sort, deleted = list(items), list[Any]()
    if kind == _MAP:
        for item in [*items, *order]:
            if not isinstance(item, dict):
                raise _bad_arg_type(_MAP, item)
            if merge_key not in item:
                raise _no_merge_key(item, merge_key)
        to_sort, deleted = _split_deletes(items)

    def less(i: int, j: int) -> bool:
        ii = _index(order, to_sort[i], merge_key, kind)
        if ii >= 0:
            ij = _index(order, to_sort[j], merge_key, kind)
            if ij >= 0:
                return ii < ij
        return True

    _go_stable_sort(to_sort, less)
    return to_sort + deleted


def _merge_sorted(left: list[Any], right: list[Any], server_order: list[Any], merge_key: str,
                  kind: str) -> list[Any]:
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


def _normalize_element_order(patch_items: list[Any], server_only: list[Any], patch_order: list[Any],
                             server_order: list[Any], merge_key: str, kind: str) -> list[Any]:
    patch_items = _normalize_slice_order(patch_items, patch_order, merge_key, kind)
    server_only = _normalize_slice_order(server_only, server_order, merge_key, kind)
    return _merge_sorted(server_only, patch_items, server_order, merge_key, kind)


def _partition(merged: list[Any], by: list[Any], merge_key: str) -> tuple[list[Any], list[Any]]:
    """Split `merged` into (items present in `by`, server-only items), keeping their order."""
    in_patch: list[Any] = []
    server_only: list[Any] = []
    if not merge_key:
        wanted = {_hkey(v) for v in by}
        for item in merged:
            (in_patch if _hkey(item) in wanted else server_only).append(item)
        return in_patch, server_only
    for item in merged:
        if not isinstance(item, dict):
            raise _bad_arg_type(_MAP, item)
        if merge_key not in item:
            raise _no_merge_key(item, merge_key)
        found = _find_by_key(by, merge_key, item[merge_key])
        (server_only if found is None else in_patch).append(item)
    return in_patch, server_only


class _StrategicMerge:
    """One strategic merge, with the field table of the object's kind."""

    def __init__(self, table: Mapping[str, PatchStrategy]) -> None:
        self.table = table

    def lookup(self, path: str) -> PatchStrategy:
        return self.table.get(path, _NONE)

    def merge_map(self, original: dict[str, Any], patch: dict[str, Any], path: str) -> dict[str, Any]:
        if _DIRECTIVE in patch:
            directive = patch[_DIRECTIVE]
            if directive == "replace":
                del patch[_DIRECTIVE]
                replaced, _ = _as_stored(patch)
                return dict(replaced)
            if directive == "delete":
                return {}
            raise _bad_patch_type(directive, patch)
        self.apply_retain_keys(original, patch)
        self.apply_set_element_order(original, patch, path)
        for key in list(patch):
            self.merge_field(original, key, patch[key], path)
        return original

    def merge_field(self, original: dict[str, Any], key: str, patch_value: Any, path: str) -> None:
        is_delete_list = key.startswith(_DELETE_PREFIX)
        if is_delete_list:
            key = _extract_key(key, _DELETE_PREFIX) or key
        if patch_value is None:
            original.pop(key, None)
            return
        if key not in original or _go_type(original[key]) != _go_type(patch_value):
            if not is_delete_list:
                value, keep = _as_stored(patch_value)
                if keep:
                    original[key] = value
                else:
                    original.pop(key, None)
            return
        field_path = f"{path}.{key}" if path else key
        current = original[key]
        if isinstance(current, dict):
            if self.lookup(field_path).list_strategy == "replace":
                patch_value.pop(_DIRECTIVE, None)  # the map is taken as it is; decoding drops the marker
                original[key], _ = _as_stored(patch_value)
            else:
                original[key] = self.merge_map(current, patch_value, field_path)
        elif isinstance(current, list):
            strategy = self.lookup(field_path)
            original[key], _ = self.merge_list_field(current, patch_value, field_path, strategy, is_delete_list)
        else:
            original[key] = patch_value

    def merge_list_field(self, original: list[Any], patch: list[Any], field_path: str,
                         strategy: PatchStrategy, is_delete_list: bool) -> tuple[list[Any], list[Any]]:
        """`mergeSliceHandler`: merge lists merge, delete lists delete, every other list is replaced.

        Returns (result, the live list as the caller's Go slice now shows it): see `merge_list`.
        """
        if strategy.list_strategy == "merge" or is_delete_list:
            return self.merge_list(original, patch, f"{field_path}[]", strategy.merge_key, is_delete_list)
        value, _ = _as_stored(patch)
        return list(value), original

    def merge_list(self, original: list[Any], patch: list[Any], item_path: str, merge_key: str,
                   is_delete_list: bool) -> tuple[list[Any], list[Any]]:
        """`mergeSlice`; returns (merged list, the caller's view of the live list afterwards).

        Go deletes items by shifting the live slice's backing array in place and appends new items into
        it while capacity lasts (the server builds it with capacity == length). The caller keeps its own
        slice header on that array, and `$setElementOrder` uses it as the live order - so the upstream
        results depend on this aliasing, and it is emulated here rather than "fixed".
        """
        if not original and not patch:
            return original, original
        kind = _slice_element_type(original, patch)
        if kind != _MAP:
            if is_delete_list:
                doomed = {_hkey(v) for v in patch}
                return [v for v in original if _hkey(v) not in doomed], original
            merged: list[Any] = []
            seen: set[tuple[str, Any]] = set()
            for item in [*original, *patch]:
                if _hkey(item) not in seen:
                    seen.add(_hkey(item))
                    merged.append(item)
            in_patch, server_only = _partition(merged, patch, merge_key)
            return _normalize_element_order(in_patch, server_only, patch, original, merge_key, kind), original
        if not merge_key:
            raise _SmpError("cannot merge lists without merge key for struct")
        backing = list(original)  # the array the caller's slice still points at
        length, plain, replace = self.apply_list_directives(backing, patch, merge_key)
        if replace:
            server_order = [_as_stored(item)[0] for item in plain]
            merged, plain = list(server_order), []
        else:
            server_order = backing[:length]
            array = backing
            for item in plain:
                if merge_key not in item:
                    raise _no_merge_key(item, merge_key)
                found = _find_by_key(array[:length], merge_key, item[merge_key])
                if found is not None:
                    array[found] = self.merge_map(array[found], item, item_path)
                    continue
                value, _ = _as_stored(item)
                if length < len(array):
                    array[length] = value  # append within capacity: the caller's array sees it
                else:
                    array = [*array[:length], value]  # append reallocates: the caller's array does not
                length += 1
            merged = array[:length]
        in_patch, server_only = _partition(merged, plain, merge_key)
        return _normalize_element_order(in_patch, server_only, plain, server_order, merge_key, kind), backing

    @staticmethod
    def apply_list_directives(backing: list[Any], patch: list[Any],
                              merge_key: str) -> tuple[int, list[Any], bool]:
        """`mergeSliceWithSpecialElements`: apply `$patch: delete` items to `backing` in place.

        Returns (live length after the deletions, the patch items without directives, whether a
        `$patch: replace` item asked for the list to be replaced by those items).
        """
        length = len(backing)
        plain: list[Any] = []
        replace = False
        for item in patch:
            if _DIRECTIVE not in item:
                plain.append(item)
                continue
            directive = item[_DIRECTIVE]
            if directive == "delete":
                if merge_key not in item:
                    raise _no_merge_key(item, merge_key)
                while (found := _find_by_key(backing[:length], merge_key, item[merge_key])) is not None:
                    backing[found:length - 1] = backing[found + 1:length]  # Go's append(s[:i], s[i+1:]...)
                    length -= 1
            elif directive == "replace":
                replace = True
            elif directive == "merge":
                raise _SmpError("merging lists cannot yet be specified in the patch")
            else:
                raise _bad_patch_type(directive, item)
        return length, plain, replace

    @staticmethod
    def apply_retain_keys(original: dict[str, Any], patch: dict[str, Any]) -> None:
        """`$retainKeys`: every other key of the live map is cleared; the patch may only set listed keys."""
        if _RETAIN_KEYS not in patch:
            return
        retain = patch.pop(_RETAIN_KEYS)
        if not isinstance(retain, list):
            raise _SmpError(_BAD_RETAIN_KEYS, 400)
        keys = {k for k in retain if isinstance(k, str)}
        for key, value in patch.items():
            if value is None or key.startswith((_DELETE_PREFIX, _ORDER_PREFIX)):
                continue
            if key not in keys:
                raise _SmpError(_BAD_RETAIN_KEYS, 400)
        for key in [k for k in original if k not in keys]:
            del original[key]

    def apply_set_element_order(self, original: dict[str, Any], patch: dict[str, Any], path: str) -> None:
        """`mergePatchIntoOriginal`: merge each list named by `$setElementOrder/<field>` and order it."""
        for directive_key in [k for k in patch if k.startswith(_ORDER_PREFIX)]:
            if directive_key not in patch:
                continue
            order = patch.pop(directive_key)
            if not isinstance(order, list):
                raise _bad_arg_type(_SLICE, order)
            key = _extract_key(directive_key, _ORDER_PREFIX)
            found_original, found_patch = key in original, key in patch
            original_list: list[Any] = []
            patch_list: list[Any] = []
            if found_original:
                if not isinstance(original[key], list):
                    raise _bad_arg_type(_SLICE, original[key])
                original_list = original[key]
            if found_patch:
                if not isinstance(patch[key], list):
                    raise _bad_arg_type(_SLICE, patch[key])
                patch_list = patch[key]
            field_path = f"{path}.{key}" if path else key
            strategy = self.lookup(field_path)
            merge_key = strategy.merge_key
            _validate_order(patch_list, order, merge_key)
            live = original_list
            if found_original and not found_patch:
                merged = original_list
            elif found_patch and not found_original:
                merged, _ = _as_stored(patch_list)
            elif found_original and found_patch:
                merged, live = self.merge_list_field(original_list, patch_list, field_path, strategy, False)
            else:
                continue
            in_order, server_only = _partition(merged, order, merge_key)
            kind = _slice_element_type(live, patch_list)
            original[key] = _normalize_element_order(in_order, server_only, order, live, merge_key, kind)
            patch.pop(key, None)


def _validate_order(patch_list: list[Any], order: list[Any], merge_key: str) -> None:
    """`validatePatchWithSetOrderList`: patch items must appear in `$setElementOrder`, in that order."""
    if not order or not patch_list:
        return
    items = _split_deletes(patch_list)[0] if merge_key else patch_list
    pi = si = 0
    while pi < len(items) and si < len(order):
        if isinstance(items[pi], dict) and _DIRECTIVE in items[pi]:
            pi += 1
            continue
        if _merge_key_equal(items[pi], order[si], merge_key):
            pi += 1
        si += 1
    if pi < len(items) and si >= len(order):
        raise _SmpError(f"The order in patch list:\n{_go_fmt(patch_list)}\n doesn't match {_ORDER_PREFIX} "
                        f"list:\n{_go_fmt(order)}\n")


def _apply_strategic_merge_patch(original: dict[str, Any], body: bytes, kind: str) -> dict[str, Any]:
    try:
        patch = _decode(body)
    except _GoJsonError as exc:
        raise bad_request(str(exc)) from exc
    if patch is None:
        return _clone(original)
    if not isinstance(patch, dict):
        raise bad_request(_cannot_unmarshal(patch, "map[string]interface {}"))
    engine = _StrategicMerge(PATCH_STRATEGIES.get(kind, {}))
    try:
        return engine.merge_map(_clone(original), patch, "")
    except _SmpError as exc:
        raise exc.to_api_error() from exc
