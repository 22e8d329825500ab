"""Container failure classification, shared by the crash-loop, bad-revision and availability detectors.

A container counts as failing when it is
- waiting in `CrashLoopBackOff` with `restartCount` >= the threshold (init containers too); its cause
  comes from `lastState.terminated`: `OOMKilled` -> oom_killed, exit 0 / `Completed` -> bad_command,
  anything else -> app_error; or
- waiting for a reason no restart fixes (image pull, container configuration), once the pod is older
  than the grace period (a registry hiccup on a fresh pod is not a finding).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from selfheal.detectors.base import DetectorConfig
from selfheal.findings import CauseCode
from selfheal.model import ContainerStatus, Pod

CRASH_LOOP = "CrashLoopBackOff"
IMAGE_PULL_REASONS = frozenset({"ImagePullBackOff", "ErrImagePull", "InvalidImageName", "ErrImageNeverPull"})
CONFIG_REASONS = frozenset({"CreateContainerConfigError", "CreateContainerError", "RunContainerError"})
FAILURE_WAITING_REASONS = frozenset({CRASH_LOOP}) | IMAGE_PULL_REASONS | CONFIG_REASONS

RESTART_HELPS = frozenset({CauseCode.APP_ERROR})

WHY_RESTART_DOES_NOT_HELP = {
    CauseCode.OOM_KILLED: "OOMKilled: a restart does not add memory (raise the limit, or roll back a new revision)",
    CauseCode.BAD_COMMAND: "the container exits 0 (Completed): its command ends, a restart runs the same command",
    CauseCode.IMAGE_PULL: "the image cannot be pulled: a restart pulls the same image",
    CauseCode.CONTAINER_CONFIG: "the container cannot be created from its configuration: a restart changes nothing",
}


@dataclass(frozen=True)
class ContainerProblem:
    container: str
    init: bool
    cause: CauseCode
    waiting_reason: str
    restarts: int
    last_reason: str = ""
    exit_code: int | None = None

    @property
    def restart_helps(self) -> bool:
        return self.cause in RESTART_HELPS

    def evidence(self) -> str:
        kind = "init container" if self.init else "container"
        text = f"{kind} {self.container}: {self.waiting_reason}, {self.restarts} restarts"
        if self.last_reason or self.exit_code is not None:
            text += f", last exit {self.last_reason or '?'} (code {self.exit_code})"
        return text


def _crash_cause(status: ContainerStatus) -> tuple[CauseCode, str, int | None]:
    term = status.last_state.terminated
    if term is None:
        return CauseCode.APP_ERROR, "", None
    if term.reason == "OOMKilled":
        return CauseCode.OOM_KILLED, term.reason, term.exit_code
    if term.reason == "Completed" or term.exit_code == 0:
        return CauseCode.BAD_COMMAND, term.reason or "Completed", term.exit_code
    return CauseCode.APP_ERROR, term.reason, term.exit_code


def _problem(status: ContainerStatus, init: bool, config: DetectorConfig, old_enough: bool) -> ContainerProblem | None:
    waiting = status.state.waiting
    if waiting is None:
        return None
    if waiting.reason == CRASH_LOOP:
        if status.restart_count < config.restart_threshold:
            return None
        cause, last_reason, code = _crash_cause(status)
        return ContainerProblem(status.name, init, cause, CRASH_LOOP, status.restart_count, last_reason, code)
    if not old_enough:
        return None
    if waiting.reason in IMAGE_PULL_REASONS:
        return ContainerProblem(status.name, init, CauseCode.IMAGE_PULL, waiting.reason, status.restart_count)
    if waiting.reason in CONFIG_REASONS:
        return ContainerProblem(status.name, init, CauseCode.CONTAINER_CONFIG, waiting.reason, status.restart_count)
    return None


def container_problems(pod: Pod, config: DetectorConfig, now: datetime) -> tuple[ContainerProblem, ...]:
    """Failing containers of a pod, init containers first (they block the others)."""
    created = pod.metadata.creation_timestamp
    old_enough = created is None or (now - created).total_seconds() >= config.waiting_grace_seconds
    found = [
        p for init, statuses in ((True, pod.status.init_container_statuses), (False, pod.status.container_statuses))
        for s in statuses if (p := _problem(s, init, config, old_enough)) is not None
    ]
    return tuple(found)


def primary_problem(problems: tuple[ContainerProblem, ...]) -> ContainerProblem:
    """The problem that decides the pod's cause: the first one a restart cannot fix, else the first."""
    return next((p for p in problems if not p.restart_helps), problems[0])


def waiting_on_failure(pod: Pod) -> bool:
    """Any container waiting for a failure reason, whatever its restart count (explains unavailability)."""
    statuses = pod.status.init_container_statuses + pod.status.container_statuses
    return any(s.state.waiting is not None and s.state.waiting.reason in FAILURE_WAITING_REASONS for s in statuses)
