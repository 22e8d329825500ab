"""The typed values that flow between the layers: findings, proposed actions, skips, outcomes, history.

Reading order for a newcomer: a detector turns a `Snapshot` into `Finding`s; each finding proposes
`PlannedAction`s, each of which is a list of `Write`s (`selfheal.kube.requests`) carrying the exact
request body, its content type and the body that undoes it. The planner turns findings into a `Plan` (approved actions, and a
`Skip` with a reason code for everything else). The executor turns approved actions into
`ActionOutcome`s; the reporting layer turns outcomes into `HistoryEntry` lines, metrics and the risk
report. Nothing here does I/O.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

import msgspec

from selfheal.kube.containers import Failure
from selfheal.kube.model import Time
from selfheal.kube.refs import ObjectRef
from selfheal.kube.requests import Write


class Severity(enum.IntEnum):
    """Ordered: planning and reports sort the most severe first."""

    INFO = 1
    WARNING = 2
    CRITICAL = 3

    @property
    def label(self) -> str:
        return self.name.lower()


class CauseCode(enum.StrEnum):
    # crash loops and other container failures (`selfheal.kube.containers.Failure`)
    APP_ERROR = Failure.APP_ERROR.value
    OOM_KILLED = Failure.OOM_KILLED.value
    BAD_COMMAND = Failure.BAD_COMMAND.value
    IMAGE_PULL = Failure.IMAGE_PULL.value
    CONTAINER_CONFIG = Failure.CONTAINER_CONFIG.value
    # revisions
    BAD_REVISION = "bad_revision"  # the newest ReplicaSet fails while an older one ran
    ROLLOUT_STUCK = "rollout_stuck"  # the newest ReplicaSet never became available
    ENVIRONMENT = "environment"  # an established revision fails in most pods: something around it changed
    # replicas and availability
    REPLICA_DRIFT = "replica_drift"
    HPA_CLAMP = "hpa_clamp"
    UNAVAILABLE = "unavailable"
    # configuration
    CONFIG_HASH_DRIFT = "config_hash_drift"
    CONFIGMAP_CHANGED = "configmap_changed"
    INVALID_ANNOTATION = "invalid_annotation"
    # probes
    MISSING_PROBES = "missing_probes"
    # canary
    CANARY_ERRORS = "canary_errors"
    CANARY_UNKNOWN = "canary_unknown"
    CANARY_INCONCLUSIVE = "canary_inconclusive"  # measured, too little traffic to judge (canary_gate)
    CANARY_BAKING = "canary_baking"
    CANARY_HEALTHY = "canary_healthy"
    TRAFFIC_SPLIT_INVALID = "traffic_split_invalid"  # the split annotation is not a valid canary/stable pair
    # the namespace as read
    UNDECODABLE_OBJECT = "undecodable_object"  # an object the API returned could not be decoded: skipped


@dataclass(frozen=True)
class Cause:
    """Why a finding exists. `reason`/`exit_code` are Kubernetes' own words where there are any."""

    code: CauseCode
    summary: str
    container: str = ""
    reason: str = ""
    exit_code: int | None = None


class ActionKind(enum.StrEnum):
    RESTART_POD = "restart_pod"
    ROLLBACK = "rollback"
    SCALE = "scale"
    ROLLOUT_RESTART = "rollout_restart"
    RESTORE_TEMPLATE = "restore_template"
    CANARY_ABORT = "canary_abort"
    CANARY_PROMOTE = "canary_promote"
    CANARY_STEP = "canary_step"  # one step of the canary's traffic share (SELFHEAL_CANARY_STEPS)


class Ladder(enum.StrEnum):
    """Which escalation ladder an action climbs (see `selfheal.planning`)."""

    HEALTH = "health"  # restart -> rollback -> needs_human
    CONFIG = "config"  # restore / checksum restart -> needs_human
    REPLICAS = "replicas"  # scale / availability restart -> needs_human
    CANARY = "canary"  # abort / promote -> needs_human
    CANARY_PROGRESS = "canary_progress"  # canary steps: one per pass (paced by the cooldown), never a rung


class SkipCode(enum.StrEnum):
    # rails on the target
    IGNORED = "ignored"
    BARE_POD = "bare_pod"
    DAEMONSET_POD = "daemonset_pod"
    STATIC_POD = "static_pod"
    TERMINATING = "terminating"
    PAUSED = "paused"
    GITOPS_MANAGED = "gitops_managed"  # Argo CD would revert a template change: Git must change instead
    # a detector's own refusal
    RESTART_NOT_HELPFUL = "restart_not_helpful"
    NO_RESTORE_SOURCE = "no_restore_source"
    CONFIGMAP_MISSING = "configmap_missing"  # restarted pods would fail CreateContainerConfigError
    NO_PREVIOUS_REVISION = "no_previous_revision"
    INVALID_ANNOTATION = "invalid_annotation"
    UNDECODABLE_OBJECT = "undecodable_object"  # the decision depends on an object that could not be decoded
    # pass-wide rails
    MASS_FAILURE = "mass_failure"
    NEEDS_HUMAN = "needs_human"
    COOLDOWN = "cooldown"
    SUPERSEDED = "superseded"
    MAX_ACTIONS = "max_actions"
    # the executor's (for the lead): eviction refused by a PodDisruptionBudget (HTTP 429)
    PDB_BLOCKED = "pdb_blocked"
    # the pass's own limits: nothing unrecorded, nothing after SIGTERM or the pass deadline
    NOT_RECORDED = (
        "not_recorded"  # the history cannot be written: an action that cannot be recorded is not taken
    )
    INTERRUPTED = "interrupted"  # SIGTERM (a node drain, activeDeadlineSeconds) arrived before its turn
    PASS_DEADLINE = "pass_deadline"  # the pass ran out of time before its turn


@dataclass(frozen=True)
class Refusal:
    """A detector's statement that the natural action for a finding must not be taken."""

    code: SkipCode
    text: str


@dataclass(frozen=True)
class PlannedAction:
    action: ActionKind
    workload: ObjectRef  # what cooldown and the ladder are keyed on (usually the Deployment)
    target: ObjectRef  # what is written (the Pod for restart_pod)
    reason: str  # machine code: the cause code
    summary: str  # one human sentence
    writes: tuple[Write, ...]
    ladder: Ladder
    detector: str
    severity: Severity
    refusal: Refusal | None = None
    onset: datetime | None = None  # when the failure began, as the view shows it (health ladder)


@dataclass(frozen=True)
class Finding:
    detector: str
    workload: ObjectRef
    severity: Severity
    cause: Cause
    evidence: tuple[str, ...]
    actions: tuple[PlannedAction, ...] = ()  # proposed, each is one step (first ladder rung)
    escalation: PlannedAction | None = None  # the next rung (rollback) when the first did not help
    failing: bool = False  # the workload is unhealthy (counts towards mass failure and risk)
    subject: ObjectRef | None = None  # the object the evidence is about (a Pod), when not the workload

    def sort_key(self) -> tuple[int, str, str, str, str]:
        subject = self.subject.name if self.subject else ""
        return (-int(self.severity), self.workload.name, self.detector, subject, self.cause.code)


@dataclass(frozen=True)
class Skip:
    action: PlannedAction
    code: SkipCode
    text: str


@dataclass(frozen=True)
class Plan:
    findings: tuple[Finding, ...]
    approved: tuple[PlannedAction, ...]  # in execution order
    skipped: tuple[Skip, ...]
    mass_failure: bool = False


class Result(enum.StrEnum):
    APPLIED = "applied"
    DRY_RUN = "dry_run"
    FAILED = "failed"
    SKIPPED = "skipped"
    # the write-ahead record (selfheal.reporting.journal): an intent line goes to disk before an action's
    # first write; a later pass resolves one left without an outcome to APPLIED (found in the cluster,
    # `recovered`) or ABANDONED (not found). Cooldowns and the ladder count INTENT and ABANDONED as done.
    INTENT = "intent"
    ABANDONED = "abandoned"
    # closing the loop (selfheal.verify): a later pass's verdict on an applied action, on its own line
    # (`verifies` names the applied line); neither is a decision, so neither counts towards cooldowns
    VERIFIED = "verified"
    NOT_RECOVERED = "not_recovered"


DONE = frozenset(
    {Result.APPLIED, Result.INTENT, Result.ABANDONED}
)  # what changed, or may have changed, the cluster


@dataclass(frozen=True)
class ActionOutcome:
    """What became of one decided action. `reason` is the skip code or failure code when not applied."""

    action: PlannedAction
    result: Result
    reason: str = ""
    message: str = ""


def skipped_outcomes(plan: Plan) -> tuple[ActionOutcome, ...]:
    return tuple(ActionOutcome(s.action, Result.SKIPPED, s.code.value, s.text) for s in plan.skipped)


# --- history line (a wire format: JSON Lines) --------------------------------------------------------


class PatchRecord(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    kind: str
    name: str
    subresource: str = ""
    content_type: str
    body: msgspec.Raw


class HistoryEntry(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One line of `logs/rollback-history.log`."""

    ts: Time
    run_id: str
    namespace: str
    action: str
    kind: str
    name: str
    reason: str
    result: str
    message: str = ""
    workload: str = ""  # "Deployment/web": cooldown and ladder key
    detector: str = ""
    ladder: str = ""
    patch: tuple[PatchRecord, ...] | None = None
    inverse: tuple[PatchRecord, ...] | None = None
    intent: str = ""  # on an intent line and on the outcome line that resolves it: "<run_id>-<n>"
    recovered: bool = False  # an outcome a later pass found in the cluster (the run that acted never said)
    onset: Time | None = None  # on intent and applied lines: when the failure the action answers began
    # on a verdict line (verified / not_recovered): the applied line's key (`verify.key_of`), the SLO it
    # is measured against and, when verified, the seconds from the onset to the workload whole again
    verifies: str = ""
    slo: str = ""
    recovery_seconds: float | None = None


class RecordError(Exception):
    """The job's record (history, risk report) cannot be written. `str()` is one line: the path and why.
    Shared by the writer (reporting) and the executor (which takes no action it cannot record)."""
