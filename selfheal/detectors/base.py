"""What every detector shares: its configuration, its signature, and how it proposes actions.

A detector is a pure function `detect(snapshot, config, now) -> list[Finding]`: no I/O, no clock
(`now` is a parameter), no knowledge of other detectors' output. Cross-detector decisions (which
action wins for a workload, rails, caps) belong to `selfheal.planning`. The request bodies come
from `selfheal.kube.requests`; `propose` wraps them into the `PlannedAction` the planner weighs.

Objects that could not be decoded (`Snapshot.problems`) are not seen by any detector; the helpers
at the end say when that leaves a decision open (`selfheal.detectors.undecodable` has the rules).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from selfheal.findings import ActionKind, Finding, Ladder, PlannedAction, Refusal, Severity, SkipCode
from selfheal.kube import requests
from selfheal.kube.containers import Rules
from selfheal.kube.model import Deployment
from selfheal.kube.refs import ObjectRef, ref_of
from selfheal.kube.requests import Write
from selfheal.kube.revisions import equal_ignore_hash, previous_revision
from selfheal.kube.rollout import RevisionHealth, revision_health
from selfheal.view import ObjectProblem, Snapshot


@dataclass(frozen=True)
class DetectorConfig:
    restart_threshold: int = 3
    waiting_grace_seconds: int = 300  # image-pull / config errors younger than this are not reported
    canary_error_threshold: float = 0.05
    canary_bake_seconds: int = 600
    canary_auto_promote: bool = False  # per pair, the stable's selfheal.dev/canary-auto-promote wins
    canary_confidence: float = 0.95  # of the Wilson interval and the comparison with stable
    canary_min_requests: int = 100  # fewer canary requests in the window: inconclusive
    canary_steps: tuple[int, ...] = (10, 25, 50, 100)  # the canary's traffic shares, one step per pass
    canary_slo_error_ratio: float = 0.001  # 1 - the availability SLO: "worse than stable" matters above it
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
    """The ladder's second rung: `kubectl rollout undo` to the previous revision, if there is one that
    differs — and none when a ReplicaSet of `dep` could not be decoded (it may be the previous one)."""
    if unseen_of(snapshot, dep, "ReplicaSet"):
        return None
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


def rollback_rung(
    snapshot: Snapshot, dep: Deployment, config: DetectorConfig, now: datetime, *, detector: str
) -> PlannedAction | None:
    """The ladder's rollback rung for `dep`: `rollback_to_previous` for a recent change; for an established
    revision (current longer than the rollback window: its code ran fine that long) or one whose verdict
    undecodable objects leave in doubt, a refused rollback saying why (the ladder then goes to a human);
    None without a previous revision."""
    health = revision_health(
        dep, snapshot.replicasets_of(dep), snapshot.pods_of_replicaset, config.containers, now
    )
    if health is None:
        return None
    why = ""
    if revision_in_doubt(snapshot, health):
        why = "objects of its revision could not be decoded: no rollback on a verdict in doubt"
    elif not health.is_recent_change(now, config.rollback_window_seconds):
        age = health.age_seconds(now)
        days = (
            f"{age / 86400:.0f} days"
            if age is not None and age >= 86400
            else f"{(age or 0) / 3600:.0f} hours"
        )
        why = (
            f"revision {health.new.revision()} has been current for {days}: an established revision is not "
            "rolled back (what changed is around it, not its code)"
        )
    if why:
        return propose(
            ActionKind.ROLLBACK,
            ref_of("Deployment", dep.metadata),
            (),
            reason="restarts_did_not_help",
            ladder=Ladder.HEALTH,
            detector=detector,
            severity=Severity.CRITICAL,
            summary=f"roll back {dep.metadata.name}",
            refusal=Refusal(SkipCode.NEEDS_HUMAN, why),
        )
    return rollback_to_previous(snapshot, dep, detector=detector)


# --- objects that could not be decoded ------------------------------------------------------------------


def unseen_of(snapshot: Snapshot, dep: Deployment, *kinds: str) -> tuple[ObjectProblem, ...]:
    """The undecodable objects of these kinds that may belong to `dep` (`Snapshot.unseen`)."""
    return tuple(p for p in snapshot.unseen(dep) if p.kind in kinds)


def pods_in_doubt(snapshot: Snapshot, health: RevisionHealth) -> tuple[ObjectProblem, ...]:
    """Undecodable pods that may belong to the current ReplicaSet, when they could overturn "more than
    half of its pods are failing": counted as healthy and as failing, the two verdicts differ. Empty
    when the verdict holds whichever way they go."""
    new_uid = health.new.metadata.uid
    pods = tuple(
        p
        for p in unseen_of(snapshot, health.deployment, "Pod")
        if p.controller is None or p.controller.uid == new_uid
    )
    seen, failing, unseen = len(health.pods), len(health.failing), len(pods)
    as_healthy = failing * 2 > seen + unseen
    as_failing = (failing + unseen) * 2 > seen + unseen
    return pods if as_healthy != as_failing else ()


def revision_in_doubt(snapshot: Snapshot, health: RevisionHealth) -> tuple[ObjectProblem, ...]:
    """What leaves a verdict on the current revision, and a rollback from it, open: an undecodable
    ReplicaSet of the Deployment (the current or the previous revision may be the one not seen), or
    undecodable pods that could overturn the count (`pods_in_doubt`). Empty: the verdict stands."""
    return unseen_of(snapshot, health.deployment, "ReplicaSet") + pods_in_doubt(snapshot, health)


def not_decoded(problems: tuple[ObjectProblem, ...], limit: int = 3) -> str:
    """`Pod web-1 (status.containerStatuses[0].restartCount: Expected int, got str)`, ... for a refusal."""
    text = ", ".join(f"{p.kind} {p.name} ({p.path}: {p.problem})" for p in problems[:limit])
    return text + (f" and {len(problems) - limit} more" if len(problems) > limit else "")
