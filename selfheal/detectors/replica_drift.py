"""Replica drift (spec.replicas vs the recorded desired count) and availability drift.

Desired replicas come from the annotation `selfheal.dev/desired-replicas`, else from
`spec.replicas` in `kubectl.kubernetes.io/last-applied-configuration` (absent there: no opinion),
read strictly by `selfheal.kube.annotations.desired_replicas`: decimal ASCII digits, at most the
HPA's maxReplicas, else at most `DESIRED_REPLICAS_CAP` (1000). A value that fails that is a finding
`invalid_annotation` quoting it (`selfheal.dev/desired-replicas="1_000": not a decimal integer`) with the
scale refused — never a scale, with or without an HPA.

When an HPA targets the Deployment, the HPA owns the replica count: the only drift is
`spec.replicas` outside `[minReplicas, maxReplicas]`, corrected to the nearest bound (never fight
the autoscaler). `spec.replicas: 0` under an HPA is the documented way to switch autoscaling off,
so it is left alone. An HPA that could not be decoded and targets the Deployment (or whose target
cannot be read) may own the count: the scale is refused (`undecodable_object`).

The canary of a canary pair (`<name>-canary` beside `<name>` with a traffic split) has no replica
drift: its replicas follow the canary gate (scaled to 0 by an abort, stepped with the split), so a
recorded count (last-applied's 1) must not bring an aborted canary back.

Availability drift: `availableReplicas < spec.replicas` for longer than `progressDeadlineSeconds`,
no rollout in progress, and no pod explained by another detector (crash loop, image pull, config
error) -> a rolling restart, as `kubectl rollout restart` does it. With pods or ReplicaSets of the
Deployment that could not be decoded, one of those may be the explanation: the restart is refused.
"""

from __future__ import annotations

from datetime import datetime

from selfheal.detectors.base import DetectorConfig, not_decoded, propose, rollback_rung, unseen_of
from selfheal.findings import ActionKind, Cause, CauseCode, Finding, Ladder, Refusal, Severity, SkipCode
from selfheal.kube import requests
from selfheal.kube.annotations import Invalid, desired_replicas
from selfheal.kube.containers import waiting_on_failure
from selfheal.kube.model import ANN_DESIRED_REPLICAS, Deployment, HorizontalPodAutoscaler
from selfheal.kube.refs import ObjectRef, ref_of
from selfheal.view import Snapshot

NAME = "replica_drift"


def _refused_scale(dep: Deployment, workload: ObjectRef, cause: CauseCode, refusal: Refusal) -> Finding:
    action = propose(
        ActionKind.SCALE,
        workload,
        (),
        reason=cause.value,
        ladder=Ladder.REPLICAS,
        detector=NAME,
        severity=Severity.WARNING,
        summary=f"scale {dep.metadata.name}",
        refusal=refusal,
    )
    return Finding(NAME, workload, Severity.WARNING, Cause(cause, refusal.text), (refusal.text,), (action,))


def _hpa_finding(dep: Deployment, hpa: HorizontalPodAutoscaler) -> Finding | None:
    workload = ref_of("Deployment", dep.metadata)
    current = dep.spec.replicas
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
        (
            summary,
            f"HPA {hpa.metadata.name} wants {hpa.status.desired_replicas}"
            if hpa.status.desired_replicas
            else f"HPA {hpa.metadata.name} has no desired count yet (its metrics are not available)",
        ),
        (action,),
    )


def _replica_findings(snapshot: Snapshot, dep: Deployment) -> list[Finding]:
    workload = ref_of("Deployment", dep.metadata)
    current = dep.spec.replicas
    hpa = snapshot.hpa_for(dep)
    desired = desired_replicas(dep, hpa)
    findings: list[Finding] = []
    if isinstance(desired, Invalid):
        refusal = Refusal(SkipCode.INVALID_ANNOTATION, str(desired))
        findings.append(_refused_scale(dep, workload, CauseCode.INVALID_ANNOTATION, refusal))
    if hpa is not None:
        clamp = _hpa_finding(dep, hpa)
        return findings + ([clamp] if clamp is not None else [])
    if desired is None or isinstance(desired, Invalid) or desired == current:
        return findings
    source = (
        ANN_DESIRED_REPLICAS
        if ANN_DESIRED_REPLICAS in dep.metadata.annotations
        else "last-applied-configuration"
    )
    summary = f"spec.replicas is {current}, desired {desired} ({source})"
    hpas = unseen_of(snapshot, dep, "HorizontalPodAutoscaler")
    if hpas:
        text = f"{summary}, but {not_decoded(hpas)} could not be decoded: an HPA may own the replica count"
        refusal = Refusal(SkipCode.UNDECODABLE_OBJECT, text)
        return [*findings, _refused_scale(dep, workload, CauseCode.REPLICA_DRIFT, refusal)]
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
    return [
        *findings,
        Finding(
            NAME, workload, Severity.WARNING, Cause(CauseCode.REPLICA_DRIFT, summary), (summary,), (action,)
        ),
    ]


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


def _availability_finding(
    snapshot: Snapshot, dep: Deployment, config: DetectorConfig, now: datetime
) -> Finding | None:
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
    unseen = unseen_of(snapshot, dep, "Pod", "ReplicaSet")
    refusal = None
    if unseen:
        refusal = Refusal(
            SkipCode.UNDECODABLE_OBJECT,
            f"{not_decoded(unseen)} could not be decoded: a pod not seen may be failing for a reason "
            "a restart does not fix",
        )
    action = propose(
        ActionKind.ROLLOUT_RESTART,
        workload,
        () if unseen else (requests.rollout_restart(dep, now),),
        reason=CauseCode.UNAVAILABLE.value,
        ladder=Ladder.HEALTH,
        detector=NAME,
        severity=Severity.CRITICAL,
        summary=f"rolling restart of {dep.metadata.name}",
        refusal=refusal,
    )
    return Finding(
        NAME,
        workload,
        Severity.CRITICAL,
        Cause(CauseCode.UNAVAILABLE, summary),
        evidence,
        (action,),
        escalation=None if unseen else rollback_rung(snapshot, dep, config, now, detector=NAME),
        failing=True,
    )


def detect(snapshot: Snapshot, config: DetectorConfig, now: datetime) -> list[Finding]:
    findings: list[Finding] = []
    canaries = {c.metadata.uid for _, c in snapshot.canary_pairs()}
    for dep in snapshot.deployments:
        if dep.metadata.uid not in canaries:  # a canary's replicas follow its gate (detectors/canary.py)
            findings += _replica_findings(snapshot, dep)
        availability = _availability_finding(snapshot, dep, config, now)
        if availability is not None:
            findings.append(availability)
    return findings
