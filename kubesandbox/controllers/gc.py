"""The garbage collector (pkg/controller/garbagecollector), one pass at a time.

* A dependent whose owners are all gone (no object of that kind and name with that uid) is
  deleted with the propagation its own finalizers ask for (Background by default); owners of a
  kind the sandbox does not serve cannot be resolved and are treated as present, as the real
  GC keeps retrying instead of deleting.
* A dependent with some owners present only loses the references to the missing ones (and
  to owners being deleted in the foreground).
* An owner being deleted with the `foregroundDeletion` finalizer gets its dependents deleted
  (in the foreground themselves when they have dependents) and loses the finalizer once no
  dependent with `blockOwnerDeletion` is left; with the `orphan` finalizer its dependents lose
  their reference to it first.
"""

from __future__ import annotations

import contextlib
from typing import Any

from kubesandbox.controllers import pods as P
from kubesandbox.controllers.context import Env
from kubesandbox.controllers.podindex import PODS
from kubesandbox.resources import RESOURCES, ResourceType, resource_for_kind
from kubesandbox.resources.errors import ApiError
from kubesandbox.store import Obj, Store

FOREGROUND = "foregroundDeletion"
ORPHAN = "orphan"
_SKIP = ("Event", "Namespace", "Pod")
GC_TYPES = tuple(rt for rt in RESOURCES if rt.kind not in _SKIP)


def _without_refs_to(uids: set[str]) -> Any:
    def fn(o: Obj) -> None:
        refs = [r for r in o["metadata"].get("ownerReferences") or [] if r.get("uid") not in uids]
        if refs:
            o["metadata"]["ownerReferences"] = refs
        else:
            o["metadata"].pop("ownerReferences", None)

    return fn


def _without_finalizer(name: str) -> Any:
    def fn(o: Obj) -> None:
        fins = [f for f in o["metadata"].get("finalizers") or [] if f != name]
        if fins:
            o["metadata"]["finalizers"] = fins
        else:
            o["metadata"].pop("finalizers", None)

    return fn


def _with_finalizer(name: str) -> Any:
    def fn(o: Obj) -> None:
        fins = o["metadata"].setdefault("finalizers", [])
        if name not in fins:
            fins.append(name)

    return fn


def orphan_dependents(store: Store, owner_uid: str) -> None:
    """propagationPolicy=Orphan: every dependent loses its ownerReference to `owner_uid`."""
    with store.lock:
        for rt in RESOURCES:
            for obj in list(store.iter_live(rt)):
                refs = obj["metadata"].get("ownerReferences") or []
                if any(r.get("uid") == owner_uid for r in refs):
                    m = obj["metadata"]
                    store.mutate(rt, m.get("namespace") or None, m["name"], _without_refs_to({owner_uid}))


def _ns(rt: ResourceType, obj: Obj) -> str | None:
    return obj["metadata"].get("namespace") if rt.namespaced else None


def delete_with_policy(store: Store, rt: ResourceType, obj: Obj, policy: str) -> None:
    m = obj["metadata"]
    try:
        if policy == "Foreground":
            store.mutate(rt, _ns(rt, obj), m["name"], _with_finalizer(FOREGROUND))
        elif policy == "Orphan":
            store.mutate(rt, _ns(rt, obj), m["name"], _with_finalizer(ORPHAN))
        if rt is PODS:
            live = store.peek(PODS, m["namespace"], m["name"])
            if live is not None:
                P.delete_pod(store, live)
        else:
            store.delete(rt, _ns(rt, obj), m["name"])
    except ApiError:
        return


class GarbageCollector:
    def __init__(self, env: Env) -> None:
        self.env = env

    def sync(self, now: float) -> None:
        store = self.env.store
        idx = self.env.pods
        others: list[tuple[ResourceType, Obj]] = []
        dependents: dict[str, list[tuple[ResourceType, Obj]]] = {}
        for rt in GC_TYPES:
            for obj in store.iter_live(rt):
                m = obj["metadata"]
                refs = m.get("ownerReferences") or []
                for r in refs:
                    dependents.setdefault(r.get("uid", ""), []).append((rt, obj))
                if refs or m.get("deletionTimestamp"):
                    others.append((rt, obj))

        def deps_of(uid: str) -> list[tuple[ResourceType, Obj]]:
            return dependents.get(uid, []) + [(PODS, p) for p in (idx.by_ref.get(uid) or {}).values()]

        def has_dependents(uid: str) -> bool:
            return bool(dependents.get(uid)) or bool(idx.by_ref.get(uid))

        cache: dict[tuple[str, str], str] = {}

        def classify(ref: dict[str, Any], ns: str) -> str:
            key = (ref.get("uid", ""), ns)
            if key not in cache:
                rt = resource_for_kind(str(ref.get("apiVersion", "")), str(ref.get("kind", "")))
                if rt is None:
                    cache[key] = "solid"
                else:
                    owner = store.peek(rt, ns if rt.namespaced else None, str(ref.get("name", "")))
                    if owner is None or owner["metadata"].get("uid") != ref.get("uid"):
                        cache[key] = "dangling"
                    elif owner["metadata"].get("deletionTimestamp") and FOREGROUND in (
                        owner["metadata"].get("finalizers") or []
                    ):
                        cache[key] = "waiting"
                    else:
                        cache[key] = "solid"
            return cache[key]

        def attempt(rt: ResourceType, obj: Obj) -> None:
            m = obj["metadata"]
            if m.get("deletionTimestamp"):
                return
            refs = m.get("ownerReferences") or []
            if not refs:
                return
            ns = m.get("namespace", "")
            kinds = [(r, classify(r, ns)) for r in refs]
            solid = [r for r, k in kinds if k == "solid"]
            gone = {r.get("uid", "") for r, k in kinds if k != "solid"}
            waiting = [r for r, k in kinds if k == "waiting"]
            if solid:
                if gone:
                    with contextlib.suppress(ApiError):
                        store.mutate(rt, _ns(rt, obj), m["name"], _without_refs_to(gone))
                return
            if waiting and has_dependents(m.get("uid", "")):
                delete_with_policy(store, rt, obj, "Foreground")
                return
            fins = m.get("finalizers") or []
            policy = "Orphan" if ORPHAN in fins else "Foreground" if FOREGROUND in fins else "Background"
            delete_with_policy(store, rt, obj, policy)

        # owners being deleted: orphan / foreground finalizers
        terminating = [(rt, o) for rt, o in others if o["metadata"].get("deletionTimestamp")]
        terminating += [(PODS, p) for p in list(idx.terminating.values())]
        for rt, obj in terminating:
            m = obj["metadata"]
            fins = m.get("finalizers") or []
            uid = m.get("uid", "")
            try:
                if ORPHAN in fins:
                    orphan_dependents(store, uid)
                    store.mutate(rt, _ns(rt, obj), m["name"], _without_finalizer(ORPHAN))
                    continue
                if FOREGROUND in fins:
                    blocking = [
                        d
                        for d in deps_of(uid)
                        if any(
                            r.get("uid") == uid and r.get("blockOwnerDeletion")
                            for r in d[1]["metadata"].get("ownerReferences") or []
                        )
                    ]
                    if not blocking:
                        store.mutate(rt, _ns(rt, obj), m["name"], _without_finalizer(FOREGROUND))
            except ApiError:
                continue
        # dependents whose owners are gone (or being deleted in the foreground)
        for rt, obj in others:
            if obj["metadata"].get("ownerReferences"):
                live = store.peek(rt, _ns(rt, obj), obj["metadata"]["name"])
                if live is not None and live["metadata"].get("uid") == obj["metadata"].get("uid"):
                    self.env.guard(f"gc {rt.kind} {obj['metadata']['name']}", attempt, rt, live)
        for owner_uid in list(idx.by_ref):
            bucket = idx.by_ref.get(owner_uid) or {}
            if not bucket:
                continue
            sample = next(iter(bucket.values()))
            ref = next(
                (r for r in sample["metadata"].get("ownerReferences") or [] if r.get("uid") == owner_uid),
                None,
            )
            if ref is None:
                continue
            if classify(ref, sample["metadata"].get("namespace", "")) == "solid":
                # only pods with other owners can have something to do (a dangling second owner)
                pods = [p for uid, p in idx.multi_owner.items() if uid in bucket]
            else:
                pods = list(bucket.values())
            for pod in sorted(pods, key=lambda p: p["metadata"]["name"]):
                live = idx.all.get(pod["metadata"].get("uid", ""))
                if live is not None:
                    self.env.guard(f"gc pod {pod['metadata']['name']}", attempt, PODS, live)
