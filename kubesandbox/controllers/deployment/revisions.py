"""ReplicaSets as revisions: finding or creating the new one, and pruning the revision history.

A Deployment's pod templates live on as ReplicaSets, one per template, each annotated with the
revision it was rolled out as. `get_all` is `getAllReplicaSetsAndSyncRevision` (sync.go): the
ReplicaSet matching the current template (`EqualIgnoreHash`) is the new one and gets the next revision,
an old template coming back revives its ReplicaSet rather than duplicating it, and a name collision
bumps `collisionCount` so the next attempt hashes differently. `cleanup` is `cleanupDeployment`:
only fully scaled-down old ReplicaSets beyond `revisionHistoryLimit` are deleted, oldest revision first.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

from kubesandbox.controllers.deployment.sync_context import SyncContext
from kubesandbox.controllers.deployment_util import (
    FOUND_NEW_RS,
    HASH_LABEL,
    NEW_RS_CREATED,
    by_revision,
    equal_ignore_hash,
    find_new_rs,
    new_condition,
    new_rs_new_replicas,
    progress_deadline,
    revision,
    revision_history_limit,
    rs_replicas,
    set_condition,
    set_new_rs_annotations,
    spec_of,
)
from kubesandbox.controllers.replicaset import REPLICASETS
from kubesandbox.controllers.util import compute_hash, get_condition, is_controlled_by, new_controller_ref
from kubesandbox.resources.errors import ApiError
from kubesandbox.resources.managed_fields import CONTROLLER_MANAGER
from kubesandbox.store import Obj


def get_all(s: SyncContext, rs_list: list[Obj], create: bool) -> tuple[Obj | None, list[Obj]]:
    """`getAllReplicaSetsAndSyncRevision`: (new ReplicaSet or None, old ones), revisions brought up to date."""
    d = s.d
    existing = find_new_rs(d, rs_list)
    old = [rs for rs in rs_list if existing is None or rs["metadata"]["uid"] != existing["metadata"]["uid"]]
    new_revision = str(max((revision(rs) for rs in old), default=0) + 1)
    if existing is not None:
        rs_copy = copy.deepcopy(existing)
        annotations_updated = set_new_rs_annotations(d, rs_copy, new_revision, True)
        mrs = int(spec_of(d).get("minReadySeconds") or 0)
        if annotations_updated or int((rs_copy.get("spec") or {}).get("minReadySeconds") or 0) != mrs:
            revived = revision(rs_copy) > revision(existing) and bool(old)
            ann = rs_copy["metadata"]["annotations"]

            def fn(o: Obj) -> None:
                o["metadata"]["annotations"] = ann
                if mrs or "minReadySeconds" in o.setdefault("spec", {}):
                    o["spec"]["minReadySeconds"] = mrs

            m = rs_copy["metadata"]
            if revived:
                s.template_changed()
            return s.env.store.mutate(REPLICASETS, m["namespace"], m["name"], fn), old
        st = d.setdefault("status", {})
        found = None
        if progress_deadline(d) is not None and get_condition(st.get("conditions"), "Progressing") is None:
            found = new_condition(
                "Progressing",
                "True",
                FOUND_NEW_RS,
                f'Found new replica set "{rs_copy["metadata"]["name"]}"',
                s.now,
            )
        _sync_revision(s, str(revision(rs_copy)), found)
        return rs_copy, old
    if not create:
        return None, old
    return _create_new_rs(s, old, new_revision), old


def _create_new_rs(s: SyncContext, old: list[Obj], new_revision: str) -> Obj | None:
    """The creating half of `getNewReplicaSet`: `<deployment>-<pod-template-hash>`, sized for the rollout."""
    d = s.d
    st = d.setdefault("status", {})
    template = copy.deepcopy(spec_of(d).get("template") or {})
    collision = st.get("collisionCount")
    pod_hash = compute_hash(template, collision)
    tmeta = template.setdefault("metadata", {})
    tmeta["labels"] = {**(tmeta.get("labels") or {}), HASH_LABEL: pod_hash}
    selector = copy.deepcopy(spec_of(d).get("selector") or {})
    selector["matchLabels"] = {**(selector.get("matchLabels") or {}), HASH_LABEL: pod_hash}
    ns = d["metadata"]["namespace"]
    rs: Obj = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": f"{d['metadata']['name']}-{pod_hash}",
            "namespace": ns,
            "labels": dict(tmeta["labels"]),
            "ownerReferences": [new_controller_ref(d)],
        },
        "spec": {"replicas": 0, "selector": selector, "template": template},
    }
    if spec_of(d).get("minReadySeconds"):  # an int32 with omitempty: 0 is not shown
        rs["spec"]["minReadySeconds"] = int(spec_of(d)["minReadySeconds"])
    count = new_rs_new_replicas(d, [*old, rs], rs)
    rs["spec"]["replicas"] = count
    set_new_rs_annotations(d, rs, new_revision, False)
    already = False
    try:
        created = s.env.store.create(REPLICASETS, rs, manager=CONTROLLER_MANAGER)
    except ApiError as exc:
        if exc.reason != "AlreadyExists":
            return None
        live = s.env.store.peek(REPLICASETS, ns, rs["metadata"]["name"])
        if (
            live is not None
            and is_controlled_by(live, d)
            and equal_ignore_hash((live.get("spec") or {}).get("template"), spec_of(d).get("template"))
        ):
            created, already = copy.deepcopy(live), True
        else:
            st["collisionCount"] = int(collision or 0) + 1
            s.write_status()
            return None
    if old and not already:
        s.template_changed()
    if not already and count > 0:
        s.event("ScalingReplicaSet", f"Scaled up replica set {created['metadata']['name']} from 0 to {count}")
    progressing = None
    if not already and progress_deadline(d) is not None:
        progressing = new_condition(
            "Progressing",
            "True",
            NEW_RS_CREATED,
            f'Created new replica set "{created["metadata"]["name"]}"',
            s.now,
        )
    _sync_revision(s, new_revision, progressing)
    return created


def _sync_revision(s: SyncContext, revision_str: str, progressing: dict[str, Any] | None) -> None:
    """The Deployment's revision annotation and, if given, its new Progressing condition: one status write."""
    needs = s.write_revision(revision_str)
    if progressing is not None:
        set_condition(s.d.setdefault("status", {}), progressing)
        needs = True
    if needs:
        s.write_status()


def cleanup(s: SyncContext, old: list[Obj]) -> None:
    """`cleanupDeployment`: delete the oldest idle old ReplicaSets beyond `revisionHistoryLimit`."""
    limit = revision_history_limit(s.d)
    if limit is None:
        return
    alive = [rs for rs in old if not rs["metadata"].get("deletionTimestamp")]
    diff = len(alive) - limit
    if diff <= 0:
        return
    ordered = sorted(alive, key=functools.cmp_to_key(by_revision))
    for rs in ordered[:diff]:
        st = rs.get("status") or {}
        if (
            int(st.get("replicas") or 0) != 0
            or rs_replicas(rs) != 0
            or int(rs["metadata"].get("generation") or 1) > int(st.get("observedGeneration") or 0)
            or rs["metadata"].get("deletionTimestamp")
        ):
            continue
        try:
            s.env.store.delete(REPLICASETS, rs["metadata"]["namespace"], rs["metadata"]["name"])
        except ApiError:
            continue
