"""Decoded JSON as Go sees it: decoding with encoding/json's errors, Go type names and `%v` formatting.

The apiserver's messages embed Go's view of a value - `cannot unmarshal array into Go value of type ...`,
`expected a map[string]interface {}, but received a string`, maps printed as `map[a:1 b:x]`. Those texts
reach clients, so the three patch types share this one place that produces them exactly.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, Final

from kubesandbox.apiserver.patching.goscanner import go_syntax_error

MAP: Final = "map[string]interface {}"
SLICE: Final = "[]interface {}"


class GoJsonError(Exception):
    """A decode error worded like Go's encoding/json (`invalid character ...`, `cannot unmarshal ...`)."""


def decode(body: bytes) -> Any:
    """Parse JSON the way Go does: syntax is checked first (Go's wording), then Python parses it."""
    syntax_error = go_syntax_error(body)
    if syntax_error is not None:
        raise GoJsonError(syntax_error)

    def parse_float(text: str) -> float:
        value = float(text)
        if value in (float("inf"), float("-inf")):
            raise GoJsonError(f"json: cannot unmarshal number {text} into Go value of type float64")
        return value

    try:
        return json.loads(body.decode("utf-8", errors="replace"), parse_float=parse_float)
    except RecursionError as exc:  # Go allows 10000 levels; Python's parser gives up earlier
        raise GoJsonError("exceeded max depth") from exc
    except ValueError as exc:  # not reached once Go's scanner accepted the body; kept as a guard
        raise GoJsonError(str(exc)) from exc


def json_kind(value: Any) -> str:
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


def cannot_unmarshal(value: Any, go_type: str) -> str:
    return f"json: cannot unmarshal {json_kind(value)} into Go value of type {go_type}"


def go_type(value: Any) -> str | None:
    """The Go dynamic type a decoded JSON value would have (ints are int64: the decoder preserves them)."""
    if value is None:
        return None
    if isinstance(value, dict):
        return MAP
    if isinstance(value, list):
        return SLICE
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


def go_fmt(value: Any) -> str:
    """Go's `%v` of a decoded JSON value (maps print with sorted keys)."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _go_float(value)
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_fmt(value[k])}" for k in sorted(value)) + "]"
    if isinstance(value, list):
        return "[" + " ".join(go_fmt(v) for v in value) + "]"
    return str(value)


def go_fmt_s(value: Any) -> str:
    """Go's `%s` of a decoded JSON value (non-strings print as `%!s(type=value)`)."""
    if isinstance(value, str | dict | list):
        return go_fmt(value)
    if value is None:
        return "%!s(<nil>)"
    return f"%!s({go_type(value)}={go_fmt(value)})"
