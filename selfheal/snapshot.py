"""Read-only view of one namespace: everything the detectors look at, read once per pass.

Reading is paginated lists only (`limit`/`continue`), never a GET per object: a 20,000-pod namespace
is 40 requests of 500 pods. Each page's raw bytes go straight into the msgspec Structs of
`selfheal.model` (`decode_page`); the official client's typed models are never built for lists
(they cost ~31 s and 2.4 GiB for 20k pods). Only the two named singletons, the CronJob (suspension)
and the Lease (one actor at a time), are read by name.

Everything the API answers in a shape we cannot decode becomes one `SnapshotError` line naming the
resource, the object and the field, e.g.
`pods page 2: item 3 (web-7d9f-abc): status.containerStatuses[0].restartCount: Expected int, got str`.

Prometheus-derived canary signals are an optional second source (`read_canary_signals`); their
availability is part of the snapshot so that reports can say what was known.
"""

from __future__ import annotations

import enum
import math
import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cached_property
from typing import Any, Final

import msgspec
import structlog

from selfheal.confighash import configmap_checksum
from selfheal.findings import ObjectRef
from selfheal.model import (
    ANN_MIRROR,
    ANN_TRAFFIC_SPLIT,
    ConfigMap,
    ConfigMapList,
    CronJob,
    Deployment,
    DeploymentList,
    HorizontalPodAutoscaler,
    HorizontalPodAutoscalerList,
    Lease,
    Pod,
    PodDisruptionBudget,
    PodDisruptionBudgetList,
    PodList,
    ReplicaSet,
    ReplicaSetList,
)
from selfheal.transport import ApiFailure, Transport, object_path

log = structlog.get_logger(__name__)

CANARY_SUFFIX: Final = "-canary"


class SnapshotError(RuntimeError):
    """The API answered something we cannot decode. The message is one line."""


# --- canary signals -----------------------------------------------------------------------------------


class SourceState(enum.StrEnum):
    AVAILABLE = "available"
    UNAVAILABLE = "unavailable"  # not configured
    ERROR = "error"  # configured, but the query failed


@dataclass(frozen=True)
class CanarySignals:
    """Error ratio (0..1) per canary Deployment name; None = no traffic in the window (unknown)."""

    state: SourceState = SourceState.UNAVAILABLE
    detail: str = "no prometheus_url configured"
    error_rates: Mapping[str, float | None] = field(default_factory=dict)


# --- the snapshot ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    namespace: str
    pods: tuple[Pod, ...] = ()
    deployments: tuple[Deployment, ...] = ()
    replicasets: tuple[ReplicaSet, ...] = ()
    hpas: tuple[HorizontalPodAutoscaler, ...] = ()
    pdbs: tuple[PodDisruptionBudget, ...] = ()
    configmap_checksums: Mapping[str, str] = field(default_factory=dict)  # name -> configmap_checksum
    cronjob: CronJob | None = None
    lease: Lease | None = None
    canary: CanarySignals = field(default_factory=CanarySignals)

    def with_canary_signals(self, signals: CanarySignals) -> Snapshot:
        return replace(self, canary=signals)

    # --- indexes (computed once, on first use) ---

    @cached_property
    def _deployments_by_name(self) -> dict[str, Deployment]:
        return {d.metadata.name: d for d in self.deployments}

    @cached_property
    def _deployments_by_uid(self) -> dict[str, Deployment]:
        return {d.metadata.uid: d for d in self.deployments}

    @cached_property
    def _replicasets_by_uid(self) -> dict[str, ReplicaSet]:
        return {rs.metadata.uid: rs for rs in self.replicasets}

    @cached_property
    def _replicasets_by_owner(self) -> dict[str, list[ReplicaSet]]:
        out: dict[str, list[ReplicaSet]] = {}
        for rs in self.replicasets:
            ref = rs.metadata.controller_ref()
            if ref is not None and ref.kind == "Deployment":
                out.setdefault(ref.uid, []).append(rs)
        return out

    @cached_property
    def _pods_by_owner(self) -> dict[str, list[Pod]]:
        out: dict[str, list[Pod]] = {}
        for pod in self.pods:
            ref = pod.metadata.controller_ref()
            if ref is not None:
                out.setdefault(ref.uid, []).append(pod)
        return out

    def deployment(self, name: str) -> Deployment | None:
        return self._deployments_by_name.get(name)

    def replicasets_of(self, deployment: Deployment) -> tuple[ReplicaSet, ...]:
        """ReplicaSets whose controller is this Deployment (matched by uid, as kubectl does)."""
        return tuple(self._replicasets_by_owner.get(deployment.metadata.uid, ()))

    def pods_of_replicaset(self, rs: ReplicaSet) -> tuple[Pod, ...]:
        return tuple(self._pods_by_owner.get(rs.metadata.uid, ()))

    def pods_of(self, deployment: Deployment) -> tuple[Pod, ...]:
        return tuple(p for rs in self.replicasets_of(deployment) for p in self.pods_of_replicaset(rs))

    def deployment_of(self, pod: Pod) -> Deployment | None:
        ref = pod.metadata.controller_ref()
        rs = self._replicasets_by_uid.get(ref.uid) if ref is not None and ref.kind == "ReplicaSet" else None
        owner = rs.metadata.controller_ref() if rs is not None else None
        if owner is None or owner.kind != "Deployment":
            return None
        return self._deployments_by_uid.get(owner.uid)

    def workload_of(self, pod: Pod) -> ObjectRef:
        """The object that owns the pod's lifecycle: its Deployment, else its controller, else the pod."""
        dep = self.deployment_of(pod)
        if dep is not None:
            return ref_of("Deployment", dep.metadata)
        ref = pod.metadata.controller_ref()
        if ref is not None:
            if ref.kind == "ReplicaSet" and ref.uid in self._replicasets_by_uid:
                return ref_of("ReplicaSet", self._replicasets_by_uid[ref.uid].metadata)
            return ObjectRef(ref.kind, ref.name, self.namespace, ref.uid)
        return ref_of("Pod", pod.metadata)

    def hpa_for(self, deployment: Deployment) -> HorizontalPodAutoscaler | None:
        name = deployment.metadata.name
        return next((h for h in self.hpas if h.spec.scale_target_ref.kind == "Deployment"
                     and h.spec.scale_target_ref.name == name), None)

    def canary_pairs(self) -> tuple[tuple[Deployment, Deployment], ...]:
        """(stable, canary) pairs: `<name>` and `<name>-canary`, one of them carrying the
        `rollout.argoproj.io/traffic-split` annotation."""
        pairs = []
        for canary in self.deployments:
            name = canary.metadata.name
            if not name.endswith(CANARY_SUFFIX):
                continue
            stable = self.deployment(name[: -len(CANARY_SUFFIX)])
            if stable is None:
                continue
            if ANN_TRAFFIC_SPLIT in stable.metadata.annotations or ANN_TRAFFIC_SPLIT in canary.metadata.annotations:
                pairs.append((stable, canary))
        return tuple(sorted(pairs, key=lambda p: p[0].metadata.name))


def ref_of(kind: str, meta: Any) -> ObjectRef:
    return ObjectRef(kind, meta.name, meta.namespace, meta.uid, meta.resource_version, getattr(meta, "generation", 0))


def is_mirror_pod(pod: Pod) -> bool:
    """Static pods show up in the API as mirror pods: annotated, and owned by their Node."""
    ref = pod.metadata.controller_ref()
    return ANN_MIRROR in pod.metadata.annotations or (ref is not None and ref.kind == "Node")


# --- decoding --------------------------------------------------------------------------------------------


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
_OBJECT_TYPES: Final[Mapping[str, type]] = {"cronjob": CronJob, "lease": Lease}
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
        items = tuple(msgspec.structs.replace(obj, template_json=bytes(r.spec.template))
                      for obj, r in zip(items, raw.items, strict=True))
    return Page(items, page.metadata.continue_)


def decode_object(kind: str, data: bytes) -> Any:
    """Decode one named object: `cronjob` or `lease`."""
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


# --- reading from the API ------------------------------------------------------------------------------


# kind in decode_page -> the object kind whose namespaced collection is listed
LISTED: Final = {"pods": "Pod", "deployments": "Deployment", "replicasets": "ReplicaSet",
                 "hpas": "HorizontalPodAutoscaler", "pdbs": "PodDisruptionBudget", "configmaps": "ConfigMap"}


def list_all(kind: str, transport: Transport, namespace: str, page_size: int) -> list[Any]:
    """All items of one resource, page by page. An expired continue token (410) restarts the list
    once from the beginning, as client-go's pager does."""
    path = object_path(LISTED[kind], namespace)
    items: list[Any] = []
    token = ""
    restarted = False
    seen: set[str] = set()
    page_no = 1
    while True:
        query = [("limit", str(page_size))] + ([("continue", token)] if token else [])
        try:
            body = transport.request("GET", path, query=query).body
        except ApiFailure as exc:
            if exc.status == 410 and token and not restarted:
                log.info("snapshot.list_restarted", resource=kind, reason="continue token expired")
                items, token, restarted, seen, page_no = [], "", True, set(), 1
                continue
            raise
        page = decode_page(kind, body, where=f" page {page_no}")
        items.extend(page.items)
        if not page.continue_token:
            return items
        if page.continue_token in seen:
            raise SnapshotError(f"{kind} page {page_no}: the API repeated a continue token")
        seen.add(page.continue_token)
        token = page.continue_token
        page_no += 1


def _read_named(kind: str, object_kind: str, transport: Transport, name: str, namespace: str) -> Any:
    try:
        body = transport.request("GET", object_path(object_kind, namespace, name)).body
    except ApiFailure as exc:
        if exc.status == 404:
            return None
        raise
    return decode_object(kind, body)


def read_snapshot(
    api: Any,
    namespace: str,
    page_size: int = 500,
    *,
    cronjob_name: str = "self-heal-cpt",
    lease_name: str = "self-heal-cpt",
) -> Snapshot:
    """Read the namespace through `api` (a `kubernetes.client.ApiClient`).

    `api` is a `kubernetes.client.ApiClient` (or a `Transport` over one). Raises `SnapshotError` for
    undecodable answers and lets `ApiFailure` (401/403/5xx, no answer) through: the caller maps them to
    exit code 3.
    A missing CronJob or Lease is None, not an error.
    """
    if page_size < 1:
        raise ValueError("page_size must be at least 1")
    transport = api if isinstance(api, Transport) else Transport(api)
    lists = {kind: list_all(kind, transport, namespace, page_size) for kind in LISTED}
    cronjob = _read_named("cronjob", "CronJob", transport, cronjob_name, namespace)
    lease = _read_named("lease", "Lease", transport, lease_name, namespace)
    snap = Snapshot(
        namespace=namespace,
        pods=tuple(lists["pods"]),
        deployments=tuple(lists["deployments"]),
        replicasets=tuple(lists["replicasets"]),
        hpas=tuple(lists["hpas"]),
        pdbs=tuple(lists["pdbs"]),
        configmap_checksums=checksums_of(lists["configmaps"]),
        cronjob=cronjob,
        lease=lease,
    )
    log.info("snapshot.read", namespace=namespace, pods=len(snap.pods), deployments=len(snap.deployments),
             replicasets=len(snap.replicasets), hpas=len(snap.hpas), pdbs=len(snap.pdbs),
             configmaps=len(snap.configmap_checksums), cronjob=cronjob is not None, lease=lease is not None)
    return snap


# --- Prometheus ------------------------------------------------------------------------------------------

DEFAULT_CANARY_ERROR_QUERY: Final = (
    'sum(rate(http_requests_total{deployment="$deployment",code=~"5.."}[5m]))'
    ' / sum(rate(http_requests_total{deployment="$deployment"}[5m]))'
)


def _first_value(result: Any) -> float | None:
    """The value of the first sample of an instant-query vector; None when empty or NaN (no traffic)."""
    if not isinstance(result, list) or not result:
        return None
    try:
        value = float(result[0]["value"][1])
    except (KeyError, IndexError, TypeError, ValueError):
        raise ValueError(f"unexpected query result {str(result)[:120]}") from None
    return None if math.isnan(value) or math.isinf(value) else value


def read_canary_signals(
    prometheus_url: str | None,
    canary_names: Iterable[str],
    query_template: str = DEFAULT_CANARY_ERROR_QUERY,
    timeout_seconds: float = 5.0,
    at: datetime | None = None,
) -> CanarySignals:
    """Query the error ratio of each canary Deployment (`$deployment` in the template is its name),
    evaluated at `at` (the pass's `now`: an explicit `time`, so the answer does not depend on when the
    request happens to reach Prometheus).

    Never raises: an unset URL is `unavailable`, a failing query is `error` with a one-line detail.
    """
    names = sorted(set(canary_names))
    if not prometheus_url:
        return CanarySignals()
    if not names:
        return CanarySignals(SourceState.AVAILABLE, "no canary deployments", {})
    try:
        from prometheus_api_client import PrometheusConnect
        from urllib3.util.retry import Retry

        prom = PrometheusConnect(url=prometheus_url, disable_ssl=False, retry=Retry(total=1, backoff_factor=0))
        rates: dict[str, float | None] = {}
        for name in names:
            query = string.Template(query_template).safe_substitute(deployment=name)
            params = {"time": f"{at.timestamp():.3f}"} if at is not None else None
            rates[name] = _first_value(prom.custom_query(query=query, params=params, timeout=timeout_seconds))
    except Exception as exc:  # any failure of an optional source degrades to "unknown", never a crash
        detail = " ".join(f"{type(exc).__name__}: {exc}".split())[:200]
        log.warning("prometheus.query_failed", url=prometheus_url, error=detail)
        return CanarySignals(SourceState.ERROR, detail, {})
    return CanarySignals(SourceState.AVAILABLE, "", rates)
