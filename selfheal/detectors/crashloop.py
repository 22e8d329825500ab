"""Crash loops: containers (init containers too) waiting in CrashLoopBackOff past the restart threshold.

One finding per pod. The proposed action is a restart (eviction) when a restart can help
(application error); for OOMKilled, Completed (bad command), image-pull and container-configuration
failures the restart is proposed *refused*, so the report says why nothing was done (a new revision
that fails this way is the bad-revision detector's rollback). The finding's escalation is the
rollback `kubectl rollout undo` would do, for the planner's ladder: restart -> rollback -> needs_human —
when the current revision is a recent change (rolling out, or current for less than the rollback
window). An established revision is never rolled back, whether most of its pods fail (its environment
changed) or one (a restart case: a pod that restarts do not cure goes to a human): the ladder is then
restart -> needs_human.

Objects that could not be decoded (`selfheal.detectors.undecodable`): a pod whose ReplicaSet, or that
ReplicaSet's Deployment, could not be decoded has an owner the job cannot see; its restart is proposed
refused (`undecodable_object`). When undecodable pods or ReplicaSets leave the revision's verdict in
doubt, the ladder has no rollback rung (restart -> needs_human), as for an established revision.
"""

from __future__ import annotations

from datetime import datetime

from selfheal.detectors.base import (
    DetectorConfig,
    not_decoded,
    propose,
    rollback_rung,
)
from selfheal.findings import (
    ActionKind,
    Cause,
    CauseCode,
    Finding,
    Ladder,
    PlannedAction,
    Refusal,
    Severity,
    SkipCode,
)
from selfheal.kube import requests
from selfheal.kube.containers import WHY_RESTART_DOES_NOT_HELP, container_problems, primary_problem
from selfheal.kube.refs import ref_of
from selfheal.view import Snapshot

NAME = "crashloop"


def detect(snapshot: Snapshot, config: DetectorConfig, now: datetime) -> list[Finding]:
    findings: list[Finding] = []
    rungs: dict[str, PlannedAction | None] = {}  # Deployment uid -> the ladder's rollback rung
    for pod in snapshot.pods:
        problems = container_problems(pod, config.containers, now)
        if not problems:
            continue
        main = primary_problem(problems)
        workload = snapshot.workload_of(pod)
        pod_ref = ref_of("Pod", pod.metadata)
        cause = Cause(
            CauseCode(main.cause),
            main.evidence(),
            main.container,
            main.last_reason or main.waiting_reason,
            main.exit_code,
        )
        refusal = None
        unknown = snapshot.owner_unknown(pod)
        if not main.restart_helps:
            refusal = Refusal(SkipCode.RESTART_NOT_HELPFUL, WHY_RESTART_DOES_NOT_HELP[main.cause])
        elif unknown is not None:
            refusal = Refusal(
                SkipCode.UNDECODABLE_OBJECT,
                f"the owner of pod {pod.metadata.name} cannot be seen: {not_decoded((unknown,))} "
                "could not be decoded; a pod whose owner is unknown is not touched",
            )
        restart = propose(
            ActionKind.RESTART_POD,
            workload,
            (requests.eviction(pod),),
            target=pod_ref,
            reason=main.cause.value,
            ladder=Ladder.HEALTH,
            detector=NAME,
            severity=Severity.CRITICAL,
            refusal=refusal,
            summary=f"restart pod {pod.metadata.name} ({main.cause.value} in {main.container})",
        )
        dep = snapshot.deployment_of(pod)
        escalation = None
        if dep is not None and refusal is None:
            if dep.metadata.uid not in rungs:
                rungs[dep.metadata.uid] = rollback_rung(snapshot, dep, config, now, detector=NAME)
            escalation = rungs[dep.metadata.uid]
        findings.append(
            Finding(
                detector=NAME,
                workload=workload,
                severity=Severity.CRITICAL,
                cause=cause,
                evidence=tuple(p.evidence() for p in problems),
                actions=(restart,),
                escalation=escalation,
                failing=True,
                subject=pod_ref,
            )
        )
    return findings
