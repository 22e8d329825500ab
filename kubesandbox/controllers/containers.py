"""The simulated container runtime: a container's status as a pure function of time.

Given when the kubelet first tries to start a container and what its image does, `view`
returns the container status a real kubelet (containerd runtime) would report at `now`, when
that status will next change, and the kubelet events emitted on the way. Being a pure function
of time is what lets `ControllerManager.advance` jump straight from one change to the next.

Timing model (whole seconds; `a` is the first start attempt, 1 s after the pod is scheduled):

* Healthy: running from `a`; ready at `a` + readinessProbe.initialDelaySeconds (no probe: at
  `a`). An init container, or a container of a pod whose restartPolicy is not Always, exits 0
  (`Completed`) after running 1 s (init) or 5 s (regular).
* CrashLoop / OOMKilled: each run lasts 1 s, then exits 1 `Error` / 137 `OOMKilled`. With
  restartPolicy Never that is the end. Otherwise the kubelet's back-off
  (`flowcontrol.Backoff`, 10 s initial, 300 s cap) decides the restarts: the first restart is
  immediate, later ones wait 10 s, 20 s, 40 s, … 300 s, 300 s, shown as `CrashLoopBackOff` with
  `back-off <d> restarting failed container=<c> pod=<pod>_<ns>(<uid>)`; a run longer than
  10 min resets the back-off. The short runs are never reported ready.
* ImagePullBackOff: each pull attempt fails (`ErrImagePull` for 1 s), then `ImagePullBackOff`
  until the next attempt, 10 s, 20 s, 40 s, … 300 s later.
* CreateContainerConfigError: from `a` on, waiting `CreateContainerConfigError`.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from typing import Any

from kubesandbox.controllers import behaviors as B
from kubesandbox.controllers.util import fmt, go_duration, normalize_image

INF = math.inf
BACKOFF_INITIAL = 10.0
BACKOFF_MAX = 300.0
CRASH_RUN = 1.0
INIT_RUN = 1.0
JOB_RUN = 5.0

Event = tuple[float, str, str, str]  # (time, type, reason, message)


@dataclass(frozen=True)
class Spec:
    """One container as the runtime sees it."""

    name: str
    image: str
    behavior: str  # effective behaviour (CrashUntilRestarted already resolved)
    is_init: bool
    restart_policy: str  # Always, OnFailure or Never (the pod's)
    pull_always: bool
    readiness_delay: float  # seconds after start until ready
    config_error: str  # message for CreateContainerConfigError
    pod_ref: str  # `<pod>_<ns>(<uid>)` as kubelet's format.Pod prints it
    pod_uid: str


@dataclass
class View:
    status: dict[str, Any]
    next_change: float = INF
    done_at: float | None = None  # exited 0 (an init container has finished)
    failed: bool = False  # exited non-zero and will not be restarted
    started: bool = False  # has ever started (kubecontainer.HasAnyRegularContainerStarted)
    events: list[Event] = field(default_factory=list)


def container_id(pod_uid: str, name: str, attempt: int) -> str:
    return "containerd://" + hashlib.sha256(f"{pod_uid}/{name}/{attempt}".encode()).hexdigest()


def image_id(image: str) -> str:
    norm = normalize_image(image)
    repo = norm.rsplit(":", 1)[0] if "@" not in norm else norm.split("@", 1)[0]
    return f"{repo}@sha256:{hashlib.sha256(norm.encode()).hexdigest()}"


def _go_quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def pull_error(image: str) -> str:
    ref = normalize_image(image)
    return (
        f"rpc error: code = NotFound desc = failed to pull and unpack image {_go_quote(ref)}: "
        f"failed to resolve reference {_go_quote(ref)}: {ref}: not found"
    )


def _base(spec: Spec, waiting_reason: str) -> dict[str, Any]:
    return {
        "name": spec.name,
        "state": {"waiting": {"reason": waiting_reason}},
        "lastState": {},
        "ready": False,
        "restartCount": 0,
        "image": spec.image,
        "imageID": "",
        "started": False,
    }


def _pulled_events(spec: Spec, t: float) -> list[Event]:
    quoted = _go_quote(spec.image)
    if spec.pull_always:
        size = int(hashlib.sha256(spec.image.encode()).hexdigest()[:6], 16) * 64
        return [
            (t, "Normal", "Pulling", f"Pulling image {quoted}"),
            (
                t,
                "Normal",
                "Pulled",
                f"Successfully pulled image {quoted} in 812ms (812ms including waiting). "
                f"Image size: {size} bytes.",
            ),
        ]
    return [(t, "Normal", "Pulled", f"Container image {quoted} already present on machine")]


def _start_events(spec: Spec, t: float) -> list[Event]:
    return [
        *_pulled_events(spec, t),
        (t, "Normal", "Created", f"Created container: {spec.name}"),
        (t, "Normal", "Started", f"Started container {spec.name}"),
    ]


def _terminated(spec: Spec, attempt: int, start: float, end: float, code: int, reason: str) -> dict[str, Any]:
    return {
        "terminated": {
            "exitCode": code,
            "reason": reason,
            "startedAt": fmt(start),
            "finishedAt": fmt(end),
            "containerID": container_id(spec.pod_uid, spec.name, attempt),
        }
    }


def _ran(status: dict[str, Any], spec: Spec, attempt: int) -> None:
    status["image"] = normalize_image(spec.image)
    status["imageID"] = image_id(spec.image)
    status["containerID"] = container_id(spec.pod_uid, spec.name, attempt)


def _order(status: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "name",
        "state",
        "lastState",
        "ready",
        "restartCount",
        "image",
        "imageID",
        "containerID",
        "started",
    )
    return {k: status[k] for k in keys if k in status}


def waiting_view(spec: Spec, reason: str) -> View:
    return View(_order(_base(spec, reason)))


def view(spec: Spec, a: float, now: float, since: float) -> View:
    """The container's status at `now`, first start attempt at `a` (≤ now); events in (since, now]."""
    if spec.behavior == B.IMAGE_PULL_BACK_OFF:
        v = _image_pull(spec, a, now)
    elif spec.behavior == B.CREATE_CONTAINER_CONFIG_ERROR:
        v = _config_error(spec, a)
    elif spec.behavior in (B.CRASH_LOOP, B.OOM_KILLED):
        v = _crash(spec, a, now)
    else:
        v = _healthy(spec, a, now)
    v.status = _order(v.status)
    v.events = [e for e in v.events if since < e[0] <= now]
    return v


def _healthy(spec: Spec, a: float, now: float) -> View:
    s = _base(spec, "ContainerCreating")
    _ran(s, spec, 0)
    events = _start_events(spec, a)
    completes = spec.is_init or spec.restart_policy != "Always"
    end = a + (INIT_RUN if spec.is_init else JOB_RUN) if completes else INF
    if now >= end:
        s["state"] = _terminated(spec, 0, a, end, 0, "Completed")
        s["ready"] = spec.is_init
        return View(s, INF, done_at=end, started=True, events=events)
    s["state"] = {"running": {"startedAt": fmt(a)}}
    s["started"] = True
    ready_at = a + spec.readiness_delay
    nxt = end
    if spec.is_init:
        s["ready"] = False
    elif now >= ready_at:
        s["ready"] = True
    else:
        nxt = min(nxt, ready_at)
    return View(s, nxt, started=True, events=events)


def _crash(spec: Spec, a: float, now: float) -> View:
    code, reason = (137, "OOMKilled") if spec.behavior == B.OOM_KILLED else (1, "Error")
    s = _base(spec, "ContainerCreating")
    events: list[Event] = []
    restarts = spec.restart_policy != "Never"
    attempt, start, backoff = 0, a, 0.0  # backoff: the flowcontrol entry (0 = none yet)
    last_run: tuple[float, float] | None = None
    while True:
        events.extend(_start_events(spec, start))
        end = start + CRASH_RUN
        if now < end:  # running this attempt
            _ran(s, spec, attempt)
            s["state"] = {"running": {"startedAt": fmt(start)}}
            s["started"] = True
            s["restartCount"] = attempt
            if last_run is not None:
                s["lastState"] = _terminated(spec, attempt - 1, last_run[0], last_run[1], code, reason)
            return View(s, end, started=True, events=events)
        if not restarts:
            _ran(s, spec, attempt)
            s["state"] = _terminated(spec, attempt, start, end, code, reason)
            s["restartCount"] = attempt
            if last_run is not None:
                s["lastState"] = _terminated(spec, attempt - 1, last_run[0], last_run[1], code, reason)
            return View(s, INF, failed=True, started=True, events=events)
        # flowcontrol.Backoff: no entry (or one expired by a run > 2*max) → restart now, entry := 10 s;
        # otherwise wait out the entry, then double it (capped) and restart.
        if backoff == 0 or end - start > 2 * BACKOFF_MAX:
            wait, backoff = 0.0, BACKOFF_INITIAL
        else:
            wait = backoff
        restart_at = end + wait
        if now < restart_at:
            _ran(s, spec, attempt)
            s["state"] = {
                "waiting": {
                    "reason": "CrashLoopBackOff",
                    "message": f"back-off {go_duration(wait)} restarting failed container="
                    f"{spec.name} pod={spec.pod_ref}",
                }
            }
            s["lastState"] = _terminated(spec, attempt, start, end, code, reason)
            s["restartCount"] = attempt
            events.append(
                (
                    end,
                    "Warning",
                    "BackOff",
                    f"Back-off restarting failed container {spec.name} in pod {spec.pod_ref}",
                )
            )
            return View(s, restart_at, started=True, events=events)
        if wait > 0:
            events.append(
                (
                    end,
                    "Warning",
                    "BackOff",
                    f"Back-off restarting failed container {spec.name} in pod {spec.pod_ref}",
                )
            )
            backoff = min(backoff * 2, BACKOFF_MAX)
        last_run = (start, end)
        attempt += 1
        start = restart_at


def _image_pull(spec: Spec, a: float, now: float) -> View:
    s = _base(spec, "ContainerCreating")
    quoted = _go_quote(spec.image)
    err = pull_error(spec.image)
    events: list[Event] = []
    attempt_at, backoff = a, BACKOFF_INITIAL
    while True:
        events += [
            (attempt_at, "Normal", "Pulling", f"Pulling image {quoted}"),
            (attempt_at, "Warning", "Failed", f"Failed to pull image {quoted}: {err}"),
            (attempt_at, "Warning", "Failed", "Error: ErrImagePull"),
        ]
        if now < attempt_at + 1:
            s["state"] = {"waiting": {"reason": "ErrImagePull", "message": err}}
            return View(s, attempt_at + 1, events=events)
        events += [
            (attempt_at + 1, "Normal", "BackOff", f"Back-off pulling image {quoted}"),
            (attempt_at + 1, "Warning", "Failed", "Error: ImagePullBackOff"),
        ]
        nxt = attempt_at + backoff
        if now < nxt:
            s["state"] = {
                "waiting": {"reason": "ImagePullBackOff", "message": f"Back-off pulling image {quoted}"}
            }
            return View(s, nxt, events=events)
        attempt_at, backoff = nxt, min(backoff * 2, BACKOFF_MAX)


def _config_error(spec: Spec, a: float) -> View:
    s = _base(spec, "CreateContainerConfigError")
    s["state"] = {"waiting": {"reason": "CreateContainerConfigError", "message": spec.config_error}}
    events = [*_pulled_events(spec, a), (a, "Warning", "Failed", f"Error: {spec.config_error}")]
    return View(s, INF, events=events)


def config_error_message(container: dict[str, Any], pod_ref: str) -> str:
    """What generateContainerConfig fails with for the first secret/configmap the container needs."""
    for env in container.get("env") or []:
        src = (env.get("valueFrom") or {}) if isinstance(env, dict) else {}
        if isinstance(src.get("secretKeyRef"), dict) and not src["secretKeyRef"].get("optional"):
            return f'secret "{src["secretKeyRef"].get("name", "")}" not found'
        if isinstance(src.get("configMapKeyRef"), dict) and not src["configMapKeyRef"].get("optional"):
            return f'configmap "{src["configMapKeyRef"].get("name", "")}" not found'
    for env_from in container.get("envFrom") or []:
        if not isinstance(env_from, dict):
            continue
        if isinstance(env_from.get("secretRef"), dict) and not env_from["secretRef"].get("optional"):
            return f'secret "{env_from["secretRef"].get("name", "")}" not found'
        if isinstance(env_from.get("configMapRef"), dict) and not env_from["configMapRef"].get("optional"):
            return f'configmap "{env_from["configMapRef"].get("name", "")}" not found'
    return (
        f"container has runAsNonRoot and image will run as root (pod: {_go_quote(pod_ref)}, "
        f"container: {container.get('name', '')})"
    )
