"""What every detector shares: its configuration, its signature, and how it proposes actions.

A detector is a pure function `detect(snapshot, config, now) -> list[Finding]`: no I/O, no clock
(`now` is a parameter), no knowledge of other detectors' output. Cross-detector decisions (which
action wins for a workload, rails, caps) belong to `selfheal.planning`. The request bodies come
from `selfheal.kube.requests`; `propose` wraps them into the `PlannedAction` the planner weighs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from selfheal.findings import ActionKind, Finding, Ladder, PlannedAction, Refusal, Severity
from selfheal.kube import requests
from selfheal.kube.containers import Rules
from selfheal.kube.model import Deployment
from selfheal.kube.refs import ObjectRef, ref_of
from selfheal.kube.requests import Write
from selfheal.kube.revisions import equal_ignore_hash, previous_revision
from selfheal.view import Snapshot


@dataclass(frozen=True)
class DetectorConfig:
    restart_threshold: int = 3
    waiting_grace_seconds: int = 300  # image-pull / config errors younger than this are not reported
    canary_error_threshold: float = 0.05
    canary_bake_seconds: int = 600
    canary_auto_promote: bool = False
    rollback_window_seconds: int = 6 * 3600  # a revision current for less than this is a recent change

    @property
    def containers(self) -> Rules:
        """When a container counts as failing (`selfheal.kube.containers`)."""
        return Rules(self.restart_threshold, self.waiting_grace_seconds)


class Detector(Protocol):
    def __call__(self, snapshot: Snapshot, config: DetectorConfig, now: datetime) -> list[Finding]: ...


def propose(
    kind: ActionKind,
    workload: ObjectRef,
    writes: tuple[Write, ...],
    *,
    reason: str,
    summary: str,
    ladder: Ladder,
    detector: str,
    severity: Severity,
    target: ObjectRef | None = None,
    refusal: Refusal | None = None,
) -> PlannedAction:
    """An action proposed for `workload` (written to `target`, the workload itself unless given).
    With a `refusal` and no writes it is the natural action the detector says must not be taken."""
    return PlannedAction(
        kind, workload, target or workload, reason, summary, writes, ladder, detector, severity, refusal
    )


def rollback_to_previous(snapshot: Snapshot, dep: Deployment, *, detector: str) -> PlannedAction | None:
    """The ladder's second rung: `kubectl rollout undo` to the previous revision, if there is one that differs."""
    target = previous_revision(snapshot.replicasets_of(dep))
    if target is None or equal_ignore_hash(target.template_doc(), dep.template_doc()):
        return None
    return propose(
        ActionKind.ROLLBACK,
        ref_of("Deployment", dep.metadata),
        (requests.rollback(dep, target),),
        reason="restarts_did_not_help",
        ladder=Ladder.HEALTH,
        detector=detector,
        severity=Severity.CRITICAL,
        summary=f"roll back {dep.metadata.name} to revision {target.revision()} (restarts did not help)",
    )
