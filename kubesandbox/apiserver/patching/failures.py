"""How patch failures become API errors, the way the apiserver shapes them.

The apiserver does not pass library errors through unchanged: JSON patch failures become a 422 with a fixed
message, strategic merge errors are sorted into 400, 422 or 500 by `interpretStrategicMergePatchError`, and
undecodable bodies are a 400 carrying Go's decoder text. Keeping that mapping in one module keeps the
status codes and messages of all three patch types consistent.
"""

from __future__ import annotations

import json
from typing import Any, Final

from kubesandbox.apiserver.openapi.types import Mismatch, first_mismatch
from kubesandbox.apiserver.patching.gojson import (
    MAP,
    SLICE,
    GoJsonError,
    decode,
    go_fmt,
    go_fmt_s,
    go_type,
    json_kind,
)
from kubesandbox.resources.errors import ApiError, bad_request

REJECTED: Final = "the server rejected our request due to an error in our request"
PANIC: Final = "This request caused apiserver to panic. Look in the logs for details."

# mergepatch sentinel errors that `interpretStrategicMergePatchError` turns into 400 or 422.
BAD_PRIMITIVE_LIST: Final = "invalid patch format of primitive list"
BAD_RETAIN_KEYS: Final = "invalid patch format of retainKeys"
BAD_SET_ORDER: Final = "invalid patch format of setElementOrder list"
NO_LIST_OF_LISTS: Final = "lists of lists are not supported"


def invalid_generic() -> ApiError:
    """`NewGenericServerResponse(422, ...)`: reason Invalid and a fixed message, whatever went wrong."""
    return ApiError(422, "Invalid", REJECTED, {})


def _internal(message: str) -> ApiError:
    """A plain Go error reaching the handler: 500 with an empty (Unknown) reason and the error text."""
    return ApiError(500, "", message)


def decode_or_bad_request(body: bytes, prefix: str = "") -> Any:
    """Decode a PATCH body; a body Go would not decode is a 400 with Go's text after `prefix`."""
    try:
        return decode(body)
    except GoJsonError as exc:
        raise bad_request(f"{prefix}{exc}") from exc


class SmpError(Exception):
    """A strategicpatch error, mapped to a status the way `interpretStrategicMergePatchError` does."""

    def __init__(self, message: str, code: int = 500) -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    def to_api_error(self) -> ApiError:
        if self.code == 400:
            return bad_request(self.message)
        if self.code == 422:
            return invalid_generic()
        if self.message == PANIC:
            return ApiError(500, "InternalError", PANIC)
        return _internal(self.message)


def bad_arg_type(expected: str, actual: Any) -> SmpError:
    actual_type = go_type(actual)
    return SmpError(f"expected a {expected}, but received a {actual_type or '%!s(<nil>)'}")


def no_merge_key(item: dict[str, Any], merge_key: str) -> SmpError:
    return SmpError(f"map: {go_fmt(item)} does not contain declared merge key: {merge_key}")


def bad_patch_type(directive: Any, item: dict[str, Any]) -> SmpError:
    return SmpError(f"unknown patch type: {go_fmt_s(directive)} in map: {go_fmt(item)}")


def patched_type_error(patched: dict[str, Any], patch_body: bytes, media_type: str) -> ApiError | None:
    """The patched object does not decode into its Go type (a number for a ConfigMap's data value, a list for
    a pod template): 422 on field `patch`, with the strategic merge patch itself (`map[data:map[n:1]]`) or the
    JSON or merge patch's whole result as the value, and the decoder's error."""
    m = first_mismatch(patched)
    if m is None:
        return None
    if media_type == "application/strategic-merge-patch+json":
        value, error = go_fmt(decode(patch_body)), converter_error(m)
    else:
        value, error = json.dumps(patched, separators=(",", ":")), json_error(m)
    return invalid_patch(f"Invalid value: {json.dumps(value)}: {error}")


def invalid_patch(message: str) -> ApiError:
    """The 422 a real server answers when the patched object does not decode: field `patch`, empty name."""
    return ApiError(
        422,
        "Invalid",
        f' "" is invalid: patch: {message}',
        {"causes": [{"reason": "FieldValueInvalid", "message": message, "field": "patch"}]},
    )


def converter_error(m: Mismatch) -> str:
    """apimachinery's runtime.DefaultUnstructuredConverter.FromUnstructured, for the mismatch."""
    kind = go_type(m.value) or MAP  # as before the move: null reads as a map
    got = {MAP: "map", SLICE: "slice"}.get(kind, kind)
    if m.kind == "struct":
        return f"cannot restore struct from: {got}"
    if m.kind == "map":
        return f"cannot restore map from {got}"
    if m.kind == "slice":
        return f"cannot restore slice from {got}"
    if got in ("int64", "float64") and m.kind == "string":  # Go converts a number to a string (a rune)
        return f"cannot convert {got} to {m.go_type}"
    if got == "float64" and m.kind == "integer":
        return f"cannot convert float64 to {m.go_type}"
    return f"unrecognized type: {m.go_type}"


def json_error(m: Mismatch) -> str:
    """encoding/json's UnmarshalTypeError, for the mismatch."""
    v = m.value
    what = "object" if v is None else json_kind(v)
    if isinstance(v, float) and not isinstance(v, bool) and m.kind == "integer":
        what = f"number {json.dumps(v)}"
    if not m.field:
        return f"json: cannot unmarshal {what} into Go value of type {m.go_type}"
    return f"json: cannot unmarshal {what} into Go struct field {m.struct}.{m.field} of type {m.go_type}"
