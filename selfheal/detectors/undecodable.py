"""Objects the API returned that could not be decoded: reported, never acted on, never taken for healthy.

One bad object never stops the pass: the reader leaves it out of the snapshot and lists it in
`Snapshot.problems`, and every other object is judged and healed. This detector turns each problem into
one finding (`undecodable_object`, warning) whose evidence names the object and the field, e.g.
`pods page 2: item 3 (web-7d9f-abc): status.containerStatuses[0].restartCount: Expected int, got str`.
It proposes nothing: there is nothing to act on that the job can read.

What an object that is not seen means for the decisions about the others (the view ties a problem to
the Deployment it may belong to: by its readable owner chain, an HPA's readable target, else its labels
against the Deployments' selectors, else any Deployment):

- mass failure: the finding of an undecodable pod, ReplicaSet or Deployment is `failing` and belongs to
  its Deployment when the owner chain can be read. Unknown counts as failing: it can only make the
  mass-failure rail hold the job back, never let it act where it would otherwise have stopped.
- "more than half of the current revision's pods are failing": the undecodable pods that may belong to
  the current ReplicaSet are counted both as healthy and as failing; when the two verdicts differ, or
  a ReplicaSet of the Deployment could not be decoded (the current or the previous revision may be the
  one not seen), the verdict is in doubt: `bad_revision` proposes its rollback refused
  (`undecodable_object`), and the crash-loop ladder has no rollback rung for that Deployment (restart,
  then a human). A verdict that holds whichever way the unseen pods go is acted on as usual.
- availability drift: a Deployment with an undecodable pod or ReplicaSet gets no rolling restart (the
  pods not seen may be failing for a reason a restart does not fix): refused `undecodable_object`.
- replica drift: an undecodable HPA that targets the Deployment (or whose target cannot be read) may
  own its replica count: the scale is refused `undecodable_object`.
- ConfigMap drift: a referenced ConfigMap that could not be decoded is not "missing", its content is
  unknown: the checksum restart is refused `undecodable_object`.
- a Deployment that could not be decoded is simply not acted on (no detector sees it). Its ReplicaSets'
  pods have a controller, so they are not bare pods; the crash-loop detector proposes their restart
  refused (`undecodable_object`) — any pod whose ReplicaSet, or that ReplicaSet's Deployment, could not
  be decoded (`Snapshot.owner_unknown`) is left alone, and its findings are keyed on the Deployment its
  chain names (`Snapshot.workload_of`).
- PodDisruptionBudgets are not read by any detector (the Eviction API enforces them); an undecodable one
  is reported only.
"""

from __future__ import annotations

from datetime import datetime

from selfheal.detectors.base import DetectorConfig
from selfheal.findings import Cause, CauseCode, Finding, Severity
from selfheal.kube.refs import ObjectRef
from selfheal.view import Snapshot

NAME = "undecodable"

# Kinds whose state is the workload's health: not seeing one must not make the workload look healthy.
_HEALTH_KINDS = frozenset({"Pod", "ReplicaSet", "Deployment"})


def detect(snapshot: Snapshot, config: DetectorConfig, now: datetime) -> list[Finding]:
    findings: list[Finding] = []
    for problem in snapshot.problems:
        workload = snapshot.workload_of_problem(problem)
        subject = ObjectRef(problem.kind, problem.name, snapshot.namespace, problem.uid)
        summary = (
            f"{problem.kind} {problem.name} could not be decoded ({problem.path}: {problem.problem}); "
            "left out of this pass"
        )
        findings.append(
            Finding(
                NAME,
                workload,
                Severity.WARNING,
                Cause(CauseCode.UNDECODABLE_OBJECT, summary),
                (problem.line,),
                failing=problem.kind in _HEALTH_KINDS,
                subject=subject if subject != workload else None,
            )
        )
    return findings
