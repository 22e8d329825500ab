"""Planning: findings + history + limits -> approved actions and skips (each with a reason). Pure.

Each proposed action goes through these checks in order; the first that fails is its skip reason:

1. refusal       the detector already said no (restart_not_helpful, no_restore_source, ...); an
                 established revision failing because of its environment is handed to a human
                 (needs_human), or reported as mass_failure when the whole namespace fails.
2. target rails  `selfheal.dev/ignore: "true"` on the workload or the target (ignored); bare pods,
                 DaemonSet pods, static/mirror pods, terminating pods are never restarted; rollback and
                 rollout restart refuse a paused Deployment (paused), as kubectl does.
3. mass failure  at least `mass_failure_min_deployments` (3) Deployments failing AND more than half of
                 the namespace's Deployments: that smells of a node or platform fault, report only.
4. cooldown      an action was applied to the same workload less than `cooldown_seconds` ago
                 (from the history file, so it holds across runs). "Applied" includes an intent whose
                 outcome was never recorded and one a later pass abandoned: it may have changed the cluster.
5. ladder        per workload and ladder, from applied history within `escalation_window_seconds`:
                 health: restart (pod or rolling) -> rollback (the finding's escalation) -> needs_human;
                 config / replicas / canary: one action -> needs_human if the drift comes back;
                 canary_progress (canary_step) never climbs: one step per pass, paced by the cooldown.
                 A `needs_human` skip is itself recorded in history, so hands-off lasts until the
                 workload has stayed healthy for a whole window.
6. superseded    one workload-level action per workload per pass (rollback > restore_template >
                 canary_abort > scale > rollout_restart > canary_promote > canary_step); pod restarts of a workload
                 that has a workload-level action are superseded by it; identical actions are merged.
7. max_actions   at most `max_actions` approved per pass, most severe first.

Only applied history entries count as "done" (dry runs change nothing). Output order is
deterministic: severity, then workload name, then target name.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from selfheal.findings import (
    DONE,
    ActionKind,
    CauseCode,
    Finding,
    HistoryEntry,
    Ladder,
    Plan,
    PlannedAction,
    Result,
    Skip,
    SkipCode,
)
from selfheal.kube.annotations import ignored
from selfheal.kube.model import ANN_ARGOCD_TRACKING, ANN_IGNORE, Pod
from selfheal.kube.refs import ObjectRef
from selfheal.view import Snapshot, is_mirror_pod

_WORKLOAD_PRIORITY = {
    ActionKind.ROLLBACK: 0,
    ActionKind.RESTORE_TEMPLATE: 1,
    ActionKind.CANARY_ABORT: 2,
    ActionKind.SCALE: 3,
    ActionKind.ROLLOUT_RESTART: 4,
    ActionKind.CANARY_PROMOTE: 5,
    ActionKind.CANARY_STEP: 6,
}
_RESTARTS = frozenset({ActionKind.RESTART_POD, ActionKind.ROLLOUT_RESTART})
_BLOCKING_ROLLBACK_SKIPS = frozenset({SkipCode.PAUSED, SkipCode.GITOPS_MANAGED, SkipCode.IGNORED})


@dataclass(frozen=True)
class Limits:
    max_actions: int = 5
    cooldown_seconds: int = 600
    escalation_window_seconds: int = 3600
    mass_failure_min_deployments: int = 3
    gitops_guard: bool = True  # refuse template rewrites on Deployments Argo CD tracks (it would revert them)


class _History:
    """The history lines that matter for this namespace and this pass, indexed by workload."""

    def __init__(self, entries: Iterable[HistoryEntry], namespace: str, now: datetime, limits: Limits):
        window_start = now - timedelta(seconds=limits.escalation_window_seconds)
        self._last_applied: dict[str, datetime] = {}
        self._applied: dict[tuple[str, str], list[HistoryEntry]] = {}
        self._hands_off: dict[tuple[str, str], set[str]] = {}  # (workload, ladder) -> action kinds handed off
        lines = [e for e in entries if e.namespace == namespace and e.ts <= now]
        # an intent counts as done until its outcome says otherwise (the outcome line then counts itself)
        resolved = {e.intent for e in lines if e.intent and e.result != Result.INTENT}
        for e in lines:
            if e.result in DONE and not (e.result == Result.INTENT and e.intent in resolved):
                if e.ts > self._last_applied.get(e.workload, datetime.min.replace(tzinfo=e.ts.tzinfo)):
                    self._last_applied[e.workload] = e.ts
                if e.ts >= window_start:
                    self._applied.setdefault((e.workload, e.ladder), []).append(e)
            elif e.result == Result.SKIPPED and e.reason == SkipCode.NEEDS_HUMAN and e.ts >= window_start:
                self._hands_off.setdefault((e.workload, e.ladder), set()).add(e.action)

    def last_applied(self, workload: ObjectRef) -> datetime | None:
        return self._last_applied.get(str(workload))

    def applied(
        self, workload: ObjectRef, ladder: Ladder, kind: ActionKind | None = None
    ) -> list[HistoryEntry]:
        """Done on this ladder within the window; with `kind`, only that kind of action (one drift)."""
        done = self._applied.get((str(workload), ladder.value), [])
        return done if kind is None else [e for e in done if e.action == kind.value]

    def hands_off(self, workload: ObjectRef, ladder: Ladder, kind: ActionKind | None = None) -> bool:
        handed = self._hands_off.get((str(workload), ladder.value), set())
        return bool(handed) if kind is None else kind.value in handed


# Actions that replace the pod template: Argo CD's automated sync with selfHeal reverts them at once.
# Restarts (the restartedAt annotation is ignored by the Application), evictions and replica changes
# (/spec/replicas is in ignoreDifferences) are left to stand by Argo CD, so they are not refused.
# A canary promotion rewrites the stable Deployment's images: a template rewrite too; a canary step moves the
# traffic-split annotation, which the manifests in Git hold (it is not in the Application's ignoreDifferences).
_TEMPLATE_REWRITES = frozenset(
    {ActionKind.ROLLBACK, ActionKind.RESTORE_TEMPLATE, ActionKind.CANARY_PROMOTE, ActionKind.CANARY_STEP}
)


class _Rails:
    """Rails that depend only on the target object as read in the snapshot."""

    def __init__(self, snapshot: Snapshot, gitops_guard: bool = True):
        self._snapshot = snapshot
        self._gitops_guard = gitops_guard
        self._pods: dict[str, Pod] = {p.metadata.name: p for p in snapshot.pods}

    def _annotations(self, ref: ObjectRef) -> dict[str, str]:
        if ref.kind == "Pod" and ref.name in self._pods:
            return self._pods[ref.name].metadata.annotations
        if ref.kind == "Deployment":
            dep = self._snapshot.deployment(ref.name)
            return dep.metadata.annotations if dep is not None else {}
        return {}

    def check(self, action: PlannedAction) -> Skip | None:
        refs = dict.fromkeys((action.workload, action.target, *(w.target for w in action.writes)))
        for ref in refs:
            flag = ignored(self._annotations(ref))
            if flag.on:
                why = flag.warning if flag.invalid is not None else f'{ANN_IGNORE}: "true"'
                return Skip(action, SkipCode.IGNORED, f"{ref} is annotated {why}")
        if action.action == ActionKind.RESTART_POD:
            pod = self._pods.get(action.target.name)
            if pod is not None:
                skip = self._pod_rail(action, pod)
                if skip is not None:
                    return skip
        tracked = [ref for ref in refs if ANN_ARGOCD_TRACKING in self._annotations(ref)]
        if self._gitops_guard and action.action in _TEMPLATE_REWRITES and tracked:
            return Skip(
                action,
                SkipCode.GITOPS_MANAGED,
                f"{tracked[0]} is tracked by Argo CD, which would put the old template back within "
                "seconds (selfHeal); revert the commit in Git (or promote it there), or "
                "`argocd app rollback` with auto-sync off",
            )
        if (
            action.action in (ActionKind.ROLLBACK, ActionKind.ROLLOUT_RESTART)
            and action.target.kind == "Deployment"
        ):
            dep = self._snapshot.deployment(action.target.name)
            if dep is not None and dep.spec.paused:
                return Skip(
                    action,
                    SkipCode.PAUSED,
                    f"{action.target} is paused; resume it first (kubectl refuses this on a paused Deployment)",
                )
        return None

    @staticmethod
    def _pod_rail(action: PlannedAction, pod: Pod) -> Skip | None:
        ref = pod.metadata.controller_ref()
        if pod.metadata.deletion_timestamp is not None:
            return Skip(action, SkipCode.TERMINATING, f"pod {pod.metadata.name} is already terminating")
        if is_mirror_pod(pod):
            return Skip(
                action,
                SkipCode.STATIC_POD,
                f"pod {pod.metadata.name} is a static (mirror) pod owned by its node",
            )
        if ref is None:
            return Skip(
                action,
                SkipCode.BARE_POD,
                f"pod {pod.metadata.name} has no controller: evicting it would delete it for good",
            )
        if ref.kind == "DaemonSet":
            return Skip(
                action, SkipCode.DAEMONSET_POD, f"pod {pod.metadata.name} belongs to DaemonSet {ref.name}"
            )
        return None


def mass_failure(findings: Sequence[Finding], snapshot: Snapshot, limits: Limits) -> tuple[bool, int, int]:
    """(is mass failure, failing Deployments, all Deployments)."""
    failing = {f.workload.name for f in findings if f.failing and f.workload.kind == "Deployment"}
    total = len(snapshot.deployments)
    return (
        (len(failing) >= limits.mass_failure_min_deployments and len(failing) * 2 > total),
        len(failing),
        total,
    )


def _ladder(
    finding: Finding, action: PlannedAction, history: _History, rails: _Rails
) -> tuple[PlannedAction | None, Skip | None]:
    """The rung to take now: the action itself, its escalation, or a needs_human skip.

    The health ladder is the workload's (restart -> rollback -> human, whatever restarted it); the config,
    replicas and canary ladders are per kind of action, i.e. per drift (a template restore does not make an
    unrelated ConfigMap change "come back")."""
    workload, ladder = action.workload, action.ladder
    kind = None if ladder == Ladder.HEALTH else action.action
    if history.hands_off(workload, ladder, kind):
        return None, Skip(
            action, SkipCode.NEEDS_HUMAN, f"{workload} was handed to a human and has not recovered since"
        )
    applied = history.applied(workload, ladder, kind)
    if not applied or ladder == Ladder.CANARY_PROGRESS:
        return action, None  # canary steps are the plan, not a repair that failed: the cooldown paces them
    done = ", ".join(sorted({e.action for e in applied}))
    if ladder == Ladder.HEALTH:
        if any(e.action == ActionKind.ROLLBACK for e in applied):
            return None, Skip(
                action, SkipCode.NEEDS_HUMAN, f"{done} within the escalation window did not help {workload}"
            )
        if action.action not in _RESTARTS:
            return action, None  # already the next rung (a rollback)
        escalation = finding.escalation
        if escalation is None or escalation.refusal is not None:
            why = (
                escalation.refusal.text
                if escalation is not None and escalation.refusal is not None
                else ("there is no previous revision to roll back to")
            )
            return None, Skip(action, SkipCode.NEEDS_HUMAN, f"{done} did not help {workload}, and {why}")
        skip = rails.check(escalation)
        return (None, skip) if skip is not None else (escalation, None)
    return None, Skip(
        action,
        SkipCode.NEEDS_HUMAN,
        f"{done} within the escalation window, and {action.reason} is back on {workload}",
    )


def _order(action: PlannedAction) -> tuple[int, str, str, int]:
    return (
        -int(action.severity),
        action.workload.name,
        action.target.name,
        _WORKLOAD_PRIORITY.get(action.action, 9),
    )


def _same(a: PlannedAction, b: PlannedAction) -> bool:
    return a.action == b.action and a.target == b.target and a.writes == b.writes


def plan(
    findings: Iterable[Finding],
    snapshot: Snapshot,
    history: Iterable[HistoryEntry],
    limits: Limits,
    now: datetime,
) -> Plan:
    ordered = tuple(sorted(findings, key=Finding.sort_key))
    hist = _History(history, snapshot.namespace, now, limits)
    rails = _Rails(snapshot, limits.gitops_guard)
    is_mass, failing, total = mass_failure(ordered, snapshot, limits)
    skipped: list[Skip] = []
    candidates: list[PlannedAction] = []

    mass_text = (
        f"{failing} of {total} Deployments are failing: likely a node or platform fault, reporting only"
    )
    for finding in ordered:
        for action in finding.actions:
            if action.refusal is not None:
                if is_mass and finding.cause.code == CauseCode.ENVIRONMENT:
                    # the environment that changed is the platform: one diagnosis for the namespace
                    skipped.append(Skip(action, SkipCode.MASS_FAILURE, mass_text))
                else:
                    skipped.append(Skip(action, action.refusal.code, action.refusal.text))
                continue
            skip = rails.check(action)
            if skip is None and is_mass:
                skip = Skip(action, SkipCode.MASS_FAILURE, mass_text)
            if skip is None:
                last = hist.last_applied(action.workload)
                if last is not None and (now - last).total_seconds() < limits.cooldown_seconds:
                    left = int(limits.cooldown_seconds - (now - last).total_seconds())
                    skip = Skip(
                        action,
                        SkipCode.COOLDOWN,
                        f"{action.workload} was acted on at {last.isoformat()}; cooldown ends in {left}s",
                    )
            chosen: PlannedAction | None = action
            if skip is None:
                chosen, skip = _ladder(finding, action, hist, rails)
            if skip is not None:
                if not any(_same(skip.action, s.action) and s.code == skip.code for s in skipped):
                    skipped.append(skip)  # two pods escalating to the same rollback: one line, not two
            elif chosen is not None and not any(_same(chosen, c) for c in candidates):
                candidates.append(chosen)

    winners: dict[ObjectRef, PlannedAction] = {}
    for action in sorted(candidates, key=_order):
        if action.action != ActionKind.RESTART_POD:
            best = winners.get(action.workload)
            if best is None or _WORKLOAD_PRIORITY[action.action] < _WORKLOAD_PRIORITY[best.action]:
                winners[action.workload] = action
    # A failing revision whose rollback a rail blocks (a person paused the rollout, or Git owns the
    # template): evicting its pods would only replace them with the same bad revision, and would throw
    # away the pods someone paused the rollout to look at.
    blocked = {
        s.action.workload: s
        for s in skipped
        if s.action.action == ActionKind.ROLLBACK and s.code in _BLOCKING_ROLLBACK_SKIPS
    }
    approved: list[PlannedAction] = []
    for action in sorted(candidates, key=_order):
        winner = winners.get(action.workload)
        held = blocked.get(action.workload)
        if action.action == ActionKind.RESTART_POD and held is not None:
            skipped.append(
                Skip(
                    action,
                    held.code,
                    f"the rollback of {action.workload} is blocked ({held.code.value}): "
                    "restarting pods of its failing revision would not help",
                )
            )
        elif winner is not None and winner is not action:
            skipped.append(
                Skip(
                    action,
                    SkipCode.SUPERSEDED,
                    f"{winner.action.value} of {winner.target} takes precedence this pass",
                )
            )
        elif len(approved) >= limits.max_actions:
            skipped.append(
                Skip(
                    action,
                    SkipCode.MAX_ACTIONS,
                    f"already {limits.max_actions} actions this pass (max_actions)",
                )
            )
        else:
            approved.append(action)
    skipped.sort(key=lambda s: (*_order(s.action), s.code.value))
    return Plan(findings=ordered, approved=tuple(approved), skipped=tuple(skipped), mass_failure=is_mass)


def log_plan(result: Plan, log: Any) -> None:
    """One structured event per decision (`action.planned`, `action.skipped`); `log` is a structlog logger."""
    for a in result.approved:
        log.info(
            "action.planned",
            action=a.action.value,
            kind=a.target.kind,
            name=a.target.name,
            workload=str(a.workload),
            reason=a.reason,
            detector=a.detector,
            summary=a.summary,
        )
    for s in result.skipped:
        log.info(
            "action.skipped",
            action=s.action.action.value,
            kind=s.action.target.kind,
            name=s.action.target.name,
            workload=str(s.action.workload),
            reason=s.code.value,
            text=s.text,
        )


__all__ = ["Limits", "log_plan", "mass_failure", "plan"]
