"""The read-only view of one namespace: everything the detectors, the planner and the reports look at.

A `Snapshot` is built once per pass by `selfheal.snapshot` (the paging reader and the decoders) and
the optional signals from Prometheus (`selfheal.signals`); nothing here reads, writes or knows the
time. Its indexes (pods by owner, ReplicaSets by Deployment...) are computed on first use.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Final

from selfheal.kube.model import (
    ANN_MIRROR,
    ANN_TRAFFIC_SPLIT,
    Deployment,
    HorizontalPodAutoscaler,
    Pod,
    PodDisruptionBudget,
    ReplicaSet,
)
from selfheal.kube.refs import ObjectRef, ref_of

CANARY_SUFFIX: Final = "-canary"


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
        return next(
            (
                h
                for h in self.hpas
                if h.spec.scale_target_ref.kind == "Deployment" and h.spec.scale_target_ref.name == name
            ),
            None,
        )

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
            if (
                ANN_TRAFFIC_SPLIT in stable.metadata.annotations
                or ANN_TRAFFIC_SPLIT in canary.metadata.annotations
            ):
                pairs.append((stable, canary))
        return tuple(sorted(pairs, key=lambda p: p[0].metadata.name))

    def container_count(self) -> int:
        """All (non-init) containers of all Deployment templates."""
        return sum(len(d.spec.template.spec.containers) for d in self.deployments)


def is_mirror_pod(pod: Pod) -> bool:
    """Static pods show up in the API as mirror pods: annotated, and owned by their Node."""
    ref = pod.metadata.controller_ref()
    return ANN_MIRROR in pod.metadata.annotations or (ref is not None and ref.kind == "Node")
