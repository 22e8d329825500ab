"""A live index of pods, kept current from the store's change feed.

Controllers need "the pods this ReplicaSet owns", "the orphans in this namespace", "the pods
being deleted" many times per reconcile pass. Scanning 20,000 frozen scenario pods for each of
those questions would make every pass slow, so the index is updated incrementally from the
store's listener (O(1) per change), the way an informer cache is, and a quiet pass costs
nothing per frozen pod. Entries are the store's live objects: read them, never mutate them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from kubesandbox.resources import BY_PLURAL
from kubesandbox.store import Obj, Store, WatchEvent

PODS = BY_PLURAL[("", "pods")]

DeletionHook = Callable[[Obj, int], None]


def _add(index: dict[str, dict[str, Obj]], key: str, uid: str, obj: Obj) -> None:
    bucket = index.get(key)
    if bucket is None:
        bucket = index[key] = {}
    bucket[uid] = obj


def _drop(index: dict[str, dict[str, Obj]], key: str, uid: str) -> None:
    bucket = index.get(key)
    if bucket is not None:
        bucket.pop(uid, None)
        if not bucket:
            del index[key]


class PodIndex:
    def __init__(self, store: Store, frozen: Iterable[str], on_delete: DeletionHook) -> None:
        self.frozen = frozenset(frozen)
        self.all: dict[str, Obj] = {}
        self.by_ns: dict[str, dict[str, Obj]] = {}
        self.by_controller: dict[str, dict[str, Obj]] = {}
        self.by_ref: dict[str, dict[str, Obj]] = {}
        self.orphans: dict[str, dict[str, Obj]] = {}
        self.terminating: dict[str, Obj] = {}
        self.multi_owner: dict[str, Obj] = {}  # pods with more than one ownerReference
        self.live: dict[str, Obj] = {}  # pods the kubelet simulates (not frozen)
        self.born: dict[str, int] = {}  # resourceVersion at creation, for pods created after start
        self.ns_version: dict[str, int] = {}  # bumped on any change to a pod of the namespace
        self.owner_version: dict[str, int] = {}  # … of a pod the owner controls
        self.orphan_version: dict[str, int] = {}  # … of an orphan pod in the namespace
        self._on_delete = on_delete
        with store.lock:
            for pod in store.iter_live(PODS):
                self._insert(pod)
            store.listeners.append(self._listen)

    def _listen(self, ev: WatchEvent) -> None:
        if ev.resource is not PODS:
            return
        uid = ev.obj["metadata"].get("uid", "")
        old = self.all.get(uid)
        if ev.type == "ADDED":
            self.born[uid] = ev.rv
        if old is not None:
            self._remove(uid, old)
        if ev.type == "DELETED":
            self.born.pop(uid, None)
            if old is not None and not old["metadata"].get("deletionTimestamp"):
                self._on_delete(ev.obj, ev.rv)
            return
        if ev.obj["metadata"].get("deletionTimestamp") and (
            old is None or not old["metadata"].get("deletionTimestamp")
        ):
            self._on_delete(ev.obj, ev.rv)
        self._insert(ev.obj)

    def _insert(self, pod: Obj) -> None:
        m = pod["metadata"]
        uid, ns = m.get("uid", ""), m.get("namespace", "")
        self.all[uid] = pod
        _add(self.by_ns, ns, uid, pod)
        self.ns_version[ns] = self.ns_version.get(ns, 0) + 1
        controller = ""
        for ref in m.get("ownerReferences") or []:
            _add(self.by_ref, ref.get("uid", ""), uid, pod)
            if ref.get("controller") and not controller:
                controller = ref.get("uid", "")
        if len(m.get("ownerReferences") or []) > 1:
            self.multi_owner[uid] = pod
        if controller:
            _add(self.by_controller, controller, uid, pod)
            self.owner_version[controller] = self.owner_version.get(controller, 0) + 1
        if m.get("deletionTimestamp"):
            self.terminating[uid] = pod
        elif not controller:
            _add(self.orphans, ns, uid, pod)
            self.orphan_version[ns] = self.orphan_version.get(ns, 0) + 1
        if uid not in self.frozen:
            self.live[uid] = pod

    def _remove(self, uid: str, pod: Obj) -> None:
        m = pod["metadata"]
        ns = m.get("namespace", "")
        self.all.pop(uid, None)
        _drop(self.by_ns, ns, uid)
        self.ns_version[ns] = self.ns_version.get(ns, 0) + 1
        for ref in m.get("ownerReferences") or []:
            _drop(self.by_ref, ref.get("uid", ""), uid)
            _drop(self.by_controller, ref.get("uid", ""), uid)
            if ref.get("controller"):
                self.owner_version[ref.get("uid", "")] = self.owner_version.get(ref.get("uid", ""), 0) + 1
        self.terminating.pop(uid, None)
        self.multi_owner.pop(uid, None)
        if uid in self.orphans.get(ns, {}):
            _drop(self.orphans, ns, uid)
            self.orphan_version[ns] = self.orphan_version.get(ns, 0) + 1
        self.live.pop(uid, None)

    def owned_by(self, owner_uid: str) -> list[Obj]:
        """Pods whose controller is `owner_uid`, in a stable (name) order."""
        bucket = self.by_controller.get(owner_uid)
        if not bucket:
            return []
        return sorted(bucket.values(), key=lambda p: p["metadata"]["name"])

    def in_namespace(self, ns: str) -> list[Obj]:
        bucket = self.by_ns.get(ns)
        if not bucket:
            return []
        return sorted(bucket.values(), key=lambda p: p["metadata"]["name"])

    def orphans_in(self, ns: str) -> list[Obj]:
        bucket = self.orphans.get(ns)
        if not bucket:
            return []
        return sorted(bucket.values(), key=lambda p: p["metadata"]["name"])

    def born_after(self, uid: str, rv: int) -> bool:
        return self.born.get(uid, 0) > rv
