"""The scheduler and the kubelet of the sandbox's single node, `sandbox-node-1`.

Pods created after the scenario was loaded are bound to the node, then their status is
derived from the runtime model in `containers.py` the way the kubelet's status manager derives
it (`getPhase`, `GeneratePodReadyCondition`, `GeneratePodInitializedCondition`). Scenario
pods (`frozen`) keep the status they were given; the kubelet only finishes their deletion.

Graceful deletion: a pod with a `deletionTimestamp` shows `Terminating` until the kubelet
removes it, 1 s after the deletion was requested (`deletionTimestamp -
deletionGracePeriodSeconds`), as happens to a container that exits promptly on SIGTERM. A pod
that still carries finalizers instead gets a final `Failed` status and is left to the
finalizers' owners, as with the real kubelet's final grace-0 delete.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any

from kubesandbox.controllers import containers as C
from kubesandbox.controllers.context import Env
from kubesandbox.controllers.events import KUBELET, NODE_NAME
from kubesandbox.controllers.podindex import PODS
from kubesandbox.controllers.util import fmt, get_condition, parse_ts, qos_class
from kubesandbox.resources.managed_fields import KUBELET as KUBELET_MANAGER
from kubesandbox.store import Obj

HOST_IP = "172.18.0.2"
INF = math.inf


@dataclass
class _Run:
    start: float  # when the kubelet took the pod (startTime)
    ip: str
    emitted: float  # container events emitted up to this time
    rv: str = ""  # pod resourceVersion after our last look
    next_change: float = 0.0


def _pod_ip(n: int) -> str:
    return f"10.244.{n // 250}.{n % 250 + 2}"


class Kubelet:
    def __init__(self, env: Env) -> None:
        self.env = env
        self.runs: dict[str, _Run] = {}
        self._ips = 0
        self._killed: set[str] = set()
        self._finalized: set[str] = set()

    # -- reconcile -------------------------------------------------------------------------------
    def sync(self, now: float) -> None:
        idx = self.env.pods
        for uid, pod in list(idx.live.items()):
            if uid in idx.terminating:
                continue
            self.env.guard(
                f"kubelet pod {pod['metadata'].get('namespace')}/{pod['metadata'].get('name')}",
                self._run_pod,
                uid,
                pod,
                now,
            )
        for uid, pod in list(idx.terminating.items()):
            self.env.guard(
                f"kubelet pod {pod['metadata'].get('namespace')}/{pod['metadata'].get('name')}",
                self._terminate,
                uid,
                pod,
                now,
            )
        for uid in [u for u in self.runs if u not in idx.all]:
            del self.runs[uid]
        self._killed &= idx.terminating.keys()
        self._finalized &= idx.terminating.keys()

    def _run_pod(self, uid: str, pod: Obj, now: float) -> None:
        if not pod.get("spec", {}).get("nodeName"):
            self._bind(pod, now)
            pod = self.env.pods.all.get(uid, pod)
        self._sync_pod(uid, pod, now)

    def next_wakeup(self, now: float) -> float:
        t = INF
        idx = self.env.pods
        for uid in idx.live:
            run = self.runs.get(uid)
            if run is not None and uid not in idx.terminating:
                t = min(t, run.next_change)
        for pod in idx.terminating.values():
            due = self._removal_due(pod)
            if due is not None:
                t = min(t, due)
        return t

    # -- scheduling ------------------------------------------------------------------------------
    def _bind(self, pod: Obj, now: float) -> None:
        m = pod["metadata"]

        def bind(p: Obj) -> None:
            p["spec"]["nodeName"] = NODE_NAME

        self.env.store.mutate(
            PODS, m["namespace"], m["name"], bind, spec_counts=False, manager=""
        )  # pods/binding
        self.env.recorder.scheduled(pod, now)

    def _run_for(self, uid: str, pod: Obj, now: float) -> _Run:
        run = self.runs.get(uid)
        if run is None:
            status = pod.get("status") or {}
            start = parse_ts(status.get("startTime"))
            ip = status.get("podIP") or ""
            if not ip:
                ip = _pod_ip(self._ips)
                self._ips += 1
            run = self.runs[uid] = _Run(start if start is not None else now, ip, now - 1e-9)
        return run

    # -- status ----------------------------------------------------------------------------------
    def _sync_pod(self, uid: str, pod: Obj, now: float) -> None:
        run = self._run_for(uid, pod, now)
        m = pod["metadata"]
        if run.rv == m.get("resourceVersion") and now < run.next_change - 1e-6:
            return
        status, nxt, events = self._status(pod, run, now)
        run.next_change = nxt
        for ts, type_, reason, message, field_path in events:
            self.env.recorder.record(pod, type_, reason, message, KUBELET, ts, field_path)
        run.emitted = now
        if status != pod.get("status"):

            def write(p: Obj) -> None:
                p["status"] = status

            pod = self.env.store.mutate(
                PODS, m["namespace"], m["name"], write, subresource="status", manager=KUBELET_MANAGER
            )
        run.rv = pod["metadata"]["resourceVersion"]

    def _container_spec(self, pod: Obj, c: dict[str, Any], is_init: bool) -> C.Spec:
        m = pod["metadata"]
        spec = pod["spec"]
        pod_ref = f"{m['name']}_{m['namespace']}({m.get('uid', '')})"
        image = str(c.get("image", ""))
        born = self.env.pods.born.get(m.get("uid", ""), 0)
        probe = c.get("readinessProbe") or {}
        return C.Spec(
            name=str(c.get("name", "")),
            image=image,
            behavior=self.env.behaviors.effective(image, born),
            is_init=is_init,
            restart_policy=str(spec.get("restartPolicy") or "Always"),
            pull_always=c.get("imagePullPolicy") == "Always",
            readiness_delay=float(probe.get("initialDelaySeconds") or 0) if probe else 0.0,
            config_error=C.config_error_message(c, pod_ref),
            pod_ref=pod_ref,
            pod_uid=m.get("uid", ""),
        )

    def _status(
        self, pod: Obj, run: _Run, now: float
    ) -> tuple[dict[str, Any], float, list[tuple[float, str, str, str, str]]]:
        spec = pod.get("spec") or {}
        inits = [c for c in spec.get("initContainers") or [] if isinstance(c, dict)]
        apps = [c for c in spec.get("containers") or [] if isinstance(c, dict)]
        a0 = run.start + 1.0
        nxt = a0 if now < a0 else INF
        events: list[tuple[float, str, str, str, str]] = []
        cursor: float | None = a0
        init_views: list[C.View] = []
        for c in inits:
            cs = self._container_spec(pod, c, True)
            if cursor is None or now < cursor:
                if cursor is not None:
                    nxt = min(nxt, cursor)
                init_views.append(C.waiting_view(cs, "PodInitializing"))
                cursor = None
                continue
            v = C.view(cs, cursor, now, run.emitted)
            nxt = min(nxt, v.next_change)
            events += [(ts, ty, r, msg, f"spec.initContainers{{{cs.name}}}") for ts, ty, r, msg in v.events]
            init_views.append(v)
            cursor = v.done_at
        app_views: list[C.View] = []
        default_reason = "PodInitializing" if inits else "ContainerCreating"
        for c in apps:
            cs = self._container_spec(pod, c, False)
            if cursor is None or now < cursor:
                if cursor is not None:
                    nxt = min(nxt, cursor)
                app_views.append(C.waiting_view(cs, default_reason))
                continue
            v = C.view(cs, cursor, now, run.emitted)
            nxt = min(nxt, v.next_change)
            events += [(ts, ty, r, msg, f"spec.containers{{{cs.name}}}") for ts, ty, r, msg in v.events]
            app_views.append(v)
        init_st = [v.status for v in init_views]
        app_st = [v.status for v in app_views]
        phase = _phase(spec, init_st, app_st)
        old = pod.get("status") or {}
        conditions = self._conditions(
            pod, phase, init_st, app_st, now >= a0, any(v.started for v in app_views), now
        )
        status: dict[str, Any] = {
            "phase": phase,
            "conditions": conditions,
            "hostIP": HOST_IP,
            "hostIPs": [{"ip": HOST_IP}],
        }
        if now >= a0:
            status["podIP"] = run.ip
            status["podIPs"] = [{"ip": run.ip}]
        status["startTime"] = fmt(run.start)
        if inits:
            status["initContainerStatuses"] = init_st
        status["containerStatuses"] = app_st
        status["qosClass"] = old.get("qosClass") or qos_class(spec)
        if phase in ("Succeeded", "Failed"):
            nxt = INF
        return status, nxt, sorted(events, key=lambda e: e[0])

    def _conditions(
        self,
        pod: Obj,
        phase: str,
        init_st: list[dict[str, Any]],
        app_st: list[dict[str, Any]],
        sandbox: bool,
        app_started: bool,
        now: float,
    ) -> list[dict[str, Any]]:
        spec = pod.get("spec") or {}
        old = (pod.get("status") or {}).get("conditions") or []
        terminal = phase in ("Succeeded", "Failed")
        new: list[dict[str, Any]] = [
            {"type": "PodReadyToStartContainers", "status": "True" if sandbox and not terminal else "False"}
        ]
        # Initialized (GeneratePodInitializedCondition)
        incomplete = [
            s["name"]
            for s in init_st
            if not ("terminated" in s["state"] and s["state"]["terminated"]["exitCode"] == 0)
        ]
        if phase == "Succeeded":
            new.append({"type": "Initialized", "status": "True", "reason": "PodCompleted"})
        elif app_started or not incomplete:
            new.append({"type": "Initialized", "status": "True"})
        else:
            new.append(
                {
                    "type": "Initialized",
                    "status": "False",
                    "reason": "ContainersNotInitialized",
                    "message": f"containers with incomplete status: [{' '.join(incomplete)}]",
                }
            )
        # ContainersReady and Ready (GenerateContainersReadyCondition / GeneratePodReadyCondition)
        unready = [s["name"] for s in app_st if not s.get("ready")]
        if terminal:
            reason = "PodCompleted" if phase == "Succeeded" else "PodFailed"
            ready: dict[str, Any] = {"status": "False", "reason": reason}
        elif unready:
            ready = {
                "status": "False",
                "reason": "ContainersNotReady",
                "message": f"containers with unready status: [{' '.join(unready)}]",
            }
        else:
            ready = {"status": "True"}
        pod_ready = dict(ready)
        if ready["status"] == "True":
            conds = (pod.get("status") or {}).get("conditions") or []
            missing = [
                g.get("conditionType")
                for g in spec.get("readinessGates") or []
                if (get_condition(conds, str(g.get("conditionType"))) or {}).get("status") != "True"
            ]
            if missing:
                pod_ready = {
                    "status": "False",
                    "reason": "ReadinessGatesNotReady",
                    "message": f'corresponding condition of pod readiness gate "{missing[0]}" '
                    "does not exist.",
                }
        new.append({"type": "Ready", **pod_ready})
        new.append({"type": "ContainersReady", **ready})
        new.append({"type": "PodScheduled", "status": "True"})
        out: list[dict[str, Any]] = []
        for c in new:
            prev = get_condition(old, c["type"])
            ltt = (
                prev["lastTransitionTime"]
                if prev is not None and prev.get("status") == c["status"] and prev.get("lastTransitionTime")
                else fmt(now)
            )
            cond = {
                "type": c["type"],
                "status": c["status"],
                "lastProbeTime": None,
                "lastTransitionTime": ltt,
            }
            for k in ("reason", "message"):
                if k in c:
                    cond[k] = c[k]
            out.append(cond)
        ours = {c["type"] for c in new}
        out += [c for c in old if c.get("type") not in ours]  # DisruptionTarget, readiness gates …
        return out

    # -- deletion --------------------------------------------------------------------------------
    @staticmethod
    def _removal_due(pod: Obj) -> float | None:
        m = pod["metadata"]
        if not pod.get("spec", {}).get("nodeName"):
            return None
        deadline = parse_ts(m.get("deletionTimestamp"))
        if deadline is None:
            return None
        grace = m.get("deletionGracePeriodSeconds")
        if grace is None:
            return deadline
        return min(deadline - float(grace) + 1.0, deadline) if grace else deadline

    def _terminate(self, uid: str, pod: Obj, now: float) -> None:
        m = pod["metadata"]
        if not pod.get("spec", {}).get("nodeName"):
            return
        if uid not in self._killed:
            self._killed.add(uid)
            requested = parse_ts(m.get("deletionTimestamp")) or now
            if m.get("deletionGracePeriodSeconds"):
                requested -= float(m["deletionGracePeriodSeconds"])
            st = pod.get("status") or {}
            for field, key in (
                ("initContainerStatuses", "initContainers"),
                ("containerStatuses", "containers"),
            ):
                for cs in st.get(field) or []:
                    if "running" in (cs.get("state") or {}):
                        self.env.recorder.record(
                            pod,
                            "Normal",
                            "Killing",
                            f"Stopping container {cs['name']}",
                            KUBELET,
                            min(requested, now),
                            f"spec.{key}{{{cs['name']}}}",
                        )
        due = self._removal_due(pod)
        if due is None or now < due - 1e-6:
            return
        if not m.get("finalizers"):
            self.env.store.remove(PODS, m["namespace"], m["name"])
            self._killed.discard(uid)
            self.runs.pop(uid, None)
            return
        if uid in self._finalized:
            return
        self._finalized.add(uid)
        status = _final_status(pod, now)
        if status != pod.get("status"):

            def write(p: Obj) -> None:
                p["status"] = status

            self.env.store.mutate(
                PODS, m["namespace"], m["name"], write, subresource="status", manager=KUBELET_MANAGER
            )


def _final_status(pod: Obj, now: float) -> dict[str, Any]:
    """What the kubelet reports once a deleted pod's containers are gone (SIGTERM → exit 143)."""
    st = copy.deepcopy(pod.get("status") or {})
    if st.get("phase") in ("Succeeded", "Failed"):
        return st
    for field in ("initContainerStatuses", "containerStatuses"):
        for cs in st.get(field) or []:
            state = cs.get("state") or {}
            if "running" in state:
                cs["state"] = {
                    "terminated": {
                        "exitCode": 143,
                        "reason": "Error",
                        "startedAt": state["running"].get("startedAt"),
                        "finishedAt": fmt(now),
                        "containerID": cs.get("containerID", ""),
                    }
                }
                cs["ready"] = False
                cs["started"] = False
    st["phase"] = "Failed"
    for c in st.get("conditions") or []:
        if (
            c.get("type") in ("Ready", "ContainersReady", "PodReadyToStartContainers")
            and c.get("status") == "True"
        ):
            c["status"] = "False"
            c["lastTransitionTime"] = fmt(now)
            if c["type"] != "PodReadyToStartContainers":
                c["reason"] = "PodFailed"
    return st


def _phase(spec: dict[str, Any], init_st: list[dict[str, Any]], app_st: list[dict[str, Any]]) -> str:
    """The kubelet's `getPhase` (restartable init containers aside)."""
    pending_init = failed_init = 0
    for s in init_st:
        state, last = s.get("state") or {}, s.get("lastState") or {}
        if "running" in state:
            pending_init += 1
        elif "terminated" in state and state["terminated"].get("exitCode") != 0:
            failed_init += 1
        elif "waiting" in state:
            if "terminated" in last:
                if last["terminated"].get("exitCode") != 0:
                    failed_init += 1
            else:
                pending_init += 1
        elif "terminated" not in state:
            pending_init += 1
    running = waiting = stopped = succeeded = unknown = 0
    for s in app_st:
        state, last = s.get("state") or {}, s.get("lastState") or {}
        if "running" in state:
            running += 1
        elif "terminated" in state:
            stopped += 1
            if state["terminated"].get("exitCode") == 0:
                succeeded += 1
        elif "waiting" in state:
            if "terminated" in last:
                stopped += 1
            else:
                waiting += 1
        else:
            unknown += 1
    policy = spec.get("restartPolicy") or "Always"
    if failed_init > 0 and policy == "Never":
        return "Failed"
    started_regular = any(
        "running" in (s.get("state") or {})
        or "terminated" in (s.get("state") or {})
        or "terminated" in (s.get("lastState") or {})
        for s in app_st
    )
    if (pending_init > 0 and not started_regular) or waiting > 0:
        return "Pending"
    if running > 0 and unknown == 0:
        return "Running"
    if running == 0 and stopped > 0 and unknown == 0:
        if policy == "Always":
            return "Running"
        if stopped == succeeded:
            return "Succeeded"
        if policy == "Never":
            return "Failed"
        return "Running"
    return "Pending"
