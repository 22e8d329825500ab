"""Strategic merge patch directives (`$patch`, `$retainKeys`, `$setElementOrder/...`, ...) and the cleaning
of patch values that are stored wholesale.

Where the Go code takes a patch value as it is, the value still goes through `discardNullValuesFromPatch`
and `removeDirectives`, and the typed decode afterwards drops any directive keys left inside it (they are
unknown fields). Doing the same here makes the result what the server would store.
"""

from __future__ import annotations

from typing import Any, Final

from kubesandbox.apiserver.patching.failures import BAD_PRIMITIVE_LIST, BAD_SET_ORDER, SmpError
from kubesandbox.apiserver.patching.values import drop_members, prune_nulls

DIRECTIVE: Final = "$patch"
RETAIN_KEYS: Final = "$retainKeys"
DELETE_PREFIX: Final = "$deleteFromPrimitiveList"
ORDER_PREFIX: Final = "$setElementOrder"


def _is_directive_key(key: str) -> bool:
    return key in (DIRECTIVE, RETAIN_KEYS) or key.startswith((ORDER_PREFIX + "/", DELETE_PREFIX + "/"))


def _remove_directives(value: Any) -> tuple[Any, bool]:
    """`removeDirectives`: maps carrying `$patch` disappear (from maps and lists); (value, keep)."""
    if isinstance(value, dict):
        if DIRECTIVE in value:
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
    drop_members(value, lambda key, _member: _is_directive_key(key))


def as_stored(value: Any) -> tuple[Any, bool]:
    """A patch value taken wholesale, as the server would store it: (value, keep)."""
    prune_nulls(value)  # `discardNullValuesFromPatch`
    value, keep = _remove_directives(value)
    if keep:
        _strip_directive_keys(value)
    return value, keep


def extract_key(key: str, prefix: str) -> str:
    """The field name after `<prefix>/` in a directive key; a malformed key is a 400."""
    parts = key.split("/", 1)
    if len(parts) <= 1 or parts[0] != prefix:
        raise SmpError(BAD_PRIMITIVE_LIST if prefix == DELETE_PREFIX else BAD_SET_ORDER, 400)
    return parts[1]
