"""core/v1 Events, written the way client-go's legacy event recorder writes them.

Controllers and the kubelet report through `record`; like client-go's EventCorrelator, a
repeat of the same (object, reason, message, source) bumps `count` and `lastTimestamp` on the
existing Event instead of creating a new one, so a crash-looping pod shows one `BackOff` event
with a growing count, as `kubectl describe` does on a real cluster.
"""

from __future__ import annotations

from dataclasses import dataclass

from kubesandbox.controllers.util import fmt, fmt_micro
from kubesandbox.resources import BY_PLURAL
from kubesandbox.resources.errors import ApiError
from kubesandbox.store import Obj, Store

EVENTS = BY_PLURAL[("", "events")]
NODE_NAME = "sandbox-node-1"


@dataclass(frozen=True)
class Source:
    component: str
    host: str = ""

    @property
    def reporting_instance(self) -> str:
        return self.host


KUBELET = Source("kubelet", NODE_NAME)
DEPLOYMENT = Source("deployment-controller")
REPLICASET = Source("replicaset-controller")
JOB = Source("job-controller")
CRONJOB = Source("cronjob-controller")
HPA = Source("horizontal-pod-autoscaler")
DISRUPTION = Source("controllermanager")


class EventRecorder:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._seq = 0
        self._seen: dict[tuple[str, ...], tuple[str, str]] = {}  # correlation key → (namespace, name)

    def record(
        self, obj: Obj, type_: str, reason: str, message: str, source: Source, ts: float, field_path: str = ""
    ) -> None:
        m = obj["metadata"]
        namespace = m.get("namespace") or "default"
        key = (m.get("uid", ""), field_path, type_, reason, message, source.component, source.host)
        seen = self._seen.get(key)
        if seen is not None:
            existing = self.store.peek(EVENTS, seen[0], seen[1])
            if existing is not None:

                def bump(ev: Obj) -> None:
                    ev["count"] = int(ev.get("count") or 1) + 1
                    ev["lastTimestamp"] = fmt(ts)

                self.store.mutate(EVENTS, seen[0], seen[1], bump)
                return
        involved = {
            "kind": obj.get("kind", ""),
            "namespace": m.get("namespace", ""),
            "name": m["name"],
            "uid": m.get("uid", ""),
            "apiVersion": obj.get("apiVersion", ""),
            "resourceVersion": m.get("resourceVersion", ""),
        }
        if not involved["namespace"]:
            del involved["namespace"]
        if field_path:
            involved["fieldPath"] = field_path
        self._seq += 1
        name = f"{m['name']}.{int(ts * 1e9) + self._seq:x}"
        event: Obj = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": name, "namespace": namespace},
            "involvedObject": involved,
            "reason": reason,
            "message": message,
            "source": {"component": source.component, **({"host": source.host} if source.host else {})},
            "firstTimestamp": fmt(ts),
            "lastTimestamp": fmt(ts),
            "count": 1,
            "type": type_,
            "eventTime": None,
            "reportingComponent": source.component,
            "reportingInstance": source.reporting_instance,
        }
        try:
            self.store.create(EVENTS, event)
        except ApiError:
            return  # namespace gone (being deleted): the real recorder drops the event too
        self._seen[key] = (namespace, name)

    def scheduled(self, pod: Obj, ts: float) -> None:
        """The scheduler's `Scheduled` event (events.k8s.io/v1, seen through core/v1)."""
        m = pod["metadata"]
        self._seq += 1
        event: Obj = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": f"{m['name']}.{int(ts * 1e9) + self._seq:x}", "namespace": m["namespace"]},
            "involvedObject": {
                "kind": "Pod",
                "namespace": m["namespace"],
                "name": m["name"],
                "uid": m.get("uid", ""),
                "apiVersion": "v1",
            },
            "reason": "Scheduled",
            "message": f"Successfully assigned {m['namespace']}/{m['name']} to {NODE_NAME}",
            "source": {},
            "firstTimestamp": None,
            "lastTimestamp": None,
            "type": "Normal",
            "eventTime": fmt_micro(ts),
            "action": "Binding",
            "reportingComponent": "default-scheduler",
            "reportingInstance": "default-scheduler-" + NODE_NAME,
        }
        try:
            self.store.create(EVENTS, event)
        except ApiError:
            return
