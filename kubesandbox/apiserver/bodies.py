"""Request bodies as the API server decodes them: the errors of an undecodable or mistyped object, and what
decoding into Go types does to the rest (explicit nulls vanish).

- A body that is not a JSON object fails before anything else, while the server looks for its kind
  (`SimpleMetaFactory.Interpret`): `the object provided is unrecognized (must be of type ConfigMap): couldn't
  get version/kind; json parse error: <Go's error> (<the start of the body>)`.
- An object of another kind (or another version) cannot be converted: `Secret in version "v1" cannot be
  handled as a ConfigMap: converting (v1.Secret) to (core.ConfigMap): unknown conversion`.
- `null` is what Go's encoding/json leaves a nil pointer, slice or map as, and they are omitted when encoded
  again: `{"holderIdentity": null}` is stored as no holderIdentity at all.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from kubesandbox.apiserver.patching.gojson import GoJsonError, decode, json_kind
from kubesandbox.apiserver.patching.goscanner import go_syntax_error
from kubesandbox.resources import ResourceType, errors

# The struct SimpleMetaFactory.Interpret unmarshals into, as Go's %v of its type prints it
_FIND_KIND = (
    'struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }'
)
_SUMMARY = 30  # bytes of the body the error quotes


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _summary(data: bytes) -> str:
    """`summarizeData`: the body's start as text when it looks like an object, else as hex."""
    if not data:
        return "<empty>"
    cut = data[:_SUMMARY]
    more = " ..." if len(data) > _SUMMARY else ""
    if data[:1] == b"{":
        return cut.decode("utf-8", errors="replace") + more
    return cut.hex() + more


def _internal_group(rt: ResourceType) -> str:
    return rt.group.split(".")[0] if rt.group else "core"


def decode_object(body: bytes, rt: ResourceType) -> dict[str, Any]:
    """The object in a create or update body; 400 in the real server's words when there is none."""
    try:
        doc = decode(body)
    except GoJsonError as exc:
        raise _unrecognized(rt, str(exc), body) from None
    if not isinstance(doc, dict):
        if doc is None:
            return {}
        raise _unrecognized(
            rt, f"json: cannot unmarshal {json_kind(doc)} into Go value of type {_FIND_KIND}", body
        )
    return doc


def _unrecognized(rt: ResourceType, why: str, body: bytes) -> errors.ApiError:
    return errors.bad_request(
        f"the object provided is unrecognized (must be of type {rt.kind}): couldn't get version/kind; "
        f"json parse error: {why} ({_summary(body)})"
    )


def check_type(obj: dict[str, Any], rt: ResourceType) -> None:
    """A body of another kind or version than the URL's resource is a 400, as its conversion fails."""
    kind, version = obj.get("kind") or rt.kind, obj.get("apiVersion") or rt.api_version
    if (kind, version) == (rt.kind, rt.api_version):
        return
    if not isinstance(kind, str) or not isinstance(version, str):
        raise errors.bad_request(f"the object provided is unrecognized (must be of type {rt.kind})")
    short = version.rsplit("/", 1)[-1]
    raise errors.bad_request(
        f'{kind} in version "{short}" cannot be handled as a {rt.kind}: converting ({short}.{kind}) to '
        f"({_internal_group(rt)}.{rt.kind}): unknown conversion"
    )


def prune_nulls(value: Any) -> Any:
    """Drop every `null` member of every object, recursively (a decoded-then-encoded Go struct's view)."""
    if isinstance(value, dict):
        return {k: prune_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [prune_nulls(v) for v in value]
    return value


_OMIT_EMPTY_META = ("labels", "annotations", "finalizers", "ownerReferences")
_TEMPLATE_PATHS = (("spec", "template"), ("spec", "jobTemplate"), ("spec", "jobTemplate", "spec", "template"))


def _drop_empty(meta: Any) -> None:
    if isinstance(meta, dict):
        for k in _OMIT_EMPTY_META:
            if k in meta and not meta[k]:
                del meta[k]


def prune_empty(obj: dict[str, Any]) -> dict[str, Any]:
    """Empty maps and lists of `omitempty` fields do not survive a round trip through Go: an object's (and
    its templates') labels, annotations, finalizers, ownerReferences; a ConfigMap's data."""
    _drop_empty(obj.get("metadata"))
    for path in _TEMPLATE_PATHS:
        node: Any = obj
        for part in path:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict):
            _drop_empty(node.get("metadata"))
    if obj.get("kind") in ("ConfigMap", "Secret"):
        for k in ("data", "binaryData", "stringData"):
            if k in obj and not obj[k]:
                del obj[k]
    return obj


# -- metav1.MicroTime: RFC 3339 with exactly six fractional digits -------------------------------------------

MICRO_TIME_LAYOUT = "2006-01-02T15:04:05.000000Z07:00"
_MICRO_TIME_FIELDS = {"Lease": ("acquireTime", "renewTime")}
_RANGES = {
    "01": ("month", 1, 12),
    "02": ("day", 1, 31),
    "15": ("hour", 0, 23),
    "04": ("minute", 0, 59),
    "05": ("second", 0, 59),
}


def micro_time_error(value: str) -> str | None:
    """Go's `time.Parse(MicroTime's layout, value)` error text, or None when it parses."""
    rest = value

    def bad(element: str) -> str:
        return (
            f"parsing time {json.dumps(value)} as {json.dumps(MICRO_TIME_LAYOUT)}: cannot parse "
            f"{json.dumps(rest)} as {json.dumps(element)}"
        )

    for element in ("2006", "-", "01", "-", "02", "T", "15", ":", "04", ":", "05", ".000000", "Z07:00"):
        if element == "2006":
            if len(rest) < 4 or not rest[:4].isdigit():
                return bad(element)
            rest = rest[4:]
        elif element in _RANGES:
            if len(rest) < 2 or not rest[:2].isdigit():
                return bad(element)
            what, low, high = _RANGES[element]
            if not low <= int(rest[:2]) <= high:
                return f"parsing time {json.dumps(value)}: {what} out of range"
            rest = rest[2:]
        elif element == ".000000":
            if len(rest) < 7 or rest[0] != "." or not rest[1:7].isdigit():
                return bad(element)
            rest = rest[7:]
        elif element == "Z07:00":
            if rest[:1] == "Z":
                rest = rest[1:]
            elif (
                len(rest) >= 6
                and rest[0] in "+-"
                and rest[1:3].isdigit()
                and rest[3] == ":"
                and rest[4:6].isdigit()
            ):
                rest = rest[6:]
            else:
                return bad(element)
        elif not rest.startswith(element):
            return bad(element)
        else:
            rest = rest[len(element) :]
    if rest:
        return f"parsing time {json.dumps(value)}: extra text: {json.dumps(rest)}"
    return None


def check_micro_times(obj: dict[str, Any], rt: ResourceType) -> None:
    """A MicroTime that Go cannot parse fails the decoding of the whole object: 400."""
    spec = _obj(obj.get("spec"))
    for field in _MICRO_TIME_FIELDS.get(rt.kind, ()):
        value = spec.get(field)
        if isinstance(value, str):
            why = micro_time_error(value)
            if why:
                raise errors.bad_request(
                    f'{rt.kind} in version "{rt.version}" cannot be handled as a {rt.kind}: {why}'
                )


def check_continue(token: str) -> None:
    """A continue token must be base64 (URL alphabet) of JSON: else 400 with Go's decoder's words."""
    if not token:
        return
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except ValueError:
        raise errors.bad_request(
            f"invalid continue token: continue key is not valid: illegal base64 data at input byte {len(token)}"
        ) from None
    syntax = go_syntax_error(raw)
    if syntax is not None:
        raise errors.bad_request(f"invalid continue token: continue key is not valid: {syntax}")
