"""Small helpers on decoded JSON values that keep Go's semantics.

Go compares `interface{}` values by dynamic type as well as value (`true` is not `1`, `1` is not `1.0`),
and the patch code copies and prunes values in several places; these helpers are shared so every patch
type treats values the same way.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any


def clone(value: Any) -> Any:
    """Deep copy of a JSON value (faster and stricter than copy.deepcopy)."""
    if isinstance(value, dict):
        return {k: clone(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clone(v) for v in value]
    return value


def same(a: Any, b: Any) -> bool:
    """Go interface equality on decoded JSON: the dynamic types must match (bool is not 1, 1 is not 1.0)."""
    return type(a) is type(b) and a == b


def hkey(value: Any) -> tuple[str, Any]:
    """A hashable stand-in for a JSON value that keeps Go's type distinctions."""
    if isinstance(value, dict | list):
        return ("json", json.dumps(value, sort_keys=True))
    return (type(value).__name__, value)


def drop_members(value: Any, doomed: Callable[[str, Any], bool]) -> None:
    """Delete the object members for which `doomed(key, value)` holds, recursively, in place (also
    inside arrays; array items themselves stay)."""
    if isinstance(value, dict):
        for key in [k for k, v in value.items() if doomed(k, v)]:
            del value[key]
        for item in value.values():
            drop_members(item, doomed)
    elif isinstance(value, list):
        for item in value:
            drop_members(item, doomed)


def prune_nulls(value: Any) -> None:
    """Drop null members of objects, recursively, also inside arrays (null array items stay).

    Both JSON merge patch (values set wholesale) and strategic merge patch (`discardNullValuesFromPatch`)
    clean values this way.
    """
    drop_members(value, lambda _key, member: member is None)
