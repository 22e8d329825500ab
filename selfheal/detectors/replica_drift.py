"""Replica drift (spec.replicas vs the recorded desired count) and availability drift.

Desired replicas come from the annotation `selfheal.dev/desired-replicas`, else from
`spec.replicas` in `kubectl.kubernetes.io/last-applied-configuration` (absent there: no opinion).
When an HPA targets the Deployment, the HPA owns the replica count: the only drift is
`spec.replicas` outside `[minReplicas, maxReplicas]`, corrected to the nearest bound (never fight
the autoscaler). `spec.replicas: 0` under an HPA is the documented way to switch autoscaling off,
so it is left alone.

Availability drift: `availableReplicas < spec.replicas` for longer than `progressDeadlineSeconds`,
no rollout in progress, and no pod explained by another detector (crash loop, image pull, config
error) -> a rolling restart, as `kubectl rollout restart` does it.
"""

from __future__ import annotations

import json
from datetime import datetime

from selfheal.detectors.base import DetectorConfig, propose, rollback_to_previous
from selfheal.findings import ActionKind, Cause, CauseCode, Finding, Ladder, Refusal, Severity, SkipCode
from selfheal.kube import requests
from selfheal.kube.containers import waiting_on_failure
from selfheal.kube.model import ANN_DESIRED_REPLICAS, ANN_LAST_APPLIED, Deployment
from selfheal.kube.refs import ref_of
from selfheal.view import Snapshot

NAME = "replica_drift"


class InvalidDesired(ValueError):
    pass


def desired_replicas(dep: Deployment) -> int | None:
    """The recorded desired count; None when nothing is recorded. Raises InvalidDesired for a bad annotation."""
    raw = dep.metadata.annotations.get(ANN_DESIRED_REPLICAS)
    if raw is not None:
        try:
            value = int(raw.strip())
        except ValueError:
            raise InvalidDesired(f"{ANN_DESIRED_REPLICAS}={raw!r} is not an integer") from None
        if value < 0:
            raise InvalidDesired(f"{ANN_DESIRED_REPLICAS}={raw!r} is negative")
        return value
    try:
        applied = json.loads(dep.metadata.annotations.get(ANN_LAST_APPLIED, ""))
    except ValueError:
        return None
    spec = applied.get("spec") if isinstance(applied, dict) else None
    replicas = spec.get("replicas") if isinstance(spec, dict) else None
    return (
        replicas if isinstance(replicas, int) and not isinstance(replicas, bool) and replicas >= 0 else None
    )


def _replica_finding(snapshot: Snapshot, dep: Deployment) -> Finding | None:
    workload = ref_of("Deployment", dep.metadata)
    current = dep.spec.replicas
    hpa = snapshot.hpa_for(dep)
    if hpa is not None:
        lo, hi = hpa.spec.min_replicas, hpa.spec.max_replicas
        if hi < lo or hi < 1 or current == 0:
            # An invalid HPA is the API server's to reject; replicas 0 is how a user switches the HPA
            # off (it reports ScalingDisabled), a deliberate choice we must not undo.
            return None
        target = lo if current < lo else hi if current > hi else current
        if target == current:
            return None
        summary = f"spec.replicas {current} is outside HPA {hpa.metadata.name} bounds [{lo}, {hi}]"
        action = propose(
            ActionKind.SCALE,
            workload,
            (requests.replicas(dep, target),),
            reason=CauseCode.HPA_CLAMP.value,
            ladder=Ladder.REPLICAS,
            detector=NAME,
            severity=Severity.WARNING,
            summary=f"scale {dep.metadata.name} to {target} (HPA bound)",
        )
        return Finding(
            NAME,
            workload,
            Severity.WARNING,
            Cause(CauseCode.HPA_CLAMP, summary),
            (summary, f"HPA {hpa.metadata.name} wants {hpa.status.desired_replicas}"),
            (action,),
        )
    try:
        desired = desired_replicas(dep)
    except InvalidDesired as exc:
        action = propose(
            ActionKind.SCALE,
            workload,
            (),
            reason=CauseCode.INVALID_ANNOTATION.value,
            ladder=Ladder.REPLICAS,
            detector=NAME,
            severity=Severity.WARNING,
            summary=f"scale {dep.metadata.name}",
            refusal=Refusal(SkipCode.INVALID_ANNOTATION, str(exc)),
        )
        return Finding(
            NAME,
            workload,
            Severity.WARNING,
            Cause(CauseCode.INVALID_ANNOTATION, str(exc)),
            (str(exc),),
            (action,),
        )
    if desired is None or desired == current:
        return None
    source = (
        ANN_DESIRED_REPLICAS
        if ANN_DESIRED_REPLICAS in dep.metadata.annotations
        else "last-applied-configuration"
    )
    summary = f"spec.replicas is {current}, desired {desired} ({source})"
    action = propose(
        ActionKind.SCALE,
        workload,
        (requests.replicas(dep, desired),),
        reason=CauseCode.REPLICA_DRIFT.value,
        ladder=Ladder.REPLICAS,
        detector=NAME,
        severity=Severity.WARNING,
        summary=f"scale {dep.metadata.name} to {desired}",
    )
    return Finding(
        NAME, workload, Severity.WARNING, Cause(CauseCode.REPLICA_DRIFT, summary), (summary,), (action,)
    )


def _rollout_in_progress(dep: Deployment) -> bool:
    progressing = dep.condition("Progressing")
    return (
        dep.status.observed_generation < dep.metadata.generation
        or dep.status.updated_replicas < dep.spec.replicas
        or (
            progressing is not None
            and progressing.reason in ("ReplicaSetUpdated", "ProgressDeadlineExceeded")
        )
    )


def _availability_finding(snapshot: Snapshot, dep: Deployment, now: datetime) -> Finding | None:
    replicas, available = dep.spec.replicas, dep.status.available_replicas
    if dep.spec.paused or replicas == 0 or available >= replicas or _rollout_in_progress(dep):
        return None
    pods = [p for p in snapshot.pods_of(dep) if p.metadata.deletion_timestamp is None]
    if any(waiting_on_failure(p) for p in pods):
        return None  # explained by the crash-loop / bad-revision detectors
    since: list[datetime] = []
    for pod in pods:
        ready = pod.condition("Ready")
        if ready is None or ready.status != "True":
            moment = (
                ready.last_transition_time if ready is not None else None
            ) or pod.metadata.creation_timestamp
            if moment is not None:
                since.append(moment)
    available_cond = dep.condition("Available")
    if (
        available_cond is not None
        and available_cond.status == "False"
        and available_cond.last_transition_time
    ):
        since.append(available_cond.last_transition_time)
    if not since:
        return None
    waited = (now - min(since)).total_seconds()
    if waited < dep.spec.progress_deadline_seconds:
        return None
    workload = ref_of("Deployment", dep.metadata)
    summary = (
        f"{available}/{replicas} replicas available for {int(waited)}s "
        f"(progressDeadlineSeconds {dep.spec.progress_deadline_seconds})"
    )
    not_ready = [p.metadata.name for p in pods if (c := p.condition("Ready")) is None or c.status != "True"]
    evidence = (summary, f"not ready: {', '.join(sorted(not_ready)[:5]) or 'no pods'}")
    action = propose(
        ActionKind.ROLLOUT_RESTART,
        workload,
        (requests.rollout_restart(dep, now),),
        reason=CauseCode.UNAVAILABLE.value,
        ladder=Ladder.HEALTH,
        detector=NAME,
        severity=Severity.CRITICAL,
        summary=f"rolling restart of {dep.metadata.name}",
    )
    return Finding(
        NAME,
        workload,
        Severity.CRITICAL,
        Cause(CauseCode.UNAVAILABLE, summary),
        evidence,
        (action,),
        escalation=rollback_to_previous(snapshot, dep, detector=NAME),
        failing=True,
    )


def detect(snapshot: Snapshot, config: DetectorConfig, now: datetime) -> list[Finding]:
    findings: list[Finding] = []
    for dep in snapshot.deployments:
        for finding in (_replica_finding(snapshot, dep), _availability_finding(snapshot, dep, now)):
            if finding is not None:
                findings.append(finding)
    return findings
