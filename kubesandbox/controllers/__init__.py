"""The sandbox's controller manager: every controller the scenarios need, run against the Store.

`ControllerManager.reconcile()` runs one round of every controller at the store clock's
current time, repeating the round until nothing changes (a real cluster's controllers react
to each other within milliseconds). `advance(seconds)` moves the frozen clock forward by
jumping straight to the next moment something can change (a container starting or crashing,
a back-off ending, a progress deadline, an HPA resync, a pod's grace period…) and reconciling
there, so a 600 s advance costs a few dozen rounds, not 600. Both are deterministic: every
name and uid comes from the store's seeded generator, every time from the store's clock.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Protocol

from kubesandbox.controllers.behaviors import Behaviors, images_of
from kubesandbox.controllers.context import Env
from kubesandbox.controllers.cronjob import CronJobController
from kubesandbox.controllers.deployment import DeploymentController
from kubesandbox.controllers.disruption import DisruptionController
from kubesandbox.controllers.events import EventRecorder
from kubesandbox.controllers.gc import GarbageCollector
from kubesandbox.controllers.hpa import HpaController
from kubesandbox.controllers.job import JobController
from kubesandbox.controllers.kubelet import Kubelet
from kubesandbox.controllers.namespaces import NamespaceContents
from kubesandbox.controllers.podindex import PodIndex
from kubesandbox.controllers.replicaset import ReplicaSetController
from kubesandbox.controllers.util import to_ts
from kubesandbox.store import Obj, Store

__all__ = ["ControllerManager"]

MAX_ROUNDS = 25  # a round that still writes after this many is a controller bug; stop rather than spin
EPSILON = 1e-6


class _Controller(Protocol):
    def sync(self, now: float) -> None: ...


class ControllerManager:
    def __init__(
        self, store: Store, behaviors: Mapping[str, str], frozen_pods: Iterable[str] = (), ca_pem: str = ""
    ) -> None:
        self.store = store
        self.behaviors = Behaviors(behaviors)
        self.pods = PodIndex(store, frozen_pods, self._pod_deleted)
        self.env = Env(store, EventRecorder(store), self.pods, self.behaviors)
        self.gc = GarbageCollector(self.env)
        self.deployments = DeploymentController(self.env)
        self.replicasets = ReplicaSetController(self.env)
        self.jobs = JobController(self.env)
        self.cronjobs = CronJobController(self.env)
        self.hpas = HpaController(self.env)
        self.kubelet = Kubelet(self.env)
        self.disruption = DisruptionController(self.env)
        self.namespaces = NamespaceContents(self.env, ca_pem)
        self._order: tuple[_Controller, ...] = (
            self.namespaces,
            self.gc,
            self.hpas,
            self.deployments,
            self.replicasets,
            self.jobs,
            self.cronjobs,
            self.kubelet,
            self.disruption,
        )

    def _pod_deleted(self, pod: Obj, rv: int) -> None:
        self.behaviors.restart_event(images_of(pod.get("spec")), rv)

    def reconcile(self) -> None:
        """One pass of every controller at `store.clock.now()` (repeated until quiet)."""
        with self.store.lock:
            for _ in range(MAX_ROUNDS):
                before = self.store.resource_version
                now = to_ts(self.store.clock.now())
                for controller in self._order:
                    controller.sync(now)
                if self.store.resource_version == before:
                    return

    def next_change(self) -> float:
        """The earliest time after now at which some controller has something to do (inf: none)."""
        now = to_ts(self.store.clock.now())
        return min(
            self.kubelet.next_wakeup(now),
            self.deployments.next_wakeup(now),
            self.replicasets.next_wakeup(now),
            self.jobs.next_wakeup(now),
            self.hpas.next_wakeup(now),
            self.disruption.next_wakeup(now),
        )

    def advance(self, seconds: float) -> None:
        """Move the clock forward by `seconds`, reconciling at every moment something changes."""
        if seconds < 0:
            raise ValueError("the clock does not go backwards")
        with self.store.lock:
            clock = self.store.clock
            target = to_ts(clock.now()) + seconds
            self.reconcile()
            while True:
                now = to_ts(clock.now())
                if now >= target - EPSILON:
                    return
                nxt = self.next_change()
                if nxt <= now + EPSILON:
                    nxt = now + 1.0  # something claims to be due but did not happen: move on anyway
                stop = min(nxt, target)
                if math.isinf(stop):
                    stop = target
                clock.advance(stop - now)
                self.reconcile()
