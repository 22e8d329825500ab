"""Closing the loop: did what the job did work? Pure: history lines, this pass's findings and the view in,
verdicts out; the wiring writes each verdict as a history line, and the Pushgateway gets the SLO figures.

Every action an earlier pass applied (a restart, rollback, scale, restore, rolling restart, canary
abort/step/promote) is judged by each later pass until it has a verdict:

- **verified**: none of this pass's findings on that workload belongs to the action's ladder (no crash
  loop, failing revision or unavailability after a health action; no config drift after a restore; no
  replica drift after a scale; no canary errors after a canary action) and, after a health action, the
  Deployment is whole (ready and updated replicas = `spec.replicas`, its generation observed).
  `recovery_seconds` runs from the onset on the applied line to the moment the workload was whole again:
  the latest `Ready` transition of its pods when the view shows one after the action, else this pass (an
  upper bound: at most one schedule interval late).
- **not_recovered**: `window_seconds` (the cooldown, after which the ladder's next rung may act) passed
  and it still is not; the detail says what is still wrong. The ladder itself reads the findings, not
  the verdict: a not-recovered action is what lets its next rung act.
- otherwise no verdict yet: the next pass asks again.

The onset: for a health action, when the failure began as the view showed it to the pass that acted (the
earliest moment one of the Deployment's pods went not Ready: `Snapshot.unready_since`); for a config or
replica action, the write that started the drift as managedFields record it (the `kubectl patch`, the
`kubectl set env`, the ConfigMap's new content, the changed annotation; `selfheal.kube.managed`), so the
time the drift waited for a pass, or behind an earlier pass' skip, counts. Where neither is known (a canary
action; an object without managedFields; a write through `/scale`, which the API server leaves untimed)
the onset is the pass that acted.

The guide's SLOs are measured this way (`SLO_OF`): recovery < 5 min for health and canary actions, drift
resolution < 10 min for config and replica actions. Dry runs change nothing and are never judged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from selfheal.findings import CauseCode, Finding, HistoryEntry, Ladder, Result
from selfheal.view import Snapshot

LADDER_CAUSES: dict[str, frozenset[CauseCode]] = {
    Ladder.HEALTH.value: frozenset(
        {
            CauseCode.APP_ERROR,
            CauseCode.OOM_KILLED,
            CauseCode.BAD_COMMAND,
            CauseCode.IMAGE_PULL,
            CauseCode.CONTAINER_CONFIG,
            CauseCode.BAD_REVISION,
            CauseCode.ROLLOUT_STUCK,
            CauseCode.ENVIRONMENT,
            CauseCode.UNAVAILABLE,
        }
    ),
    Ladder.CONFIG.value: frozenset({CauseCode.CONFIG_HASH_DRIFT, CauseCode.CONFIGMAP_CHANGED}),
    Ladder.REPLICAS.value: frozenset({CauseCode.REPLICA_DRIFT, CauseCode.HPA_CLAMP}),
    Ladder.CANARY.value: frozenset({CauseCode.CANARY_ERRORS}),
}
SLO_OF = {
    Ladder.HEALTH.value: "recovery",
    Ladder.CONFIG.value: "drift_resolution",
    Ladder.REPLICAS.value: "drift_resolution",
    Ladder.CANARY.value: "recovery",
}
SLOS = ("recovery", "drift_resolution")
VERDICTS = frozenset({Result.VERIFIED.value, Result.NOT_RECOVERED.value})


def key_of(entry: HistoryEntry) -> str:
    """The applied line a verdict answers: its intent id (every journaled action has one), else its run,
    action and target."""
    return entry.intent or f"{entry.run_id}/{entry.action}/{entry.kind}/{entry.name}"


@dataclass(frozen=True)
class Verdict:
    applied: HistoryEntry
    result: Result  # VERIFIED or NOT_RECOVERED
    recovery_seconds: float | None  # VERIFIED: from the onset to whole again
    detail: str

    @property
    def slo(self) -> str:
        return SLO_OF.get(self.applied.ladder, "recovery")

    def line(self, *, run_id: str, ts: datetime) -> HistoryEntry:
        """The history line that records this verdict (a later pass never asks again)."""
        a = self.applied
        return HistoryEntry(
            ts=ts,
            run_id=run_id,
            namespace=a.namespace,
            action=a.action,
            kind=a.kind,
            name=a.name,
            reason=a.reason,
            result=self.result.value,
            message=self.detail,
            workload=a.workload,
            detector=a.detector,
            ladder=a.ladder,
            onset=a.onset or a.ts,
            verifies=key_of(a),
            slo=self.slo,
            recovery_seconds=None if self.recovery_seconds is None else round(self.recovery_seconds, 1),
        )


def awaiting(lines: Sequence[HistoryEntry]) -> list[HistoryEntry]:
    """Applied lines (the resolution of a recovered intent included) no verdict line answers yet."""
    answered = {e.verifies for e in lines if e.result in VERDICTS}
    return [e for e in lines if e.result == Result.APPLIED and key_of(e) not in answered]


def _deployment_name(entry: HistoryEntry) -> str:
    kind, _, name = entry.workload.partition("/")
    return name if kind == "Deployment" else ""


def _whole(snapshot: Snapshot, name: str) -> bool:
    dep = snapshot.deployment(name)
    if dep is None:
        return False
    st, want = dep.status, dep.spec.replicas
    return (
        st.ready_replicas >= want
        and st.updated_replicas >= want
        and st.observed_generation >= dep.metadata.generation
    )


def verdicts(
    lines: Sequence[HistoryEntry],
    findings: Sequence[Finding],
    snapshot: Snapshot,
    now: datetime,
    window_seconds: float,
) -> list[Verdict]:
    """A verdict for every applied line that has one by now; the others wait for a later pass."""
    out = []
    for entry in awaiting(lines):
        name = _deployment_name(entry)
        if not name or entry.ts > now:
            continue
        causes = LADDER_CAUSES.get(entry.ladder, frozenset())
        still = sorted(
            {
                f.cause.code.value
                for f in findings
                if f.workload.kind == "Deployment" and f.workload.name == name and f.cause.code in causes
            }
        )
        dep = snapshot.deployment(name)
        whole = _whole(snapshot, name)
        when = f"{entry.action} of {entry.workload} at {entry.ts:%H:%M:%S}Z"
        if dep is not None and not still and (whole or entry.ladder != Ladder.HEALTH.value):
            onset = entry.onset or entry.ts
            ready_at = snapshot.ready_since(dep)
            # whole again no earlier than the action: a pod Ready between the onset and the action is not it
            recovered_at = ready_at if ready_at is not None and entry.ts <= ready_at <= now else now
            seconds = max(0.0, (recovered_at - onset).total_seconds())
            detail = f"{when}: recovered, {seconds:.0f} s after the failure began"
            out.append(Verdict(entry, Result.VERIFIED, seconds, detail))
        elif (now - entry.ts).total_seconds() >= window_seconds:
            why = (
                "the Deployment no longer exists"
                if dep is None
                else ", ".join(still) or "the Deployment is not whole (ready, updated, observed)"
            )
            detail = f"{when} did not recover it within {window_seconds:.0f} s: {why}"
            out.append(Verdict(entry, Result.NOT_RECOVERED, None, detail))
    return out
