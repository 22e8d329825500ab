"""Decoding the API's answers: raw list-page bytes straight into the msgspec Structs of `selfheal.kube.model`.

Pure: bytes in, typed items out. Everything the API answers in a shape we cannot decode becomes one
`SnapshotError` line naming the resource, the object and the field, e.g.
`pods page 2: item 3 (web-7d9f-abc): status.containerStatuses[0].restartCount: Expected int, got str`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import msgspec

from selfheal.confighash import configmap_checksum
from selfheal.kube.model import (
    ConfigMap,
    ConfigMapList,
    CronJob,
    DeploymentList,
    HorizontalPodAutoscalerList,
    PodDisruptionBudgetList,
    PodList,
    ReplicaSetList,
)


class SnapshotError(RuntimeError):
    """The API answered something we cannot decode. The message is one line."""


@dataclass(frozen=True)
class Page:
    items: tuple[Any, ...]
    continue_token: str


class _RawTemplateSpec(msgspec.Struct, frozen=True, gc=False):
    template: msgspec.Raw = msgspec.Raw(b"")


class _RawTemplateItem(msgspec.Struct, gc=False):
    spec: _RawTemplateSpec = _RawTemplateSpec()


class _RawTemplateList(msgspec.Struct, gc=False):
    items: list[_RawTemplateItem] = []


class _NameMeta(msgspec.Struct, frozen=True):
    name: Any = None


class _NameItem(msgspec.Struct):
    metadata: _NameMeta = _NameMeta()


class _NameList(msgspec.Struct):
    items: list[_NameItem] = []


_LIST_TYPES: Final[Mapping[str, type]] = {
    "pods": PodList,
    "deployments": DeploymentList,
    "replicasets": ReplicaSetList,
    "hpas": HorizontalPodAutoscalerList,
    "pdbs": PodDisruptionBudgetList,
    "configmaps": ConfigMapList,
}
_OBJECT_TYPES: Final[Mapping[str, type]] = {"cronjob": CronJob}
_WITH_TEMPLATES: Final = frozenset({"deployments", "replicasets"})
_PATH_RE = re.compile(r"- at `\$(?:\.items\[(\d+)\])?\.?(.*)`$")


def _describe(kind: str, where: str, data: bytes, exc: msgspec.ValidationError) -> str:
    text = str(exc)
    m = _PATH_RE.search(text)
    problem = text[: m.start()].strip() if m else text
    problem = problem.replace("`", "")
    if m is None:
        return f"{kind}{where}: {problem}"
    index, path = m.group(1), m.group(2) or "(root)"
    if index is None:
        return f"{kind}{where}: {path}: {problem}"
    name = "?"
    try:
        names = msgspec.json.decode(data, type=_NameList)
        name = str(names.items[int(index)].metadata.name)
    except (msgspec.DecodeError, msgspec.ValidationError, IndexError):
        pass
    return f"{kind}{where}: item {index} ({name}): {path}: {problem}"


def decode_page(kind: str, data: bytes, *, where: str = "") -> Page:
    """Decode one list page (`kind` is one of pods, deployments, replicasets, hpas, pdbs, configmaps).

    Pure: bytes in, typed items out. For deployments and replicasets the full pod-template JSON is
    kept alongside the typed view (`template_json`).
    """
    list_type = _LIST_TYPES.get(kind)
    if list_type is None:
        raise ValueError(f"unknown resource kind {kind!r}")
    try:
        page: Any = msgspec.json.decode(data, type=list_type)
    except msgspec.ValidationError as exc:
        raise SnapshotError(_describe(kind, where, data, exc)) from None
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


def decode_object(kind: str, data: bytes) -> Any:
    """Decode one named object (`cronjob`: the suspension switch)."""
    obj_type = _OBJECT_TYPES.get(kind)
    if obj_type is None:
        raise ValueError(f"unknown object kind {kind!r}")
    try:
        return msgspec.json.decode(data, type=obj_type)
    except msgspec.ValidationError as exc:
        raise SnapshotError(_describe(kind, "", data, exc)) from None
    except msgspec.DecodeError as exc:
        raise SnapshotError(f"{kind}: the answer is not valid JSON ({exc})") from None


def checksums_of(configmaps: Iterable[ConfigMap]) -> dict[str, str]:
    return {cm.metadata.name: configmap_checksum(cm.data, cm.binary_data) for cm in configmaps}
