"""The read-only view of one namespace: everything the detectors, the planner and the reports look at.

A `Snapshot` is built once per pass by `selfheal.snapshot` (the paging reader and the decoders) and
the optional signals from Prometheus (`selfheal.signals`); nothing here reads, writes or knows the
time. Its indexes (pods by owner, ReplicaSets by Deployment...) are computed on first use.

Objects the API returned that could not be decoded are not in the snapshot's tuples: each is one
`ObjectProblem` in `problems`, with what could still be read of it (name, uid, owners, labels, an
HPA's target). The view ties them to the workloads they may belong to, so that nothing takes the
part it can see for the whole:

- `owner_unknown(pod)`: the pod's ReplicaSet, or that ReplicaSet's Deployment, could not be decoded.
  Such a pod is not bare (it has a controller) and not known either: the job does not act on it.
- `workload_of(pod)` follows the chain through undecodable objects by their readable owners, so the
  pods of an undecodable Deployment are still attributed to that Deployment, never to nothing.
- `unseen(dep)`: the undecodable pods, ReplicaSets and HPAs that may belong to a Deployment. Where the
  link cannot be read (owner references, an HPA's target), the object may belong to any Deployment
  (whose selector matches its labels, when those can be read).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cached_property
from typing import Final

from selfheal.kube.model import (
    ANN_MIRROR,
    ANN_TRAFFIC_SPLIT,
    Deployment,
    HorizontalPodAutoscaler,
    OwnerReference,
    Pod,
    PodDisruptionBudget,
    ReplicaSet,
    selector_matches,
)
from selfheal.kube.refs import ObjectRef, ref_of

CANARY_SUFFIX: Final = "-canary"


# --- canary signals -----------------------------------------------------------------------------------


class SourceState(enum.StrEnum):
    AVAILABLE = "available"
    UNAVAILABLE = "unavailable"  # not configured
    ERROR = "error"  # configured, but the query failed


@dataclass(frozen=True)
class Counts:
    """Requests and 5xx errors one Deployment served over the query window (Prometheus' `increase()`:
    extrapolated, so not always whole numbers)."""

    requests: float
    errors: float


@dataclass(frozen=True)
class CanarySignals:
    """Error ratio (0..1) per canary Deployment name; None = no traffic in the window (unknown).
    `counts`: requests and errors per Deployment name, canaries and their stables; None = no series."""

    state: SourceState = SourceState.UNAVAILABLE
    detail: str = "no prometheus_url configured"
    error_rates: Mapping[str, float | None] = field(default_factory=dict)
    counts: Mapping[str, Counts | None] = field(default_factory=dict)


# --- objects that could not be decoded -----------------------------------------------------------------


@dataclass(frozen=True)
class ObjectProblem:
    """One object of a list answer that could not be decoded (so it is not in the snapshot), and what
    could still be read of it.

    `name` is its `metadata.name`, or `item N` (its place on the page) when even that is unreadable; a
    Kubernetes name never contains a space, so the two cannot be confused. `owners` and `labels` are
    None when they could not be read (not the same as none at all)."""

    kind: str  # Pod, Deployment, ReplicaSet, HorizontalPodAutoscaler, PodDisruptionBudget, ConfigMap
    name: str
    where: str  # where in the API's answers: "pods page 2: item 3"
    path: str  # the field that did not decode: "status.containerStatuses[0].restartCount"
    problem: str  # why, in msgspec's words: "Expected int, got str"
    uid: str = ""
    owners: tuple[OwnerReference, ...] | None = None
    labels: Mapping[str, str] | None = None
    scale_target: tuple[str, str] | None = None  # an HPA's spec.scaleTargetRef (kind, name), if readable

    @property
    def named(self) -> bool:
        return " " not in self.name

    @property
    def controller(self) -> OwnerReference | None:
        return next((o for o in self.owners or () if o.controller), None)

    @property
    def line(self) -> str:
        """One line, e.g. `pods page 2: item 3 (web-7d9f): status.containerStatuses[0].restartCount:
        Expected int, got str`."""
        who = f"{self.where} ({self.name})" if self.named else self.where
        return f"{who}: {self.path}: {self.problem}"


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
    # name -> when its content was last written by anyone but the job (managedFields; absent: unknown)
    configmap_written: Mapping[str, datetime] = field(default_factory=dict)
    canary: CanarySignals = field(default_factory=CanarySignals)
    problems: tuple[ObjectProblem, ...] = ()  # objects left out because they could not be decoded

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

    def unready_since(self, deployment: Deployment) -> datetime | None:
        """When the Deployment's oldest failure began, as its pods show it: the earliest moment one of them
        went not Ready (its `Ready` condition's transition; a pod never Ready: its creation). None when every
        pod is Ready (or the times are not known)."""
        times = []
        for pod in self.pods_of(deployment):
            ready = pod.condition("Ready")
            if ready is not None and ready.status == "True":
                continue
            since = ready.last_transition_time if ready is not None else None
            since = since or pod.metadata.creation_timestamp
            if since is not None:
                times.append(since)
        return min(times, default=None)

    def ready_since(self, deployment: Deployment) -> datetime | None:
        """The latest moment one of the Deployment's pods became Ready: when it was last made whole."""
        times = [
            c.last_transition_time
            for p in self.pods_of(deployment)
            if (c := p.condition("Ready")) is not None and c.status == "True" and c.last_transition_time
        ]
        return max(times, default=None)

    def deployment_of(self, pod: Pod) -> Deployment | None:
        ref = pod.metadata.controller_ref()
        rs = self._replicasets_by_uid.get(ref.uid) if ref is not None and ref.kind == "ReplicaSet" else None
        owner = rs.metadata.controller_ref() if rs is not None else None
        if owner is None or owner.kind != "Deployment":
            return None
        return self._deployments_by_uid.get(owner.uid)

    def workload_of(self, pod: Pod) -> ObjectRef:
        """The object that owns the pod's lifecycle: its Deployment (one that could not be decoded too,
        when the chain names it), else its controller, else the pod."""
        dep = self.deployment_of(pod)
        if dep is not None:
            return ref_of("Deployment", dep.metadata)
        ref = pod.metadata.controller_ref()
        if ref is not None:
            return self._workload_of_controller(ref)
        return ref_of("Pod", pod.metadata)

    def _workload_of_controller(self, ref: OwnerReference) -> ObjectRef:
        """A ReplicaSet's Deployment when the chain can be followed (through undecodable objects by
        their readable owners), else the controller itself."""
        owner: OwnerReference | None = None
        if ref.kind == "ReplicaSet":
            rs = self._replicasets_by_uid.get(ref.uid)
            if rs is not None:
                owner = rs.metadata.controller_ref()
                here = ref_of("ReplicaSet", rs.metadata)
            else:
                problem = self._problem_for("ReplicaSet", ref.uid, ref.name)
                owner = problem.controller if problem is not None else None
                here = ObjectRef(ref.kind, ref.name, self.namespace, ref.uid)
            if owner is not None and owner.kind == "Deployment":
                dep = self._deployments_by_uid.get(owner.uid)
                if dep is not None:
                    return ref_of("Deployment", dep.metadata)
                if self._problem_for("Deployment", owner.uid, owner.name) is not None:
                    return ObjectRef("Deployment", owner.name, self.namespace, owner.uid)
            return here
        return ObjectRef(ref.kind, ref.name, self.namespace, ref.uid)

    # --- objects that could not be decoded ---

    @cached_property
    def _problems_by_kind(self) -> dict[str, list[ObjectProblem]]:
        out: dict[str, list[ObjectProblem]] = {}
        for p in self.problems:
            out.setdefault(p.kind, []).append(p)
        return out

    def _problem_for(self, kind: str, uid: str, name: str) -> ObjectProblem | None:
        """The undecodable object of `kind` a reference may point at: the same uid (when both are
        known), else the same name; one whose uid and name are both unreadable may be any of them."""
        for p in self._problems_by_kind.get(kind, ()):
            if p.uid and uid:
                if p.uid == uid:
                    return p
            elif p.named and name:
                if p.name == name:
                    return p
            else:
                return p
        return None

    def owner_unknown(self, pod: Pod) -> ObjectProblem | None:
        """The undecodable object that hides who owns `pod`: its ReplicaSet, or that ReplicaSet's
        Deployment. Such a pod has a controller (it is not bare) that the job cannot see: not acted on."""
        ref = pod.metadata.controller_ref()
        if ref is None or ref.kind != "ReplicaSet" or not self.problems:
            return None
        rs = self._replicasets_by_uid.get(ref.uid)
        if rs is None:
            return self._problem_for("ReplicaSet", ref.uid, ref.name)
        owner = rs.metadata.controller_ref()
        if owner is None or owner.kind != "Deployment" or owner.uid in self._deployments_by_uid:
            return None
        return self._problem_for("Deployment", owner.uid, owner.name)

    def workload_of_problem(self, problem: ObjectProblem) -> ObjectRef:
        """The workload an undecodable object belongs to, as far as can be read: a pod's or a
        ReplicaSet's Deployment, an HPA's target; else the object itself."""
        ref = problem.controller
        if problem.kind in ("Pod", "ReplicaSet") and ref is not None:
            return self._workload_of_controller(ref)
        if problem.kind == "HorizontalPodAutoscaler" and problem.scale_target is not None:
            kind, name = problem.scale_target
            dep = self.deployment(name) if kind == "Deployment" else None
            if dep is not None:
                return ref_of("Deployment", dep.metadata)
        return ObjectRef(problem.kind, problem.name, self.namespace, problem.uid)

    @cached_property
    def _unseen(self) -> dict[str, tuple[ObjectProblem, ...]]:
        out: dict[str, list[ObjectProblem]] = {}
        for p in self.problems:
            for dep in self._deployments_touched_by(p):
                out.setdefault(dep.metadata.uid, []).append(p)
        return {uid: tuple(ps) for uid, ps in out.items()}

    def _deployments_touched_by(self, p: ObjectProblem) -> tuple[Deployment, ...]:
        if p.kind == "HorizontalPodAutoscaler":
            if p.scale_target is None:
                return self.deployments
            kind, name = p.scale_target
            dep = self.deployment(name) if kind == "Deployment" else None
            return (dep,) if dep is not None else ()
        if p.kind not in ("Pod", "ReplicaSet"):
            return ()
        if p.owners is None:  # who owns it cannot be read: any Deployment that selects it
            if p.labels is None:
                return self.deployments
            labels = dict(p.labels)
            return tuple(d for d in self.deployments if selector_matches(d.spec.selector, labels))
        workload = self.workload_of_problem(p)
        dep = self._deployments_by_uid.get(workload.uid) if workload.kind == "Deployment" else None
        return (dep,) if dep is not None else ()

    def unseen(self, deployment: Deployment) -> tuple[ObjectProblem, ...]:
        """Undecodable pods, ReplicaSets and HPAs that may belong to `deployment` (see the module
        docstring): what the detectors cannot see of it."""
        return self._unseen.get(deployment.metadata.uid, ()) if self.problems else ()

    def configmap_problem(self, name: str) -> ObjectProblem | None:
        """The undecodable ConfigMap that may be `name`."""
        return self._problem_for("ConfigMap", "", name) if self.problems else None

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
