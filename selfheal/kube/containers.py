"""How containers fail, as the kubelet reports it: shared by the crash-loop, bad-revision and availability
detectors.

A container counts as failing when it is
- waiting in `CrashLoopBackOff` with `restartCount` >= the threshold (init containers too); its cause
  comes from `lastState.terminated`: `OOMKilled` -> oom_killed, exit 0 / `Completed` -> bad_command,
  anything else -> app_error; or
- waiting for a reason no restart fixes (image pull, container configuration), once the pod is older
  than the grace period (a registry hiccup on a fresh pod is not a finding).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from selfheal.kube.model import ContainerStatus, Pod


class Failure(enum.StrEnum):
    """Why a container fails (the finding cause codes, `selfheal.findings.CauseCode`, reuse these)."""

    APP_ERROR = "app_error"  # non-zero exit: a restart may help
    OOM_KILLED = "oom_killed"  # a restart does not add memory
    BAD_COMMAND = "bad_command"  # the container exited 0 ("Completed") under restartPolicy Always
    IMAGE_PULL = "image_pull"  # ImagePullBackOff / ErrImagePull / InvalidImageName
    CONTAINER_CONFIG = "container_config"  # CreateContainerConfigError / CreateContainerError


@dataclass(frozen=True)
class Rules:
    """When a container counts as failing."""

    restart_threshold: int = 3  # restarts before a crash loop counts
    waiting_grace_seconds: int = 300  # image-pull / config errors younger than this are not reported


CRASH_LOOP = "CrashLoopBackOff"
IMAGE_PULL_REASONS = frozenset({"ImagePullBackOff", "ErrImagePull", "InvalidImageName", "ErrImageNeverPull"})
CONFIG_REASONS = frozenset({"CreateContainerConfigError", "CreateContainerError", "RunContainerError"})
FAILURE_WAITING_REASONS = frozenset({CRASH_LOOP}) | IMAGE_PULL_REASONS | CONFIG_REASONS

RESTART_HELPS = frozenset({Failure.APP_ERROR})

WHY_RESTART_DOES_NOT_HELP = {
    Failure.OOM_KILLED: "OOMKilled: a restart does not add memory (raise the limit, or roll back a new revision)",
    Failure.BAD_COMMAND: "the container exits 0 (Completed): its command ends, a restart runs the same command",
    Failure.IMAGE_PULL: "the image cannot be pulled: a restart pulls the same image",
    Failure.CONTAINER_CONFIG: "the container cannot be created from its configuration: a restart changes nothing",
}


@dataclass(frozen=True)
class ContainerProblem:
    container: str
    init: bool
    cause: Failure
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


def _crash_cause(status: ContainerStatus) -> tuple[Failure, str, int | None]:
    term = status.last_state.terminated
    if term is None:
        return Failure.APP_ERROR, "", None
    if term.reason == "OOMKilled":
        return Failure.OOM_KILLED, term.reason, term.exit_code
    if term.reason == "Completed" or term.exit_code == 0:
        return Failure.BAD_COMMAND, term.reason or "Completed", term.exit_code
    return Failure.APP_ERROR, term.reason, term.exit_code


def _problem(status: ContainerStatus, init: bool, rules: Rules, old_enough: bool) -> ContainerProblem | None:
    waiting = status.state.waiting
    if waiting is None:
        return None
    if waiting.reason == CRASH_LOOP:
        if status.restart_count < rules.restart_threshold:
            return None
        cause, last_reason, code = _crash_cause(status)
        return ContainerProblem(status.name, init, cause, CRASH_LOOP, status.restart_count, last_reason, code)
    if not old_enough:
        return None
    if waiting.reason in IMAGE_PULL_REASONS:
        return ContainerProblem(status.name, init, Failure.IMAGE_PULL, waiting.reason, status.restart_count)
    if waiting.reason in CONFIG_REASONS:
        return ContainerProblem(
            status.name, init, Failure.CONTAINER_CONFIG, waiting.reason, status.restart_count
        )
    return None


def container_problems(pod: Pod, rules: Rules, now: datetime) -> tuple[ContainerProblem, ...]:
    """Failing containers of a pod, init containers first (they block the others)."""
    created = pod.metadata.creation_timestamp
    old_enough = created is None or (now - created).total_seconds() >= rules.waiting_grace_seconds
    found = [
        p
        for init, statuses in (
            (True, pod.status.init_container_statuses),
            (False, pod.status.container_statuses),
        )
        for s in statuses
        if (p := _problem(s, init, rules, old_enough)) is not None
    ]
    return tuple(found)


def primary_problem(problems: tuple[ContainerProblem, ...]) -> ContainerProblem:
    """The problem that decides the pod's cause: the first one a restart cannot fix, else the first."""
    return next((p for p in problems if not p.restart_helps), problems[0])


def waiting_on_failure(pod: Pod) -> bool:
    """Any container waiting for a failure reason, whatever its restart count (explains unavailability)."""
    statuses = pod.status.init_container_statuses + pod.status.container_statuses
    return any(
        s.state.waiting is not None and s.state.waiting.reason in FAILURE_WAITING_REASONS for s in statuses
    )
