"""Canary health: `<name>-canary` next to `<name>`, one of them annotated `rollout.argoproj.io/traffic-split`.

The verdict comes from counts, not a ratio (`selfheal.canary_gate`): the canary's requests and 5xx errors
over the window are a binomial sample with a Wilson score interval (95 % by default), compared with the
threshold (5 %) and, by a two-proportion z-test, with the stable's own counts.

- fail (the interval above the threshold, or significantly worse than stable while above the SLO's
  error budget) -> `canary_abort` (critical), the evidence quoting N, errors, the interval and stable's
  ratio;
- inconclusive (fewer than `canary_min_requests` requests, an interval straddling the threshold, or too
  few errors expected to tell it from stable) -> finding `canary_inconclusive`, no action: "not enough
  traffic to judge (N requests, X errors, 95 % interval a-b %)";
- no Prometheus, a failed query, or no requests in the window -> finding `canary_unknown`, no action;
- healthy: `canary_baking` until `canary_bake_seconds` have passed since the current step began; then
  `canary_healthy`, and when auto-promotion is allowed one step per pass along `canary_steps`
  (`canary_step`), and at 100 % `canary_promote`.
A canary with 0 replicas is inactive: nothing to report (so an aborted canary stays quiet).

Auto-promotion is allowed by `selfheal.dev/canary-auto-promote` on the stable Deployment ("true"/"false",
read by `selfheal.kube.annotations.flag`; any other value is read as "false" and said so), else by
`canary_auto_promote` (SELFHEAL_CANARY_AUTO_PROMOTE).

Without Argo Rollouts, the actions are made concrete on plain Deployments, each write with its inverse
(`selfheal.kube.requests`): the split annotation (what a mesh or ingress routes by, and what
`canary_traffic_percentage` reports) and the replicas, which split the traffic of a Service selecting
both tracks. A step to p % sets canary = round(total * p/100) (half up, at least 1) of total = stable +
canary replicas and gives the stable the rest; a Deployment an HPA targets keeps its replicas (the HPA
owns them: writing them would fight it, and 0 would switch it off), so there only the other one moves.
The job records each step on the annotated Deployment (`selfheal.dev/canary-step`: the share it set, when,
and what it found before its first step), in the same write as the split. An abort or a promotion after
steps puts back what the steps changed (the stable's replicas, `selfheal.dev/desired-replicas`).

The bake time applies per step. Kubernetes records no time for an annotation change, so the bake starts
at the later of (a) the creation of the canary's current ReplicaSet (a new canary version starts over)
and (b) the `at` of the job's step record, when that record names the current split. A record naming
another split, newer than that ReplicaSet, means someone moved the split after the job's last step, at a
time nobody recorded: the job does not step on (the finding says so; removing the record makes (a) the
bake start). A split moved by hand without any record of the job's is timed from (a) alone.

The split is read strictly (`selfheal.kube.annotations.parse_traffic_split`: exactly integer `canary`
and `stable` in 0..100 summing to 100). An invalid one is a finding `traffic_split_invalid` quoting the
value (active or not), and the pair gets no action at all: every action rewrites the split and would
record the bad value as its inverse, so a human fixes the annotation first. When the gate says "fail" the
finding is critical and carries the abort, refused (`invalid_annotation`).
"""

from __future__ import annotations

from datetime import datetime

from selfheal.canary_gate import Gate, Judgement, Sample, Verdict, judge, next_step, step_replicas
from selfheal.detectors.base import DetectorConfig, propose
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
from selfheal.kube.annotations import (
    ANN_CANARY_AUTO_PROMOTE,
    ANN_CANARY_STEP,
    CanaryStep,
    Invalid,
    TrafficSplit,
    canary_step,
    flag,
    split_holder,
    traffic_split,
)
from selfheal.kube.model import ANN_TRAFFIC_SPLIT, Deployment
from selfheal.kube.refs import ref_of
from selfheal.kube.requests import rfc3339
from selfheal.kube.revisions import new_replicaset
from selfheal.view import Snapshot, SourceState

NAME = "canary"


def annotated(stable: Deployment, canary: Deployment) -> Deployment:
    return split_holder(stable, canary)


def gate_of(config: DetectorConfig) -> Gate:
    return Gate(
        threshold=config.canary_error_threshold,
        confidence=config.canary_confidence,
        min_requests=config.canary_min_requests,
        slo_error_ratio=config.canary_slo_error_ratio,
    )


def measure(snapshot: Snapshot, stable: Deployment, canary: Deployment, gate: Gate) -> Judgement | str:
    """The gate's judgement of the canary, or why there is none (Prometheus unavailable, no requests)."""
    signals = snapshot.canary
    if signals.state != SourceState.AVAILABLE:
        return f"prometheus {signals.state.value}: {signals.detail}"
    counts = signals.counts.get(canary.metadata.name)
    sample = Sample.of(counts.requests, counts.errors) if counts is not None else None
    if sample is None or sample.requests == 0:
        return "no requests in the query window"
    base = signals.counts.get(stable.metadata.name)
    return judge(sample, Sample.of(base.requests, base.errors) if base is not None else None, gate)


def _invalid_split_finding(
    canary: Deployment, holder: Deployment, split: Invalid, measured: Judgement | str
) -> Finding:
    workload = ref_of("Deployment", canary.metadata)
    name = canary.metadata.name
    evidence = [f"{split} (on {holder.metadata.name})"]
    if isinstance(measured, Judgement):
        evidence += measured.evidence
    erroring = (
        isinstance(measured, Judgement) and measured.verdict is Verdict.FAIL and canary.spec.replicas > 0
    )
    proposed: tuple[PlannedAction, ...] = ()
    if erroring:
        proposed = (
            propose(
                ActionKind.CANARY_ABORT,
                workload,
                (),
                reason=CauseCode.TRAFFIC_SPLIT_INVALID.value,
                ladder=Ladder.CANARY,
                detector=NAME,
                severity=Severity.CRITICAL,
                summary=f"abort canary {name}",
                refusal=Refusal(
                    SkipCode.INVALID_ANNOTATION,
                    f"{split}: an abort rewrites the split and would record this value as its inverse; "
                    "fix the annotation first",
                ),
            ),
        )
    return Finding(
        NAME,
        workload,
        Severity.CRITICAL if erroring else Severity.WARNING,
        Cause(CauseCode.TRAFFIC_SPLIT_INVALID, f"canary {name}: {split}"),
        tuple(evidence),
        proposed,
        failing=erroring,
    )


def _auto_promote(stable: Deployment, config: DetectorConfig) -> tuple[bool, str]:
    """Whether the pair may progress on its own, and what says so."""
    raw = stable.metadata.annotations.get(ANN_CANARY_AUTO_PROMOTE)
    switch = flag(stable.metadata.annotations, ANN_CANARY_AUTO_PROMOTE)
    if switch.invalid is not None:
        return False, f'{switch.invalid}; read as "false" (no automatic progression)'
    if raw is not None:
        return switch.on, f'{ANN_CANARY_AUTO_PROMOTE}: "{raw}" on {stable.metadata.name}'
    return config.canary_auto_promote, (
        f"SELFHEAL_CANARY_AUTO_PROMOTE={'true' if config.canary_auto_promote else 'false'}"
    )


def _step_record(
    snapshot: Snapshot, canary: Deployment, holder: Deployment, split: TrafficSplit
) -> tuple[datetime | None, CanaryStep | None, str]:
    """(when the current step began, or None when nobody can tell; the job's record of it, if current;
    what the time is)."""
    rs = new_replicaset(canary, snapshot.replicasets_of(canary))
    released = (
        rs.metadata.creation_timestamp if rs is not None else None
    ) or canary.metadata.creation_timestamp
    what = f"ReplicaSet {rs.metadata.name} created" if rs is not None else "canary created"
    record = canary_step(holder)
    if isinstance(record, Invalid):
        return None, None, f"{record}: the job cannot tell when the split last changed"
    if record is None or (released is not None and record.at < released and record.canary != split.canary):
        return released, None, what  # no record, or one of an earlier canary version
    if record.canary != split.canary:
        return (
            None,
            None,
            f"the split is {split.canary} % but the job's last step ({ANN_CANARY_STEP}) set "
            f"{record.canary} % at {rfc3339(record.at)}: it was moved since, at a time nobody recorded; "
            f"no step until the annotation {ANN_CANARY_STEP} is removed (then the bake runs from the "
            "canary's ReplicaSet)",
        )
    if released is None or record.at >= released:
        return record.at, record, f"split set to {record.canary} % by the job"
    return released, record, what


def detect(snapshot: Snapshot, config: DetectorConfig, now: datetime) -> list[Finding]:
    findings: list[Finding] = []
    gate = gate_of(config)
    for stable, canary in snapshot.canary_pairs():
        holder = annotated(stable, canary)
        split = traffic_split(holder)
        measured = measure(snapshot, stable, canary, gate)
        if isinstance(split, Invalid):
            findings.append(_invalid_split_finding(canary, holder, split, measured))
            continue
        if canary.spec.replicas == 0 or split is None:
            continue
        findings.append(_pair_finding(snapshot, config, now, stable, canary, holder, split, measured))
    return findings


def _pair_finding(
    snapshot: Snapshot,
    config: DetectorConfig,
    now: datetime,
    stable: Deployment,
    canary: Deployment,
    holder: Deployment,
    split: TrafficSplit,
    measured: Judgement | str,
) -> Finding:
    workload = ref_of("Deployment", canary.metadata)
    name = canary.metadata.name
    evidence = [
        f"traffic split {holder.metadata.annotations.get(ANN_TRAFFIC_SPLIT)} on {holder.metadata.name}"
    ]

    def finding(
        severity: Severity, code: CauseCode, summary: str, actions: tuple[PlannedAction, ...] = ()
    ) -> Finding:
        return Finding(
            NAME,
            workload,
            severity,
            Cause(code, summary),
            tuple(evidence),
            actions,
            failing=code == CauseCode.CANARY_ERRORS,
        )

    if isinstance(measured, str):
        evidence.append(measured)
        return finding(Severity.INFO, CauseCode.CANARY_UNKNOWN, f"error rate of {name} unknown ({measured})")
    evidence += measured.evidence
    if measured.verdict is Verdict.FAIL:
        _, record, _ = _step_record(snapshot, canary, holder, split)
        abort = propose(
            ActionKind.CANARY_ABORT,
            workload,
            requests.canary_abort(
                holder,
                canary,
                stable=stable,
                record=record,
                restore_stable=snapshot.hpa_for(stable) is None,
            ),
            reason=CauseCode.CANARY_ERRORS.value,
            ladder=Ladder.CANARY,
            detector=NAME,
            severity=Severity.CRITICAL,
            summary=f"abort canary {name}: traffic to stable, canary scaled to 0",
        )
        return finding(
            Severity.CRITICAL, CauseCode.CANARY_ERRORS, f"canary {name} {measured.summary}", (abort,)
        )
    if measured.verdict is Verdict.INCONCLUSIVE:
        return finding(Severity.INFO, CauseCode.CANARY_INCONCLUSIVE, f"canary {name}: {measured.summary}")
    started, record, since = _step_record(snapshot, canary, holder, split)
    if started is None:
        evidence.append(since)
        return finding(Severity.INFO, CauseCode.CANARY_BAKING, f"canary {name} healthy, bake time unknown")
    baked_for = (now - started).total_seconds()
    evidence.append(
        f"at {split.canary} % for {max(0, int(baked_for))} s ({since} at {rfc3339(started)}; "
        f"bake time {config.canary_bake_seconds} s)"
    )
    if baked_for < config.canary_bake_seconds:
        return finding(Severity.INFO, CauseCode.CANARY_BAKING, f"canary {name} healthy, baking")
    allowed, why = _auto_promote(stable, config)
    evidence.append(f"auto-promotion {'on' if allowed else 'off'}: {why}")
    healthy = f"canary {name} healthy past its bake time at {split.canary} %"
    if not allowed:
        return finding(Severity.INFO, CauseCode.CANARY_HEALTHY, healthy)
    restore_stable = snapshot.hpa_for(stable) is None
    if split.canary >= 100:
        action = propose(
            ActionKind.CANARY_PROMOTE,
            workload,
            requests.canary_promote(stable, canary, holder, record=record, restore_stable=restore_stable),
            reason=CauseCode.CANARY_HEALTHY.value,
            ladder=Ladder.CANARY,
            detector=NAME,
            severity=Severity.INFO,
            summary=f"promote canary {name} into {stable.metadata.name}",
        )
        return finding(Severity.INFO, CauseCode.CANARY_HEALTHY, healthy, (action,))
    step = next_step(split.canary, config.canary_steps) or 100
    stable_n, canary_n = step_replicas(stable.spec.replicas, canary.spec.replicas, step)
    targets = {
        "stable": None if snapshot.hpa_for(stable) is not None else stable_n,
        "canary": None if snapshot.hpa_for(canary) is not None else canary_n,
    }
    replicas = ", ".join(
        f"{who} {'kept by its HPA' if n is None else f'{n} replica' + 's' * (n != 1)}"
        for who, n in (("canary", targets["canary"]), ("stable", targets["stable"]))
    )
    action = propose(
        ActionKind.CANARY_STEP,
        workload,
        requests.canary_step(
            stable,
            canary,
            holder,
            percent=step,
            at=now,
            record=record,
            stable_replicas=targets["stable"],
            canary_replicas=targets["canary"],
        ),
        reason=CauseCode.CANARY_HEALTHY.value,
        ladder=Ladder.CANARY_PROGRESS,
        detector=NAME,
        severity=Severity.INFO,
        summary=f"step canary {name} from {split.canary} % to {step} % of traffic ({replicas})",
    )
    return finding(Severity.INFO, CauseCode.CANARY_HEALTHY, healthy, (action,))


__all__ = ["NAME", "annotated", "detect", "gate_of", "measure"]
