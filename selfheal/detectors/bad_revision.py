"""Bad revision: roll back the change that broke things — and only a change.

The current revision (the Deployment's new ReplicaSet, as kubectl finds it) is failing systemically
when more than half of its pods, and at least one, are failing (`selfheal.kube.containers`: crash
loops past the restart threshold whatever the exit — application error, OOMKilled, a command that
ends — and image-pull or container-configuration errors past their grace), or when its rollout passed
`progressDeadlineSeconds` without a single available pod. What happens then depends on when that
revision became current (`selfheal.kube.rollout`):

- a recent change — still rolling out, or current for less than `rollback_window_seconds` (6 h):
  roll back to the previous revision exactly as `kubectl rollout undo` does (second highest
  revision), whatever the cause. This is the bad deploy that passed readiness, completed its rollout,
  and started crash-looping or OOMing minutes later on real traffic. The evidence names the revision,
  when it became current and when the failures began.
- an established revision (current for longer than the window): the same code ran fine for that
  long, so something around it changed — a dependency, a node pool, a quota, a rotated secret. Never
  roll back weeks of releases for that: the finding hands it to a human (`needs_human`) with the cause
  and a hint. Restarts stay where they can help (application errors, the crash-loop detector's
  ladder), and that ladder's rung after restarts is a human, not a rollback.

A single failing pod while its siblings on the same revision run fine is not systemic: that is the
crash-loop detector's restart. A paused Deployment and an Argo CD-tracked one are refused by the
planner (kubectl refuses a paused rollback too; Git must change for Argo CD).

Objects that could not be decoded (`selfheal.detectors.undecodable`): when undecodable pods of the
current ReplicaSet could overturn the count (counted as healthy and as failing, the verdicts differ),
or a ReplicaSet of the Deployment could not be decoded (it may be the current or the previous
revision), the rollback is proposed refused (`undecodable_object`): never a rollback on half a picture.
A rollout past its deadline with no available pod does not depend on the pods, only on the ReplicaSets.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from selfheal.detectors.base import DetectorConfig, not_decoded, pods_in_doubt, propose, unseen_of
from selfheal.findings import ActionKind, Cause, CauseCode, Finding, Ladder, Refusal, Severity, SkipCode
from selfheal.kube import requests
from selfheal.kube.containers import Failure, primary_problem
from selfheal.kube.refs import ref_of
from selfheal.kube.revisions import equal_ignore_hash, previous_revision
from selfheal.kube.rollout import RevisionHealth, revision_health
from selfheal.view import Snapshot

NAME = "bad_revision"

# What an established revision failing in every pod most likely means, by how its containers fail.
ENVIRONMENT_HINTS = {
    Failure.APP_ERROR: "it ran fine until now, so look at what it depends on (a database, a downstream "
    "service, a rotated secret, a full disk) rather than at its code",
    Failure.OOM_KILLED: "raise the memory limit or find the leak",
    Failure.BAD_COMMAND: "its command now ends on its own: look at what it reads at start (config, flags, "
    "a file that is gone)",
    Failure.IMAGE_PULL: "the registry, its credentials, or a deleted tag: the image no longer pulls",
    Failure.CONTAINER_CONFIG: "a ConfigMap or Secret it reads is gone or lost a key",
}


def when(t: datetime | None) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ") if t is not None else "unknown"


def age_text(seconds: float | None) -> str:
    if seconds is None:
        return "of unknown age"
    if seconds >= 2 * 86400:
        return f"{int(seconds // 86400)}-day-old"
    if seconds >= 2 * 3600:
        return f"{int(seconds // 3600)}-hour-old"
    return f"{max(int(seconds // 60), 0)}-minute-old"


def dominant_cause(health: RevisionHealth) -> Failure:
    counts = Counter(primary_problem(f.problems).cause for f in health.failing)
    return counts.most_common(1)[0][0] if counts else Failure.APP_ERROR


def _evidence(health: RevisionHealth, now: datetime) -> list[str]:
    new = health.new
    evidence = [
        f"current ReplicaSet {new.metadata.name} (revision {new.revision()}): "
        f"{len(health.failing)}/{len(health.pods)} pods failing, {new.status.available_replicas} available",
        f"revision {new.revision()} became current at {when(health.became_current)} "
        f"({age_text(health.age_seconds(now))}); failures since {when(health.onset)}",
    ]
    for failing in health.failing[:3]:
        evidence.append(f"pod {failing.pod.metadata.name}: {failing.problems[0].evidence()}")
    progressing = health.deployment.condition("Progressing")
    if health.deadline_exceeded and progressing is not None:
        evidence.append(f"Progressing: {progressing.reason}: {progressing.message}".strip())
    return evidence


def _environment_finding(health: RevisionHealth, now: datetime) -> Finding:
    dep, cause = health.deployment, dominant_cause(health)
    workload = ref_of("Deployment", dep.metadata)
    age = age_text(health.age_seconds(now))
    summary = (
        f"{cause.value} in {len(health.failing)} of {len(health.pods)} pods of a {age} revision "
        f"({health.new.revision()}) of {dep.metadata.name}: {ENVIRONMENT_HINTS[cause]}"
    )
    refusal = Refusal(
        SkipCode.NEEDS_HUMAN,
        f"{summary} (an established revision is not rolled back: the change is elsewhere)",
    )
    action = propose(
        ActionKind.ROLLBACK,
        workload,
        (),
        reason=CauseCode.ENVIRONMENT.value,
        ladder=Ladder.HEALTH,
        detector=NAME,
        severity=Severity.CRITICAL,
        summary=f"roll back {dep.metadata.name}",
        refusal=refusal,
    )
    return Finding(
        NAME,
        workload,
        Severity.CRITICAL,
        Cause(CauseCode.ENVIRONMENT, summary, reason=cause.value),
        tuple(_evidence(health, now)),
        (action,),
        failing=True,
    )


def detect(snapshot: Snapshot, config: DetectorConfig, now: datetime) -> list[Finding]:
    findings: list[Finding] = []
    for dep in snapshot.deployments:
        replicasets = snapshot.replicasets_of(dep)
        health = revision_health(dep, replicasets, snapshot.pods_of_replicaset, config.containers, now)
        if health is None or not (health.systemic or health.never_available):
            continue
        if not health.is_recent_change(now, config.rollback_window_seconds):
            findings.append(_environment_finding(health, now))
            continue
        target = previous_revision(replicasets)
        if target is not None and equal_ignore_hash(target.template_doc(), dep.template_doc()):
            continue  # kubectl: "skipped rollback (current template already matches revision N)"
        code = CauseCode.BAD_REVISION if health.systemic else CauseCode.ROLLOUT_STUCK
        evidence = _evidence(health, now)
        workload = ref_of("Deployment", dep.metadata)
        doubt = unseen_of(snapshot, dep, "ReplicaSet")
        if not health.never_available:
            doubt += pods_in_doubt(snapshot, health)
        if doubt:
            evidence += [f"not decoded: {p.line}" for p in doubt[:3]]
            action = propose(
                ActionKind.ROLLBACK,
                workload,
                (),
                reason=code.value,
                ladder=Ladder.HEALTH,
                detector=NAME,
                severity=Severity.CRITICAL,
                summary=f"roll back {dep.metadata.name}",
                refusal=Refusal(
                    SkipCode.UNDECODABLE_OBJECT,
                    f"{not_decoded(doubt)} could not be decoded: which revision is failing, or which one "
                    "to roll back to, is not certain",
                ),
            )
        elif target is None:
            action = propose(
                ActionKind.ROLLBACK,
                workload,
                (),
                reason=code.value,
                ladder=Ladder.HEALTH,
                detector=NAME,
                severity=Severity.CRITICAL,
                summary=f"roll back {dep.metadata.name}",
                refusal=Refusal(SkipCode.NO_PREVIOUS_REVISION, "no older revision to roll back to"),
            )
        else:
            evidence.append(
                f"previous ReplicaSet {target.metadata.name} (revision {target.revision()}): "
                f"{target.status.available_replicas} available"
            )
            action = propose(
                ActionKind.ROLLBACK,
                workload,
                (requests.rollback(dep, target),),
                reason=code.value,
                ladder=Ladder.HEALTH,
                detector=NAME,
                severity=Severity.CRITICAL,
                summary=f"roll back {dep.metadata.name} to revision {target.revision()}",
            )
        revision = health.new.revision()
        summary = (
            f"newest revision {revision} of {dep.metadata.name} is failing"
            if health.systemic
            else f"newest revision {revision} of {dep.metadata.name} never became available"
        )
        findings.append(
            Finding(
                detector=NAME,
                workload=workload,
                severity=Severity.CRITICAL,
                cause=Cause(code, summary),
                evidence=tuple(evidence),
                actions=(action,),
                failing=True,
            )
        )
    return findings
