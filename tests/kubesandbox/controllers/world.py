"""The harness of controller stories: a Store, a frozen Clock and a ControllerManager, no HTTP.

    world = World(behaviors={"shop/web:2": "CrashLoop"})
    world.create(deployment("web", image="shop/web:1", replicas=3))
    world.advance(10)
    assert world.deployment("web")["status"]["availableReplicas"] == 3

The objects come from `tests.builders`; this module only runs them and reads the result.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from kubesandbox.controllers import ControllerManager
from kubesandbox.resources import BY_KIND_ONLY, ResourceType
from kubesandbox.resources.clock import Clock
from kubesandbox.resources.defaults import apply_defaults
from kubesandbox.store import Store
from tests.builders import NS, namespace

Obj = dict[str, Any]


def rt(kind: str) -> ResourceType:
    return BY_KIND_ONLY[kind]


class World:
    """A store with scenario objects loaded (pods among them frozen) and controllers over it."""

    def __init__(
        self,
        behaviors: Mapping[str, str] | None = None,
        scenario: Iterable[Obj] = (),
        ns: str = NS,
        seed: int = 0,
    ) -> None:
        self.clock = Clock()
        self.start = self.clock.now()
        self.store = Store(self.clock, seed=seed)
        self.ns = ns
        self.store.load(rt("Namespace"), namespace(ns))
        frozen = []
        for obj in scenario:
            loaded = self.store.load(rt(obj["kind"]), obj)
            if obj["kind"] == "Pod":
                frozen.append(loaded["metadata"]["uid"])
        self.manager = ControllerManager(self.store, dict(behaviors or {}), frozen)

    # -- arranging -------------------------------------------------------------------------------
    def create(self, obj: Obj) -> Obj:
        """A create through the API: defaults applied, uid and timestamps assigned."""
        obj = copy.deepcopy(obj)
        apply_defaults(obj)
        return self.store.create(rt(obj["kind"]), obj)

    def patch(self, kind: str, name: str, fn: Any) -> Obj:
        return self.store.mutate(rt(kind), self.ns, name, fn)

    def delete(self, kind: str, name: str, **kwargs: Any) -> Obj:
        return self.store.delete(rt(kind), self.ns, name, **kwargs)

    def advance(self, seconds: float) -> None:
        self.manager.advance(seconds)
        assert not self.manager.env.errors, list(self.manager.env.errors)

    def elapsed(self) -> float:
        return (self.clock.now() - self.start).total_seconds()

    def step(self, seconds: int) -> Iterable[int]:
        """Advance one second at a time, yielding the elapsed seconds (for per-second invariants)."""
        for t in range(1, seconds + 1):
            self.advance(1)
            yield t

    # -- observing -------------------------------------------------------------------------------
    def get(self, kind: str, name: str) -> Obj:
        return self.store.get(rt(kind), self.ns, name)

    def find(self, kind: str, name: str) -> Obj | None:
        obj = self.store.peek(rt(kind), self.ns, name)
        return copy.deepcopy(obj) if obj is not None else None

    def deployment(self, name: str) -> Obj:
        return self.get("Deployment", name)

    def all(self, kind: str, label_selector: str | None = None) -> list[Obj]:
        return self.store.list(rt(kind), self.ns, label_selector)

    def pods(self, label_selector: str | None = None, *, terminating: bool = False) -> list[Obj]:
        return [
            p
            for p in self.all("Pod", label_selector)
            if bool(p["metadata"].get("deletionTimestamp")) == terminating
        ]

    def replicasets(self, deployment: str) -> list[Obj]:
        return sorted(
            (rs for rs in self.all("ReplicaSet") if rs["metadata"]["name"].startswith(deployment + "-")),
            key=lambda rs: int(rs["metadata"]["annotations"].get("deployment.kubernetes.io/revision", 0)),
        )

    def events(self, reason: str | None = None, involved: str | None = None) -> list[Obj]:
        return [
            e
            for e in self.all("Event")
            if (reason is None or e["reason"] == reason)
            and (involved is None or e["involvedObject"]["name"] == involved)
        ]

    def condition(self, obj: Obj, type_: str) -> Obj:
        return next(c for c in obj["status"]["conditions"] if c["type"] == type_)


def container_status(pod: Obj, name: str = "app", *, init: bool = False) -> Obj:
    field = "initContainerStatuses" if init else "containerStatuses"
    return next(c for c in pod["status"][field] if c["name"] == name)


def pod_condition(pod: Obj, type_: str) -> Obj:
    return next(c for c in pod["status"]["conditions"] if c["type"] == type_)
