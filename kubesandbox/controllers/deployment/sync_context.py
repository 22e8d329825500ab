"""What one `syncDeployment` works on, and the only writes it makes.

Every step of a sync (revisions, scaling, rollout, status) reads the same working copy of the
Deployment and writes through the same few primitives: its status, its revision annotation, a
ReplicaSet's size with the desired/max-replicas annotations, and an event. Gathering them here keeps
the write rules in one place: the status is written only when it differs from the live one, and a
ReplicaSet is only touched when its size or annotations are stale. Like the Go controller, the
working copy is updated in place and ReplicaSets are not re-read after scaling them within one sync.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from kubesandbox.controllers.behaviors import images_of
from kubesandbox.controllers.context import Env
from kubesandbox.controllers.deployment_util import (
    DEPLOYMENTS,
    REVISION,
    max_surge,
    replicas,
    replicas_annotations_need_update,
    rs_replicas,
    set_replicas_annotations,
    spec_of,
)
from kubesandbox.controllers.events import DEPLOYMENT
from kubesandbox.controllers.replicaset import REPLICASETS
from kubesandbox.store import Obj


class SyncContext:
    """One Deployment's sync: its working copy `d`, the time, and the ReplicaSets it may claim."""

    def __init__(
        self,
        env: Env,
        d: Obj,
        now: float,
        candidates: list[Obj],
        *,
        wake_at: Callable[[float], None],
        selecting_all_reported: set[tuple[str, int]],
    ) -> None:
        self.env = env
        self.d = d
        self.now = now
        self.candidates = candidates  # ReplicaSets it controls plus the orphans of its namespace
        self.wake_at = wake_at  # ask the controller to sync again at a time (a progress deadline)
        self.selecting_all_reported = selecting_all_reported  # (uid, generation) already warned about

    @property
    def generation(self) -> int:
        return int(self.d["metadata"].get("generation") or 1)

    # -- the Deployment ----------------------------------------------------------------------
    def write_status(self) -> None:
        """Persist the working copy's status (through the status subresource) if it changed."""
        m = self.d["metadata"]
        status = copy.deepcopy(self.d.get("status") or {})

        def fn(o: Obj) -> None:
            o["status"] = status

        live = self.env.store.peek(DEPLOYMENTS, m["namespace"], m["name"])
        if live is not None and live.get("status") != status:
            self.env.store.mutate(DEPLOYMENTS, m["namespace"], m["name"], fn, subresource="status")

    def update_status(self, new: dict[str, Any]) -> None:
        """Adopt `new` as the status and persist it, unless it is what the working copy already says."""
        if new != (self.d.get("status") or {}):
            self.d["status"] = new
            self.write_status()

    def write_revision(self, revision_str: str) -> bool:
        """`SetDeploymentRevision` (persisted with the status, as UpdateStatus does for Deployments)."""
        ann = self.d["metadata"].setdefault("annotations", {})
        if ann.get(REVISION) == revision_str:
            return False
        ann[REVISION] = revision_str
        m = self.d["metadata"]

        def fn(o: Obj) -> None:
            o["metadata"].setdefault("annotations", {})[REVISION] = revision_str

        self.env.store.mutate(DEPLOYMENTS, m["namespace"], m["name"], fn, subresource="status")
        return True

    def event(self, reason: str, message: str, type_: str = "Normal") -> None:
        live = self.env.store.peek(DEPLOYMENTS, self.d["metadata"]["namespace"], self.d["metadata"]["name"])
        self.env.recorder.record(live or self.d, type_, reason, message, DEPLOYMENT, self.now)

    def template_changed(self) -> None:
        """Tell the behaviours a new pod template went live (crash-until-restarted scenarios heal on it)."""
        self.env.behaviors.restart_event(
            images_of((spec_of(self.d).get("template") or {}).get("spec")), self.env.store.resource_version
        )

    # -- ReplicaSets -------------------------------------------------------------------------
    def scale_rs(self, rs: Obj, new_scale: int, op: str) -> tuple[bool, Obj]:
        """`scaleReplicaSet`: size and desired/max-replicas annotations; an event if the size changed."""
        d = self.d
        size_changes = rs_replicas(rs) != new_scale
        max_r = replicas(d) + max_surge(d)
        if not size_changes and not replicas_annotations_need_update(rs, replicas(d), max_r):
            return False, rs
        old_scale = rs_replicas(rs)
        m = rs["metadata"]

        def fn(o: Obj) -> None:
            o.setdefault("spec", {})["replicas"] = new_scale
            set_replicas_annotations(o, replicas(d), max_r)

        updated = self.env.store.mutate(REPLICASETS, m["namespace"], m["name"], fn)
        if size_changes:
            self.event(
                "ScalingReplicaSet", f"Scaled {op} replica set {m['name']} from {old_scale} to {new_scale}"
            )
        return size_changes, updated

    def scale_rs_and_record(self, rs: Obj, new_scale: int) -> tuple[bool, Obj]:
        """`scaleReplicaSetAndRecordEvent`: nothing at all when the size is already right."""
        if rs_replicas(rs) == new_scale:
            return False, rs
        return self.scale_rs(rs, new_scale, "up" if rs_replicas(rs) < new_scale else "down")
