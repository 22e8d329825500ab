"""One actor at a time: a `coordination.k8s.io/v1` Lease, taken before the pass reads anything it
will act on, renewed while it acts, released at the end.

Taking it before the snapshot (not just before the first write) matters: a second run that waits
for the first to finish then reads a world — and a history file — that already shows the first
run's actions, so cooldowns hold and nothing is done twice. The protocol is client-go's
leader-election one: create, or take over an expired lease with an optimistic-concurrency update;
a 409 on either means someone else won (unless the Lease shows our own write: its answer was lost).

Renewal follows client-go's renew deadline: a renewal that fails (the API server unreachable after the
retries) does not stop the run while the Lease it holds still has a third of its duration to run — no one
else can take it before it expires; past that, or when someone else holds it, `LeaseLost`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog

from selfheal.kube.errors import ApiFailure
from selfheal.kube.managed import JOB_FIELD_MANAGER
from selfheal.kube.retry import call_with_retries
from selfheal.kube.transport import Transport, object_path

log = structlog.get_logger("selfheal.execution")


def micro_time(t: datetime) -> str:
    """metav1.MicroTime on the wire."""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


@dataclass(frozen=True)
class LeaseState:
    acquired: bool
    holder: str = ""
    expires: datetime | None = None


class LeaseLost(Exception):
    """Another holder took the Lease while this run was acting."""


class LeaseLock:
    def __init__(
        self,
        transport: Transport,
        namespace: str,
        name: str,
        identity: str,
        duration_seconds: int,
        clock: Callable[[], datetime],
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.transport = transport
        self.namespace = namespace
        self.name = name
        self.identity = identity
        self.duration = duration_seconds
        self.clock = clock
        self.sleep = sleep
        self._lease: dict[str, Any] | None = None
        self._renewed: datetime | None = None

    def _path(self, name: str = "") -> str:
        return object_path("Lease", self.namespace, name)

    def _spec(self, now: datetime, transitions: int, acquired: datetime | None = None) -> dict[str, Any]:
        return {
            "holderIdentity": self.identity,
            "leaseDurationSeconds": self.duration,
            "acquireTime": micro_time(acquired or now),
            "renewTime": micro_time(now),
            "leaseTransitions": transitions,
        }

    def acquire(self) -> LeaseState:
        now = self.clock()
        try:
            current = self.transport.get("Lease", self.namespace, self.name)
        except ApiFailure as exc:
            if exc.status != 404:
                raise
            return self._create(now)
        spec = current.get("spec") or {}
        holder = str(spec.get("holderIdentity") or "")
        renewed = _parse(spec.get("renewTime")) or _parse(spec.get("acquireTime"))
        duration = int(spec.get("leaseDurationSeconds") or 0)
        expires = renewed + timedelta(seconds=duration) if renewed else None
        if holder and holder != self.identity and expires is not None and expires > now:
            return LeaseState(False, holder, expires)
        transitions = int(spec.get("leaseTransitions") or 0) + (1 if holder != self.identity else 0)
        current["spec"] = self._spec(now, transitions)
        return self._put(current, now)

    def _write(self, method: str, path: str, body: dict[str, Any]) -> dict[str, Any] | None:
        """POST or PUT the Lease, retrying blips through the one predicate. None: 409, the world moved —
        unless our own earlier attempt is what moved it (its answer lost on the way back), in which case
        the stored Lease says we hold it with the renewTime we sent."""
        payload = json.dumps(body).encode()
        try:
            resp = call_with_retries(
                lambda: self.transport.request(
                    method,
                    path,
                    query=[("fieldManager", JOB_FIELD_MANAGER)],
                    content_type="application/json",
                    body=payload,
                ),
                sleep=self.sleep or self.transport.pause,
            )
        except ApiFailure as exc:
            if exc.status != 409:
                raise
            try:
                stored = self.transport.get("Lease", self.namespace, self.name)
            except ApiFailure as again:
                if again.status == 404:
                    return None
                raise
            spec, sent = stored.get("spec") or {}, body.get("spec") or {}
            mine = spec.get("holderIdentity") == sent.get("holderIdentity") and spec.get(
                "renewTime"
            ) == sent.get("renewTime")
            return stored if mine else None
        doc = resp.json()
        return doc if isinstance(doc, dict) else body

    def _create(self, now: datetime) -> LeaseState:
        body = {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {
                "name": self.name,
                "namespace": self.namespace,
                "labels": {"app.kubernetes.io/managed-by": "selfheal"},
            },
            "spec": self._spec(now, 0),
        }
        stored = self._write("POST", self._path(), body)
        if stored is None:  # created by someone else a moment ago
            return LeaseState(False, "another run")
        self._lease, self._renewed = stored, now
        return LeaseState(True, self.identity)

    def _put(self, lease: dict[str, Any], now: datetime) -> LeaseState:
        stored = self._write("PUT", self._path(self.name), lease)
        if stored is None:  # updated by someone else since we read it
            return LeaseState(False, "another run")
        self._lease, self._renewed = stored, now
        return LeaseState(True, self.identity)

    def keep_alive(self) -> None:
        """Renew when a third of the duration has passed since the last renewal. A renewal that cannot
        reach the API server is tolerated while a third of the Lease's duration is left; LeaseLost after."""
        if self._lease is None or self._renewed is None:
            return
        now = self.clock()
        held = now - self._renewed
        if held < timedelta(seconds=self.duration / 3):
            return
        lease = dict(self._lease)
        spec = dict(lease.get("spec") or {})
        spec["renewTime"] = micro_time(now)
        lease["spec"] = spec
        try:
            state = self._put(lease, now)
        except ApiFailure as exc:
            left = timedelta(seconds=self.duration) - held
            if left >= timedelta(seconds=self.duration / 3):
                log.warning(
                    "lease.renew_failed",
                    lease=self.name,
                    error=str(exc),
                    detail=f"still held for {left.total_seconds():.0f}s; renewed again before the next write",
                )
                return
            self._lease = None
            raise LeaseLost(
                f"Lease {self.namespace}/{self.name} could not be renewed ({exc}) and expires in "
                f"{max(0.0, left.total_seconds()):.0f}s: another run may take it"
            ) from None
        if not state.acquired:
            self._lease = None
            raise LeaseLost(f"Lease {self.namespace}/{self.name} was taken over while this run was acting")

    def release(self) -> None:
        """Give the Lease up at once (client-go's ReleaseOnCancel: empty holder, 1 s duration)."""
        if self._lease is None:
            return
        lease = dict(self._lease)
        spec = dict(lease.get("spec") or {})
        spec.update(
            {"holderIdentity": None, "leaseDurationSeconds": 1, "renewTime": micro_time(self.clock())}
        )
        lease["spec"] = spec
        try:
            self._put(lease, self.clock())
        finally:
            self._lease = None
