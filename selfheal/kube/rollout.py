"""The state of a Deployment's current revision, as an SRE reads it before deciding who is to blame.

    health = revision_health(dep, replicasets, pods_of, rules, now)
    health.systemic            more than half (and at least one) of the new ReplicaSet's pods failing
    health.became_current      when this revision took over (see below)
    health.is_recent_change(now, window)  the change is in flight, or took over within `window`
    health.onset               when its pods started failing

When a revision became current: the new ReplicaSet's creation, or later when the Deployment's
`Progressing` condition names that ReplicaSet with a later update (a `kubectl rollout undo` back to an
old ReplicaSet makes it current again without creating it anew; the deployment controller then writes
`ReplicaSet "<name>" has successfully progressed.` or `... is progressing.` with a fresh
lastUpdateTime, and leaves it alone once the rollout is complete).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from selfheal.kube.containers import ContainerProblem, Rules, container_problems
from selfheal.kube.model import Deployment, Pod, ReplicaSet
from selfheal.kube.revisions import new_replicaset

COMPLETE_REASON = "NewReplicaSetAvailable"
DEADLINE_REASON = "ProgressDeadlineExceeded"


@dataclass(frozen=True)
class FailingPod:
    pod: Pod
    problems: tuple[ContainerProblem, ...]

    @property
    def since(self) -> datetime | None:
        """When this pod started failing: its Ready condition's turn to False, else its creation."""
        ready = self.pod.condition("Ready")
        if ready is not None and ready.status != "True" and ready.last_transition_time is not None:
            return ready.last_transition_time
        return self.pod.metadata.creation_timestamp


@dataclass(frozen=True)
class RevisionHealth:
    deployment: Deployment
    new: ReplicaSet
    pods: tuple[Pod, ...]
    failing: tuple[FailingPod, ...]
    complete: bool  # Progressing = NewReplicaSetAvailable and no older ReplicaSet still has pods
    deadline_exceeded: bool
    became_current: datetime | None

    @property
    def systemic(self) -> bool:
        return bool(self.pods) and len(self.failing) * 2 > len(self.pods)

    @property
    def never_available(self) -> bool:
        return self.deadline_exceeded and self.new.status.available_replicas == 0

    @property
    def onset(self) -> datetime | None:
        times = [t for f in self.failing if (t := f.since) is not None]
        return min(times) if times else None

    def age_seconds(self, now: datetime) -> float | None:
        return None if self.became_current is None else (now - self.became_current).total_seconds()

    def is_recent_change(self, now: datetime, window_seconds: float) -> bool:
        """The change is still rolling out, or it took over less than `window_seconds` ago."""
        age = self.age_seconds(now)
        return not self.complete or age is None or age <= window_seconds


def became_current(dep: Deployment, new: ReplicaSet) -> datetime | None:
    created = new.metadata.creation_timestamp
    progressing = dep.condition("Progressing")
    named = progressing is not None and f'"{new.metadata.name}"' in progressing.message
    updated = progressing.last_update_time if progressing is not None and named else None
    if created is None or (updated is not None and updated > created):
        return updated
    return created


def rollout_complete(dep: Deployment, new: ReplicaSet, replicasets: tuple[ReplicaSet, ...]) -> bool:
    progressing = dep.condition("Progressing")
    others_have_pods = any(
        rs.status.replicas > 0 for rs in replicasets if rs.metadata.uid != new.metadata.uid
    )
    return progressing is not None and progressing.reason == COMPLETE_REASON and not others_have_pods


def revision_health(
    dep: Deployment,
    replicasets: tuple[ReplicaSet, ...],
    pods_of: Callable[[ReplicaSet], tuple[Pod, ...]],
    rules: Rules,
    now: datetime,
) -> RevisionHealth | None:
    """The current revision's health; None when the Deployment has no ReplicaSet for its template yet."""
    new = new_replicaset(dep, replicasets)
    if new is None:
        return None
    pods = tuple(p for p in pods_of(new) if p.metadata.deletion_timestamp is None)
    failing = tuple(FailingPod(p, problems) for p in pods if (problems := container_problems(p, rules, now)))
    progressing = dep.condition("Progressing")
    return RevisionHealth(
        dep,
        new,
        pods,
        failing,
        rollout_complete(dep, new, replicasets),
        progressing is not None and progressing.reason == DEADLINE_REASON,
        became_current(dep, new),
    )
