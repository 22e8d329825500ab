"""Reading the protobuf bodies kubectl POSTs: `create job --from=cronjob/x`, `create configmap`, `create secret`.

kubectl 1.32 sends that Job as `application/vnd.kubernetes.protobuf` and does not fall back to JSON
when refused, so the sandbox has to read it. Only the Job's ObjectMeta matters (name, namespace,
labels, annotations such as `cronjob.kubernetes.io/instantiate: manual`, the owner reference to the
CronJob); the spec is the CronJob's `jobTemplate`, which the caller already holds.

The envelope (k8s.io/apimachinery `runtime/serializer/protobuf`): the 4 magic bytes `k8s\\x00`, then a
`runtime.Unknown` {1: typeMeta {1: apiVersion, 2: kind}, 2: raw, 3: contentEncoding, 4: contentType}
whose `raw` is the object's own message — for `batch/v1 Job` {1: ObjectMeta, 2: JobSpec, 3: JobStatus}.
Field numbers come from apimachinery `pkg/apis/meta/v1/generated.proto` and `pkg/runtime/generated.proto`
and k8s.io/api `batch/v1/generated.proto` (v0.32).

Go's gogo-protobuf marshaller writes every non-pointer field, so empty strings (`generateName`, `uid`,
...) and an empty `creationTimestamp` message arrive on the wire; they are dropped here the way JSON's
`omitempty` would drop them. A small wire-format reader is all this needs — no protobuf dependency.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kubesandbox.resources.errors import ApiError, bad_request

MAGIC = b"k8s\x00"

VARINT, I64, LEN, I32 = 0, 1, 2, 5


@dataclass(frozen=True)
class Field:
    """One decoded field: for VARINT an int, for I64/I32 the little-endian int, for LEN the bytes."""

    number: int
    wire_type: int
    value: int | bytes


def _malformed(what: str) -> ApiError:
    return bad_request(f"unable to decode protobuf body: {what}")


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise _malformed("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise _malformed("varint longer than 10 bytes")


def iter_fields(data: bytes) -> Iterator[Field]:
    """Walk one message's fields in wire order. Groups (wire types 3/4) and overruns are malformed."""
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire_type = key >> 3, key & 7
        if number == 0:
            raise _malformed("field number 0")
        value: int | bytes
        if wire_type == VARINT:
            value, pos = _varint(data, pos)
        elif wire_type in (I64, I32):
            size = 8 if wire_type == I64 else 4
            if pos + size > len(data):
                raise _malformed(f"truncated {size * 8}-bit field {number}")
            value, pos = int.from_bytes(data[pos : pos + size], "little"), pos + size
        elif wire_type == LEN:
            length, pos = _varint(data, pos)
            if pos + length > len(data):
                raise _malformed(f"field {number} claims {length} bytes, {len(data) - pos} left")
            value, pos = data[pos : pos + length], pos + length
        else:
            raise _malformed(f"unsupported wire type {wire_type} for field {number}")
        yield Field(number, wire_type, value)


def _bytes(f: Field) -> bytes:
    if not isinstance(f.value, bytes):
        raise _malformed(f"field {f.number} should be length-delimited, got wire type {f.wire_type}")
    return f.value


def _str(f: Field) -> str:
    try:
        return _bytes(f).decode("utf-8")
    except UnicodeDecodeError as err:
        raise _malformed(f"field {f.number} is not valid UTF-8") from err


def _int(f: Field) -> int:
    if not isinstance(f.value, int) or f.wire_type != VARINT:
        raise _malformed(f"field {f.number} should be a varint, got wire type {f.wire_type}")
    return f.value - (1 << 64) if f.value >= 1 << 63 else f.value  # int64/int32 are two's complement


def _bool(f: Field) -> bool:
    return _int(f) != 0


# --------------------------------------------------------------------------------------------------
# runtime.Unknown


def decode_unknown(body: bytes) -> tuple[str, str, bytes]:
    """The envelope: (apiVersion, kind, raw object bytes). Anything else is a 400 BadRequest."""
    if not body.startswith(MAGIC):
        raise _malformed("missing the k8s\\x00 prefix of application/vnd.kubernetes.protobuf")
    api_version = kind = ""
    raw = b""
    type_meta = b""
    for f in iter_fields(body[len(MAGIC) :]):
        if f.number == 1:
            type_meta += _bytes(f)
        elif f.number == 2:
            raw = _bytes(f)
        elif f.number == 3 and _str(f):
            raise _malformed(f"unsupported contentEncoding {_str(f)!r}")
    for t in iter_fields(type_meta):
        if t.number == 1:
            api_version = _str(t)
        elif t.number == 2:
            kind = _str(t)
    if not kind:
        raise bad_request("Object 'Kind' is missing in the protobuf body")
    return api_version, kind, raw


# --------------------------------------------------------------------------------------------------
# ObjectMeta


def _time(data: bytes) -> str | None:
    """metav1.Time {1: seconds, 2: nanos} as JSON shows it (RFC 3339, seconds); zero is absent."""
    seconds = 0
    for f in iter_fields(data):
        if f.number == 1:
            seconds = _int(f)
    if seconds == 0:
        return None
    try:
        return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, OSError, ValueError) as err:
        raise _malformed(f"timestamp {seconds} out of range") from err


def _map_entry(data: bytes) -> tuple[str, str]:
    """A `map<string,string>` entry {1: key, 2: value}."""
    key = value = ""
    for f in iter_fields(data):
        if f.number == 1:
            key = _str(f)
        elif f.number == 2:
            value = _str(f)
    return key, value


_OWNER_STRINGS = {5: "apiVersion", 1: "kind", 3: "name", 4: "uid"}
_OWNER_BOOLS = {6: "controller", 7: "blockOwnerDeletion"}


def _owner_reference(data: bytes) -> dict[str, Any]:
    ref: dict[str, Any] = {}
    for f in iter_fields(data):
        if f.number in _OWNER_STRINGS:
            ref[_OWNER_STRINGS[f.number]] = _str(f)
        elif f.number in _OWNER_BOOLS:
            ref[_OWNER_BOOLS[f.number]] = _bool(f)  # optional pointers: present means set, even false
    order = ["apiVersion", "kind", "name", "uid", "controller", "blockOwnerDeletion"]
    return {k: ref[k] for k in order if k in ref}


_META_STRINGS = {1: "name", 2: "generateName", 3: "namespace", 4: "selfLink", 5: "uid", 6: "resourceVersion"}


def decode_object_meta(raw: bytes) -> dict[str, Any]:
    """The object's ObjectMeta (field 1 of every top-level kind) in the JSON dict shape.

    Empty strings, zero generation and a zero creationTimestamp are omitted like JSON's omitempty;
    managedFields are skipped (the server computes its own).
    """
    meta_bytes = b""
    for f in iter_fields(raw):
        if f.number == 1:
            meta_bytes += _bytes(f)  # a repeated embedded message merges: parsing the concatenation does that
    meta: dict[str, Any] = {}
    labels: dict[str, str] = {}
    annotations: dict[str, str] = {}
    owners: list[dict[str, Any]] = []
    finalizers: list[str] = []
    for f in iter_fields(meta_bytes):
        if f.number in _META_STRINGS:
            if text := _str(f):
                meta[_META_STRINGS[f.number]] = text
        elif f.number == 7:
            if generation := _int(f):
                meta["generation"] = generation
        elif f.number in (8, 9):
            if (stamp := _time(_bytes(f))) is not None:
                meta["creationTimestamp" if f.number == 8 else "deletionTimestamp"] = stamp
        elif f.number == 10:
            meta["deletionGracePeriodSeconds"] = _int(f)
        elif f.number == 11:
            key, value = _map_entry(_bytes(f))
            labels[key] = value
        elif f.number == 12:
            key, value = _map_entry(_bytes(f))
            annotations[key] = value
        elif f.number == 13:
            owners.append(_owner_reference(_bytes(f)))
        elif f.number == 14:
            finalizers.append(_str(f))
    collections: dict[str, Any] = {
        "labels": labels,
        "annotations": annotations,
        "ownerReferences": owners,
        "finalizers": finalizers,
    }
    meta.update({key: value for key, value in collections.items() if value})
    return meta


# --------------------------------------------------------------------------------------------------
# batch/v1 Job


def decode_job(body: bytes) -> dict[str, Any]:
    """A POSTed Job, metadata only: the caller fills `spec` from the CronJob's jobTemplate."""
    api_version, kind, raw = decode_unknown(body)
    if api_version != "batch/v1":
        raise bad_request(
            f"the API version in the data ({api_version}) does not match the expected API version (batch/v1)"
        )
    if kind != "Job":
        raise bad_request(
            f"the kind in the data ({kind}) does not match the expected kind (batch/v1, Kind=Job)"
        )
    return {"apiVersion": api_version, "kind": kind, "metadata": decode_object_meta(raw)}


# --------------------------------------------------------------------------------------------------
# v1 ConfigMap and Secret (`kubectl create configmap|secret` sends them as protobuf too)


def _bytes_entry(data: bytes) -> tuple[str, str]:
    """A `map<string,bytes>` entry, the value base64-encoded as JSON shows `[]byte`."""
    key, value = "", b""
    for f in iter_fields(data):
        if f.number == 1:
            key = _str(f)
        elif f.number == 2:
            value = _bytes(f)
    return key, base64.b64encode(value).decode()


# field number -> (JSON field, decoder) of ConfigMap {1 metadata, 2 data, 3 binaryData, 4 immutable} and
# Secret {1 metadata, 2 data (bytes), 3 type, 4 stringData, 5 immutable}
_MAPS = {
    "ConfigMap": {2: ("data", _map_entry), 3: ("binaryData", _bytes_entry)},
    "Secret": {2: ("data", _bytes_entry), 4: ("stringData", _map_entry)},
}
_IMMUTABLE = {"ConfigMap": 4, "Secret": 5}


def decode_core(body: bytes, expected_kind: str) -> dict[str, Any]:
    """A POSTed v1 ConfigMap or Secret, whole."""
    api_version, kind, raw = decode_unknown(body)
    if (api_version, kind) != ("v1", expected_kind):
        raise bad_request(
            f"the kind in the data ({kind}) does not match the expected kind (/v1, Kind={expected_kind})"
        )
    obj: dict[str, Any] = {"apiVersion": api_version, "kind": kind, "metadata": decode_object_meta(raw)}
    maps: dict[str, dict[str, str]] = {}
    for f in iter_fields(raw):
        if f.number in _MAPS[kind]:
            name, entry = _MAPS[kind][f.number]
            key, value = entry(_bytes(f))
            maps.setdefault(name, {})[key] = value
        elif f.number == _IMMUTABLE[kind]:
            obj["immutable"] = _bool(f)
        elif kind == "Secret" and f.number == 3 and (text := _str(f)):
            obj["type"] = text
    obj.update(maps)
    return obj


# --------------------------------------------------------------------------------------------------
# authorization.k8s.io/v1 SelfSubjectAccessReview (`kubectl auth can-i`)

_RESOURCE_ATTRIBUTES = {
    1: "namespace",
    2: "verb",
    3: "group",
    4: "version",
    5: "resource",
    6: "subresource",
    7: "name",
}
_NON_RESOURCE_ATTRIBUTES = {1: "path", 2: "verb"}


def _strings(data: bytes, names: dict[int, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for f in iter_fields(data):
        if f.number in names and (text := _str(f)):
            out[names[f.number]] = text
    return out


def decode_access_review(body: bytes) -> dict[str, Any]:
    """A POSTed SelfSubjectAccessReview: {1 metadata, 2 spec {1 resourceAttributes, 2 nonResourceAttributes}}."""
    api_version, kind, raw = decode_unknown(body)
    spec: dict[str, Any] = {}
    for f in iter_fields(raw):
        if f.number != 2:
            continue
        for g in iter_fields(_bytes(f)):
            if g.number == 1:
                spec["resourceAttributes"] = _strings(_bytes(g), _RESOURCE_ATTRIBUTES)
            elif g.number == 2:
                spec["nonResourceAttributes"] = _strings(_bytes(g), _NON_RESOURCE_ATTRIBUTES)
    return {"apiVersion": api_version, "kind": kind, "metadata": {}, "spec": spec}
