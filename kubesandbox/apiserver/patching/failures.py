"""How patch failures become API errors, the way the apiserver shapes them.

The apiserver does not pass library errors through unchanged: JSON patch failures become a 422 with a fixed
message, strategic merge errors are sorted into 400, 422 or 500 by `interpretStrategicMergePatchError`, and
undecodable bodies are a 400 carrying Go's decoder text. Keeping that mapping in one module keeps the
status codes and messages of all three patch types consistent.
"""

from __future__ import annotations

from typing import Any, Final

from kubesandbox.apiserver.patching.gojson import GoJsonError, decode, go_fmt, go_fmt_s, go_type
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
    return ApiError(422, "Invalid", REJECTED)


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
