"""Canary health: `<name>-canary` next to `<name>`, one of them annotated `rollout.argoproj.io/traffic-split`.

Without Argo Rollouts, "abort" is made concrete as two writes on plain Deployments, recorded with
their inverses: (1) the traffic-split annotation is set to `{"canary":0,"stable":100}` (what a mesh or
ingress reading it routes by, and what `canary_traffic_percentage` reports), then (2) the canary is
scaled to 0 replicas (which stops its traffic for a Service that selects both tracks).

- error ratio > `canary_error_threshold` (default 5 %) -> `canary_abort` (critical);
- no Prometheus, a failed query, or no traffic -> finding `canary_unknown`, no action;
- healthy: `canary_baking` until `canary_bake_seconds` have passed since the canary's current
  ReplicaSet was created; then `canary_healthy`, with `canary_promote` only when
  `canary_auto_promote` is on (stable takes the canary's images, traffic 0/100, canary scaled to 0).
A canary with 0 replicas is inactive: nothing to report (so an aborted canary stays quiet).

The split is read strictly (`selfheal.kube.annotations.parse_traffic_split`: exactly integer `canary`
and `stable` in 0..100 summing to 100). An invalid one is a finding `traffic_split_invalid` quoting the
value (active or not), and the pair gets no action at all: an abort or a promote rewrites the split and
would record the bad value as its inverse, so a human fixes the annotation first. When the error rate
is above the threshold the finding is critical and carries the abort, refused (`invalid_annotation`).
"""

from __future__ import annotations

from datetime import datetime

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
from selfheal.kube.annotations import Invalid, split_holder, traffic_split
from selfheal.kube.model import ANN_TRAFFIC_SPLIT, Deployment
from selfheal.kube.refs import ref_of
from selfheal.kube.revisions import new_replicaset
from selfheal.view import Snapshot, SourceState

NAME = "canary"


def annotated(stable: Deployment, canary: Deployment) -> Deployment:
    return split_holder(stable, canary)


def _invalid_split_finding(
    canary: Deployment, holder: Deployment, split: Invalid, rate: float | None, config: DetectorConfig
) -> Finding:
    workload = ref_of("Deployment", canary.metadata)
    name = canary.metadata.name
    evidence = [f"{split} (on {holder.metadata.name})"]
    if rate is not None:
        evidence.append(f"error rate {rate:.2%} (threshold {config.canary_error_threshold:.2%})")
    erroring = rate is not None and rate > config.canary_error_threshold and canary.spec.replicas > 0
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


def detect(snapshot: Snapshot, config: DetectorConfig, now: datetime) -> list[Finding]:
    findings: list[Finding] = []
    signals = snapshot.canary
    for stable, canary in snapshot.canary_pairs():
        holder = annotated(stable, canary)
        split = traffic_split(holder)
        name = canary.metadata.name
        rate = signals.error_rates.get(name) if signals.state == SourceState.AVAILABLE else None
        if isinstance(split, Invalid):
            findings.append(_invalid_split_finding(canary, holder, split, rate, config))
            continue
        if canary.spec.replicas == 0:
            continue
        workload = ref_of("Deployment", canary.metadata)
        evidence = [
            f"traffic split {holder.metadata.annotations.get(ANN_TRAFFIC_SPLIT)} on {holder.metadata.name}"
        ]
        if rate is None:
            why = (
                f"prometheus {signals.state.value}: {signals.detail}"
                if signals.state != SourceState.AVAILABLE
                else "no requests in the query window"
            )
            findings.append(
                Finding(
                    NAME,
                    workload,
                    Severity.INFO,
                    Cause(CauseCode.CANARY_UNKNOWN, f"error rate of {name} unknown ({why})"),
                    (*evidence, why),
                )
            )
            continue
        evidence.append(f"error rate {rate:.2%} (threshold {config.canary_error_threshold:.2%})")
        if rate > config.canary_error_threshold:
            summary = f"canary {name} error rate {rate:.2%} exceeds {config.canary_error_threshold:.2%}"
            action = propose(
                ActionKind.CANARY_ABORT,
                workload,
                requests.canary_abort(holder, canary),
                reason=CauseCode.CANARY_ERRORS.value,
                ladder=Ladder.CANARY,
                detector=NAME,
                severity=Severity.CRITICAL,
                summary=f"abort canary {name}: traffic to stable, canary scaled to 0",
            )
            findings.append(
                Finding(
                    NAME,
                    workload,
                    Severity.CRITICAL,
                    Cause(CauseCode.CANARY_ERRORS, summary),
                    tuple(evidence),
                    (action,),
                    failing=True,
                )
            )
            continue
        rs = new_replicaset(canary, snapshot.replicasets_of(canary))
        started = (
            rs.metadata.creation_timestamp if rs is not None else None
        ) or canary.metadata.creation_timestamp
        baked = started is not None and (now - started).total_seconds() >= config.canary_bake_seconds
        if not baked:
            findings.append(
                Finding(
                    NAME,
                    workload,
                    Severity.INFO,
                    Cause(CauseCode.CANARY_BAKING, f"canary {name} healthy, baking"),
                    tuple(evidence),
                )
            )
            continue
        proposed: tuple[PlannedAction, ...] = ()
        if config.canary_auto_promote and requests.image_updates(stable, canary) and split is not None:
            proposed = (
                propose(
                    ActionKind.CANARY_PROMOTE,
                    workload,
                    requests.canary_promote(stable, canary, holder),
                    reason=CauseCode.CANARY_HEALTHY.value,
                    ladder=Ladder.CANARY,
                    detector=NAME,
                    severity=Severity.INFO,
                    summary=f"promote canary {name} into {stable.metadata.name}",
                ),
            )
        findings.append(
            Finding(
                NAME,
                workload,
                Severity.INFO,
                Cause(CauseCode.CANARY_HEALTHY, f"canary {name} healthy past its bake time"),
                tuple(evidence),
                proposed,
            )
        )
    return findings
