"""Decoding the API's answers: raw list-page bytes straight into the msgspec Structs of `selfheal.kube.model`.

Pure: bytes in, typed items out. One bad object never stops the pass:

- fast path: the whole page is decoded at once (one msgspec call per page);
- only when that raises a `ValidationError` is the page decoded item by item. An item that does not
  decode is left out and recorded as an `ObjectProblem` (kind, name — or `item N` when even that is
  unreadable —, the field and msgspec's words, plus the owners, labels and HPA target that can still
  be read, so the view can tell whose it is), one line each, e.g.
  `pods page 2: item 3 (web-7d9f-abc): status.containerStatuses[0].restartCount: Expected int, got str`;
- a page that is not JSON at all, or whose envelope is broken (`items` not a list, `metadata` not list
  metadata), is still a `SnapshotError`: the API is talking nonsense, nothing on it can be trusted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import msgspec

from selfheal.confighash import configmap_checksum
from selfheal.kube.managed import last_written
from selfheal.kube.model import (
    ConfigMap,
    ConfigMapList,
    CronJob,
    Deployment,
    DeploymentList,
    HorizontalPodAutoscaler,
    HorizontalPodAutoscalerList,
    ListMeta,
    OwnerReference,
    Pod,
    PodDisruptionBudget,
    PodDisruptionBudgetList,
    PodList,
    ReplicaSet,
    ReplicaSetList,
)
from selfheal.view import ObjectProblem


class SnapshotError(RuntimeError):
    """The API answered something we cannot decode. The message is one line."""


@dataclass(frozen=True)
class Page:
    items: tuple[Any, ...]
    continue_token: str
    problems: tuple[ObjectProblem, ...] = ()  # items left out: they did not decode


class _RawTemplateSpec(msgspec.Struct, frozen=True, gc=False):
    template: msgspec.Raw = msgspec.Raw(b"")


class _RawTemplateItem(msgspec.Struct, gc=False):
    spec: _RawTemplateSpec = _RawTemplateSpec()


class _RawTemplateList(msgspec.Struct, gc=False):
    items: list[_RawTemplateItem] = []


class _Envelope(msgspec.Struct, gc=False):
    """A list page with its items not yet decoded: what must hold for any of it to be trusted."""

    metadata: ListMeta = ListMeta()
    items: list[msgspec.Raw] = []


@dataclass(frozen=True)
class _Kind:
    name: str  # the object kind
    list_type: type
    item_type: type


_KINDS: Final[Mapping[str, _Kind]] = {
    "pods": _Kind("Pod", PodList, Pod),
    "deployments": _Kind("Deployment", DeploymentList, Deployment),
    "replicasets": _Kind("ReplicaSet", ReplicaSetList, ReplicaSet),
    "hpas": _Kind("HorizontalPodAutoscaler", HorizontalPodAutoscalerList, HorizontalPodAutoscaler),
    "pdbs": _Kind("PodDisruptionBudget", PodDisruptionBudgetList, PodDisruptionBudget),
    "configmaps": _Kind("ConfigMap", ConfigMapList, ConfigMap),
}
_OBJECT_TYPES: Final[Mapping[str, type]] = {"cronjob": CronJob}
_WITH_TEMPLATES: Final = frozenset({"deployments", "replicasets"})
_PATH_RE = re.compile(r"- at `\$\.?(.*)`$")


def _split(exc: msgspec.ValidationError) -> tuple[str, str | None]:
    """(msgspec's words, the JSON path without `$.`, or None when it gives none)."""
    text = str(exc)
    m = _PATH_RE.search(text)
    problem = (text[: m.start()].strip() if m else text).replace("`", "")
    return problem, (m.group(1) or "(root)") if m else None


def _describe(kind: str, where: str, exc: msgspec.ValidationError) -> str:
    problem, path = _split(exc)
    return f"{kind}{where}: {problem}" if path is None else f"{kind}{where}: {path}: {problem}"


def decode_page(kind: str, data: bytes, *, where: str = "") -> Page:
    """Decode one list page (`kind` is one of pods, deployments, replicasets, hpas, pdbs, configmaps).

    Pure: bytes in, typed items out. For deployments and replicasets the full pod-template JSON is
    kept alongside the typed view (`template_json`). Items that do not decode are left out and
    listed in `Page.problems`; `where` (e.g. " page 2") says where they were.
    """
    spec = _KINDS.get(kind)
    if spec is None:
        raise ValueError(f"unknown resource kind {kind!r}")
    try:
        page: Any = msgspec.json.decode(data, type=spec.list_type)
    except msgspec.ValidationError:
        return _decode_item_by_item(kind, spec, data, where)
    except msgspec.DecodeError as exc:
        raise SnapshotError(f"{kind}{where}: the answer is not valid JSON ({exc})") from None
    items: tuple[Any, ...] = page.items
    if kind in _WITH_TEMPLATES:
        raw = msgspec.json.decode(data, type=_RawTemplateList)
        # bytes(...) copies: the page buffer is not kept alive by the snapshot.
        items = tuple(
            msgspec.structs.replace(obj, template_json=bytes(r.spec.template))
            for obj, r in zip(items, raw.items, strict=True)
        )
    return Page(items, page.metadata.continue_)


def _decode_item_by_item(kind: str, spec: _Kind, data: bytes, where: str) -> Page:
    """The slow path, for a page the fast path refused: each item on its own."""
    try:
        envelope = msgspec.json.decode(data, type=_Envelope)
    except msgspec.ValidationError as exc:
        raise SnapshotError(_describe(kind, where, exc)) from None
    items: list[Any] = []
    problems: list[ObjectProblem] = []
    for index, raw in enumerate(envelope.items):
        try:
            obj: Any = msgspec.json.decode(raw, type=spec.item_type)
        except msgspec.ValidationError as exc:
            problems.append(_problem(spec.name, f"{kind}{where}: item {index}", index, raw, exc))
            continue
        if kind in _WITH_TEMPLATES:
            template = msgspec.json.decode(raw, type=_RawTemplateItem).spec.template
            obj = msgspec.structs.replace(obj, template_json=bytes(template))
        items.append(obj)
    return Page(tuple(items), envelope.metadata.continue_, tuple(problems))


def _problem(kind: str, where: str, index: int, raw: bytes, exc: msgspec.ValidationError) -> ObjectProblem:
    """What went wrong with one item, and what can still be read of it (each part only if well-formed)."""
    problem, path = _split(exc)
    doc = msgspec.json.decode(raw)  # valid JSON: the envelope decoded
    meta = doc.get("metadata") if isinstance(doc, dict) else None
    meta = meta if isinstance(meta, dict) else {}
    name, uid = meta.get("name"), meta.get("uid")
    spec = doc.get("spec") if isinstance(doc, dict) else None
    target = spec.get("scaleTargetRef") if isinstance(spec, dict) else None
    scale_target = None
    if (
        isinstance(target, dict)
        and isinstance(target.get("kind"), str)
        and isinstance(target.get("name"), str)
    ):
        scale_target = (target["kind"], target["name"])
    return ObjectProblem(
        kind=kind,
        name=name if isinstance(name, str) and name and " " not in name else f"item {index}",
        where=where,
        path=path or "(root)",
        problem=problem,
        uid=uid if isinstance(uid, str) else "",
        owners=_loose(meta.get("ownerReferences"), tuple[OwnerReference, ...], ()),
        labels=_loose(meta.get("labels"), dict[str, str], {}),
        scale_target=scale_target,
    )


def _loose(value: Any, type_: Any, absent: Any) -> Any:
    """`value` as `type_`; `absent` when missing; None when present but malformed."""
    if value is None:
        return absent
    try:
        return msgspec.convert(value, type_)
    except msgspec.ValidationError:
        return None


def decode_object(kind: str, data: bytes) -> Any:
    """Decode one named object (`cronjob`: the suspension switch)."""
    obj_type = _OBJECT_TYPES.get(kind)
    if obj_type is None:
        raise ValueError(f"unknown object kind {kind!r}")
    try:
        return msgspec.json.decode(data, type=obj_type)
    except msgspec.ValidationError as exc:
        raise SnapshotError(_describe(kind, "", exc)) from None
    except msgspec.DecodeError as exc:
        raise SnapshotError(f"{kind}: the answer is not valid JSON ({exc})") from None


def checksums_of(configmaps: Iterable[ConfigMap]) -> dict[str, str]:
    return {cm.metadata.name: configmap_checksum(cm.data, cm.binary_data) for cm in configmaps}


def content_written_of(configmaps: Iterable[ConfigMap]) -> dict[str, datetime]:
    """When each ConfigMap's content (data, binaryData) was last written, where managedFields say."""
    written = {cm.metadata.name: last_written(cm.metadata, (("data",), ("binaryData",))) for cm in configmaps}
    return {name: at for name, at in written.items() if at is not None}
