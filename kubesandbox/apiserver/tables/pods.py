"""The Pod printer (`printPod`): READY, STATUS and RESTARTS as `kubectl get pods` shows them.

STATUS is not a field of the pod: printPod derives it from the phase, the init containers (sidecars
count as regular containers once started), the containers' waiting/terminated states and the deletion
timestamp, in an order that decides which reason wins. That derivation is what an operator reads first,
so it is kept apart from the plain columns and exported (`pod_status_reason`) for anyone who needs it.
"""

from __future__ import annotations

from datetime import datetime

from kubesandbox.apiserver.tables.columns import AGE, NAME, Cells, Column, Obj, Printer
from kubesandbox.apiserver.tables.format import (
    age_of,
    at,
    condition_true,
    human_duration,
    meta,
    name_of,
    parse_time,
)

_POD_COMPLETED = [
    {
        "type": "Completed",
        "status": "True",
        "reason": "Succeeded",
        "message": "The pod has completed successfully.",
    }
]
_POD_FAILED = [{"type": "Completed", "status": "True", "reason": "Failed", "message": "The pod failed."}]


def _restartable(container: Obj | None) -> bool:
    """podutil.IsRestartableInitContainer: a sidecar (`restartPolicy: Always` init container)."""
    return container is not None and container.get("restartPolicy") == "Always"


def _finished_at(cs: Obj) -> datetime | None:
    return parse_time(at(cs, "lastState", "terminated", "finishedAt"))


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    if b is None:
        return a
    return b if a is None or a < b else a


def _terminated_reason(terminated: Obj, prefix: str) -> str:
    if terminated.get("reason"):
        return prefix + str(terminated["reason"])
    if terminated.get("signal"):
        return f"{prefix}Signal:{terminated['signal']}"
    return f"{prefix}ExitCode:{terminated.get('exitCode', 0)}"


def pod_status_reason(pod: Obj) -> tuple[str, int, int, datetime | None]:
    """The STATUS, READY count, RESTARTS count and last restart time, exactly as printPod derives them."""
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    init_specs = {str(c.get("name")): c for c in spec.get("initContainers") or []}
    conditions = status.get("conditions") or []
    phase = str(status.get("phase") or "")
    reason = str(status.get("reason") or phase)
    if any(c.get("type") == "PodScheduled" and c.get("reason") == "SchedulingGated" for c in conditions):
        reason = "SchedulingGated"

    restarts = sidecar_restarts = ready = 0
    last_restart: datetime | None = None
    last_sidecar_restart: datetime | None = None
    initializing = False
    for i, cs in enumerate(status.get("initContainerStatuses") or []):
        restarts += int(cs.get("restartCount") or 0)
        last_restart = _later(last_restart, _finished_at(cs))
        sidecar = _restartable(init_specs.get(str(cs.get("name"))))
        if sidecar:
            sidecar_restarts += int(cs.get("restartCount") or 0)
            last_sidecar_restart = _later(last_sidecar_restart, _finished_at(cs))
        state = cs.get("state") or {}
        terminated, waiting = state.get("terminated"), state.get("waiting")
        if terminated is not None and int(terminated.get("exitCode") or 0) == 0:
            continue
        if sidecar and cs.get("started"):
            ready += 1 if cs.get("ready") else 0
            continue
        if terminated is not None:
            reason = _terminated_reason(terminated, "Init:")
        elif waiting is not None and waiting.get("reason") and waiting.get("reason") != "PodInitializing":
            reason = "Init:" + str(waiting["reason"])
        else:
            reason = f"Init:{i}/{len(spec.get('initContainers') or [])}"
        initializing = True
        break

    if not initializing or condition_true(conditions, "Initialized"):
        restarts, last_restart = sidecar_restarts, last_sidecar_restart
        has_running = False
        for cs in reversed(status.get("containerStatuses") or []):
            restarts += int(cs.get("restartCount") or 0)
            last_restart = _later(last_restart, _finished_at(cs))
            state = cs.get("state") or {}
            terminated, waiting = state.get("terminated"), state.get("waiting")
            if waiting is not None and waiting.get("reason"):
                reason = str(waiting["reason"])
            elif terminated is not None:
                reason = _terminated_reason(terminated, "")
            elif cs.get("ready") and state.get("running") is not None:
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            # hasPodReadyCondition: any Ready=True condition (not only the first of its type)
            pod_ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)
            reason = "Running" if pod_ready else "NotReady"

    if meta(pod).get("deletionTimestamp"):
        if status.get("reason") == "NodeLost":
            reason = "Unknown"
        elif phase not in ("Failed", "Succeeded"):
            reason = "Terminating"
    return reason, ready, restarts, last_restart


def _pod_cells(pod: Obj, now: datetime) -> Cells:
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    reason, ready, restarts, last_restart = pod_status_reason(pod)
    total = len(spec.get("containers") or []) + sum(
        1 for c in spec.get("initContainers") or [] if _restartable(c)
    )
    restarts_text = str(restarts)
    if restarts and last_restart is not None:
        restarts_text = f"{restarts} ({human_duration(now - last_restart)} ago)"
    # v1 -> internal conversion fills podIPs from podIP; the printer reads podIPs[0].
    pod_ips = status.get("podIPs") or ([{"ip": status["podIP"]}] if status.get("podIP") else [])
    gates = "<none>"
    if spec.get("readinessGates"):
        true_gates = sum(
            1
            for gate in spec["readinessGates"]
            if condition_true(status.get("conditions"), gate.get("conditionType"))
        )
        gates = f"{true_gates}/{len(spec['readinessGates'])}"
    return [
        name_of(pod),
        f"{ready}/{total}",
        reason,
        restarts_text,
        age_of(pod, now),
        (pod_ips[0].get("ip") if pod_ips else "") or "<none>",
        spec.get("nodeName") or "<none>",
        status.get("nominatedNodeName") or "<none>",
        gates,
    ]


def _pod_conditions(pod: Obj) -> list[dict[str, str]]:
    phase = at(pod, "status", "phase")
    if phase == "Succeeded":
        return [dict(c) for c in _POD_COMPLETED]
    if phase == "Failed":
        return [dict(c) for c in _POD_FAILED]
    return []


POD_PRINTERS: dict[str, Printer] = {
    "Pod": Printer(
        (
            NAME,
            Column("Ready", "string", "The aggregate readiness state of this pod for accepting traffic."),
            Column("Status", "string", "The aggregate status of the containers in this pod."),
            Column(
                "Restarts",
                "string",
                "The number of times the containers in this pod have been restarted and "
                "when the last container in this pod has restarted.",
            ),
            AGE,
            Column("IP", "string", "POD_IP", 1),
            Column("Node", "string", "POD_NODE", 1),
            Column("Nominated Node", "string", "POD_NOMINATED", 1),
            Column("Readiness Gates", "string", "POD_GATES", 1),
        ),
        _pod_cells,
        _pod_conditions,
    ),
}
