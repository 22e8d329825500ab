"""Bad revision: the Deployment's newest ReplicaSet fails systemically while an older revision ran.

Rollback when the new ReplicaSet (kubectl's: template equal to the Deployment's, ignoring
`pod-template-hash`)
- has most of its pods failing (more than half; see `pods.container_problems`), or
- never became available: `Progressing` is `ProgressDeadlineExceeded` and it has no available pod,
and the rollout is not complete (complete = `Progressing` reason `NewReplicaSetAvailable` and no
older ReplicaSet still has pods). A failure in a long-complete revision is a restart case for the
crash-loop detector, not a rollback. The rollback is `kubectl rollout undo`'s (second highest
revision). A paused Deployment is refused by the planner (kubectl refuses it too).
"""

from __future__ import annotations

from datetime import datetime

from selfheal.detectors.base import DetectorConfig, propose
from selfheal.findings import ActionKind, Cause, CauseCode, Finding, Ladder, Refusal, Severity, SkipCode
from selfheal.kube import requests
from selfheal.kube.containers import container_problems
from selfheal.kube.model import Deployment, ReplicaSet
from selfheal.kube.refs import ref_of
from selfheal.kube.revisions import equal_ignore_hash, new_replicaset, previous_revision
from selfheal.view import Snapshot

NAME = "bad_revision"


def rollout_complete(dep: Deployment, new: ReplicaSet, replicasets: tuple[ReplicaSet, ...]) -> bool:
    progressing = dep.condition("Progressing")
    others_have_pods = any(rs.status.replicas > 0 for rs in replicasets if rs.metadata.uid != new.metadata.uid)
    return progressing is not None and progressing.reason == "NewReplicaSetAvailable" and not others_have_pods


def detect(snapshot: Snapshot, config: DetectorConfig, now: datetime) -> list[Finding]:
    findings: list[Finding] = []
    for dep in snapshot.deployments:
        replicasets = snapshot.replicasets_of(dep)
        new = new_replicaset(dep, replicasets)
        if new is None or rollout_complete(dep, new, replicasets):
            continue
        pods = snapshot.pods_of_replicaset(new)
        failing = [p for p in pods if container_problems(p, config.containers, now)]
        progressing = dep.condition("Progressing")
        deadline = progressing is not None and progressing.reason == "ProgressDeadlineExceeded"
        systemic = bool(pods) and len(failing) * 2 > len(pods)
        never_available = deadline and new.status.available_replicas == 0
        if not (systemic or never_available):
            continue
        target = previous_revision(replicasets)
        if target is not None and equal_ignore_hash(target.template_doc(), dep.template_doc()):
            continue  # kubectl: "skipped rollback (current template already matches revision N)"
        code = CauseCode.BAD_REVISION if systemic else CauseCode.ROLLOUT_STUCK
        evidence = [f"new ReplicaSet {new.metadata.name} (revision {new.revision()}): "
                    f"{len(failing)}/{len(pods)} pods failing, {new.status.available_replicas} available"]
        for pod in failing[:3]:
            problem = container_problems(pod, config.containers, now)[0]
            evidence.append(f"pod {pod.metadata.name}: {problem.evidence()}")
        if deadline and progressing is not None:
            evidence.append(f"Progressing: {progressing.reason}: {progressing.message}".strip())
        workload = ref_of("Deployment", dep.metadata)
        if target is None:
            action = propose(ActionKind.ROLLBACK, workload, (), reason=code.value, ladder=Ladder.HEALTH,
                             detector=NAME, severity=Severity.CRITICAL, summary=f"roll back {dep.metadata.name}",
                             refusal=Refusal(SkipCode.NO_PREVIOUS_REVISION, "no older revision to roll back to"))
        else:
            evidence.append(f"previous ReplicaSet {target.metadata.name} (revision {target.revision()}): "
                            f"{target.status.available_replicas} available")
            action = propose(ActionKind.ROLLBACK, workload, (requests.rollback(dep, target),), reason=code.value,
                             ladder=Ladder.HEALTH, detector=NAME, severity=Severity.CRITICAL,
                             summary=f"roll back {dep.metadata.name} to revision {target.revision()}")
        summary = (f"newest revision {new.revision()} of {dep.metadata.name} is failing" if systemic
                   else f"newest revision {new.revision()} of {dep.metadata.name} never became available")
        findings.append(Finding(
            detector=NAME, workload=workload, severity=Severity.CRITICAL, cause=Cause(code, summary),
            evidence=tuple(evidence), actions=(action,), failing=True))
    return findings
