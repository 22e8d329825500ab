"""The sandbox's etcd: objects by resource type, namespace and name, with resourceVersions.

Objects are plain JSON-shaped dicts. Each stored object keeps its rendered JSON bytes (made
lazily, dropped on change) so a list of 20,000 pods is a join of cached bytes, not 20,000
`json.dumps` calls. Callers get deep copies from `get`/`list` unless they ask for the live
object with `peek`, which they must not mutate.

Every change is appended to a bounded event log that watches read from.
"""

from __future__ import annotations

import base64
import bisect
import builtins
import copy
import json
import random
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from kubesandbox.resources import BY_PLURAL, ResourceType, errors, managed_fields
from kubesandbox.resources.clock import Clock, rfc3339
from kubesandbox.resources.managed_fields import CONTROLLER_MANAGER
from kubesandbox.resources.selectors import field_matcher, label_matcher

Obj = dict[str, Any]
Key = tuple[str, str]  # (namespace, name); namespace "" for cluster-scoped
KeyList = list[Key]
ObjList = list[Obj]

NAME_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # k8s.io/apimachinery/pkg/util/rand
CONTINUE_TTL_SECONDS = 300  # etcd's default compaction interval: older continue tokens answer 410
WATCH_LOG_SIZE = 10_000
NAMESPACES = BY_PLURAL[("", "namespaces")]
EXPIRED_CONTINUE = (
    "The provided continue parameter is too old to display a consistent list result. You can start a new list "
    "without the continue parameter, or use the continue token in this response to retrieve the remainder of the "
    "results. Continuing with the provided token results in an inconsistent list - objects that were created, "
    "modified, or deleted between the time the first chunk was returned and now may show up in the list."
)


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass
class _Entry:
    obj: Obj
    _bytes: bytes | None = None
    _item_bytes: bytes | None = None

    def rendered(self) -> bytes:
        if self._bytes is None:
            self._bytes = dumps(self.obj)
        return self._bytes

    def item(self) -> bytes:
        """The object as an item of a list: a real server's list items carry no apiVersion or kind."""
        if self._item_bytes is None:
            self._item_bytes = dumps(without_type_meta(self.obj))
        return self._item_bytes


def without_type_meta(obj: Obj) -> Obj:
    return {k: v for k, v in obj.items() if k not in ("apiVersion", "kind")}


@dataclass
class _Table:
    entries: dict[Key, _Entry] = field(default_factory=dict)
    keys: KeyList = field(default_factory=list)  # sorted, like etcd's key order


@dataclass(frozen=True)
class WatchEvent:
    rv: int
    type: str  # ADDED, MODIFIED, DELETED
    resource: ResourceType
    obj: Obj
    prev: Obj | None = None  # the object before this change (None for ADDED): lists continue on a snapshot


@dataclass(frozen=True)
class ListPage:
    resource_version: str
    items: list[bytes]
    continue_token: str
    remaining: int | None


class Store:
    def __init__(self, clock: Clock, seed: int = 0) -> None:
        self.clock = clock
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self._tables: dict[ResourceType, _Table] = {}
        self._rv = 1000
        self._rand = random.Random(seed)
        self._log: deque[WatchEvent] = deque(maxlen=WATCH_LOG_SIZE)
        self.listeners: list[Callable[[WatchEvent], None]] = []

    # -- identity ---------------------------------------------------------------------------
    def new_uid(self) -> str:
        return str(uuid.UUID(int=self._rand.getrandbits(128), version=4))

    def randint(self, low: int, high: int) -> int:
        """A number from the store's seeded generator (allocations: cluster IPs)."""
        return self._rand.randint(low, high)

    def random_suffix(self, n: int = 5) -> str:
        return "".join(self._rand.choice(NAME_SUFFIX_ALPHABET) for _ in range(n))

    @property
    def resource_version(self) -> int:
        return self._rv

    def _next_rv(self) -> str:
        self._rv += 1
        return str(self._rv)

    def _table(self, rt: ResourceType) -> _Table:
        t = self._tables.get(rt)
        if t is None:
            t = self._tables[rt] = _Table()
        return t

    @staticmethod
    def _key(rt: ResourceType, namespace: str | None, name: str) -> Key:
        return ((namespace or "") if rt.namespaced else "", name)

    # -- reads ------------------------------------------------------------------------------
    def peek(self, rt: ResourceType, namespace: str | None, name: str) -> Obj | None:
        """The live stored object, or None. Do not mutate it."""
        with self.lock:
            e = self._table(rt).entries.get(self._key(rt, namespace, name))
            return e.obj if e else None

    def get(self, rt: ResourceType, namespace: str | None, name: str) -> Obj:
        """A copy of the object; raises NotFound."""
        obj = self.peek(rt, namespace, name)
        if obj is None:
            raise errors.not_found(rt.group_resource, rt.group, rt.plural, name)
        return copy.deepcopy(obj)

    def get_bytes(self, rt: ResourceType, namespace: str | None, name: str) -> bytes:
        with self.lock:
            e = self._table(rt).entries.get(self._key(rt, namespace, name))
            if e is None:
                raise errors.not_found(rt.group_resource, rt.group, rt.plural, name)
            return e.rendered()

    def iter_live(self, rt: ResourceType, namespace: str | None = None) -> Iterable[Obj]:
        """Live objects in key order (a snapshot of the key list). Do not mutate them."""
        with self.lock:
            t = self._table(rt)
            keys = self._keys_in(t, namespace)
            return [t.entries[k].obj for k in keys]

    def list(
        self,
        rt: ResourceType,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> ObjList:
        lm, fm = label_matcher(label_selector), field_matcher(field_selector, rt.kind)
        return [
            copy.deepcopy(o)
            for o in self.iter_live(rt, namespace)
            if (lm is None or lm(o.get("metadata", {}).get("labels") or {})) and (fm is None or fm(o))
        ]

    def _keys_in(self, t: _Table, namespace: str | None) -> KeyList:
        if not namespace:
            return list(t.keys)
        lo = bisect.bisect_left(t.keys, (namespace, ""))
        hi = bisect.bisect_left(t.keys, (namespace + "\x00", ""))
        return t.keys[lo:hi]

    def list_page(
        self,
        rt: ResourceType,
        namespace: str | None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        limit: int = 0,
        continue_token: str = "",
        filter_fn: Callable[[Obj], bool] | None = None,
    ) -> ListPage:
        """One page of a list, as pre-rendered item bytes (no apiVersion/kind, as a real server lists them),
        with a continue token when more remain.

        A continued list is served as it was at the first page's resourceVersion, like etcd's ranged reads:
        objects created since do not show, deleted and modified ones show as they were then. The watch log
        provides the versions before each change; a token older than the log (or than a compaction) is 410.
        """
        lm, fm = label_matcher(label_selector), field_matcher(field_selector, rt.kind)
        with self.lock:
            t = self._table(rt)
            list_rv = self._rv
            start_after: Key | None = None
            past: dict[Key, Obj | None] = {}
            if continue_token:
                list_rv, start_after = self._decode_continue(continue_token)
                if list_rv != self._rv:
                    past = self._versions_at(rt, namespace, list_rv)
            keys = self._keys_in(t, namespace)
            if past:
                keys = sorted((set(keys) - past.keys()) | {k for k, v in past.items() if v is not None})
            start = bisect.bisect_right(keys, start_after) if start_after is not None else 0
            items: builtins.list[bytes] = []
            i = start
            last: Key | None = None
            while i < len(keys):
                key = keys[i]
                i += 1
                if key in past:
                    o = past[key]
                    assert o is not None
                    rendered = None
                else:
                    e = t.entries[key]
                    o, rendered = e.obj, e
                if lm is not None and not lm(o.get("metadata", {}).get("labels") or {}):
                    continue
                if fm is not None and not fm(o):
                    continue
                if filter_fn is not None and not filter_fn(o):
                    continue
                items.append(rendered.item() if rendered is not None else dumps(without_type_meta(o)))
                last = key
                if limit and len(items) >= limit:
                    break
            more = limit and i < len(keys) and last is not None
            token, remaining = "", None
            if more and last is not None:
                token = self._encode_continue(list_rv, last)
                if lm is None and fm is None and filter_fn is None:
                    remaining = len(keys) - i
            return ListPage(str(list_rv), items, token, remaining)

    def _versions_at(self, rt: ResourceType, namespace: str | None, rv: int) -> dict[Key, Obj | None]:
        """The objects (in `namespace`) changed since `rv`, as they were at `rv` (None: not there yet)."""
        events = self.events_since(rv)
        if events is None:
            raise errors.gone(EXPIRED_CONTINUE)  # pragma: no cover - the token check fires first
        past: dict[Key, Obj | None] = {}
        for e in events:
            if e.resource != rt:
                continue
            key = self._key(rt, e.obj["metadata"].get("namespace"), e.obj["metadata"]["name"])
            if namespace and key[0] != namespace:
                continue
            past.setdefault(key, e.prev)
        return past

    def _encode_continue(self, rv: int, after: Key) -> str:
        payload = {
            "v": "meta.k8s.io/v1",
            "rv": rv,
            "start": f"{after[0]}/{after[1]}",
            "at": self.clock.now().timestamp(),
        }
        return base64.urlsafe_b64encode(dumps(payload)).decode().rstrip("=")

    def _decode_continue(self, token: str) -> tuple[int, Key]:
        """The token's list resourceVersion and last key. An expired token is a 410 that carries a token to
        continue inconsistently (resourceVersion -1: the rest of the list as it is now)."""
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except ValueError as exc:
            raise errors.bad_request(f"invalid continue token: continue key is not valid: {exc}") from None
        try:
            payload = json.loads(raw)
            ns, _, name = payload["start"].partition("/")
            rv, at = int(payload["rv"]), float(payload["at"])
        except Exception as exc:  # malformed token
            raise errors.bad_request(f"invalid continue token: continue key is not valid: {exc}") from None
        if rv == -1:
            return self._rv, (ns, name)
        if self.clock.now().timestamp() - at > CONTINUE_TTL_SECONDS or rv < self.compacted_rv:
            raise errors.gone(EXPIRED_CONTINUE, self._encode_continue(-1, (ns, name)))
        return rv, (ns, name)

    compacted_rv = 0

    def compact(self) -> None:
        """Forget history up to now: continue tokens issued before this answer 410 Gone."""
        with self.lock:
            self.compacted_rv = self._rv + 1

    # -- writes -----------------------------------------------------------------------------
    def _emit(self, rt: ResourceType, type_: str, obj: Obj, prev: Obj | None = None) -> None:
        ev = WatchEvent(int(obj["metadata"]["resourceVersion"]), type_, rt, obj, prev)
        self._log.append(ev)
        for fn in self.listeners:
            fn(ev)
        self.changed.notify_all()

    def events_since(self, rv: int) -> builtins.list[WatchEvent] | None:
        """Watch events after `rv`, or None when the log no longer reaches back that far (410)."""
        with self.lock:
            if rv < self.compacted_rv - 1 or (self._log and rv < self._log[0].rv - 1):
                return None
            return [e for e in self._log if e.rv > rv]

    def create(
        self,
        rt: ResourceType,
        obj: Obj,
        *,
        dry_run: bool = False,
        prepare: Callable[[Obj], object] | None = None,
        manager: str = "",
    ) -> Obj:
        """Store a new object. `prepare` runs once the uid is assigned (server-side defaulting that
        needs it, like a Job's generated selector), before anything is stored. A `manager` (a controller
        writing) is recorded in managedFields; the API layer records its callers itself."""
        with self.lock:
            obj = copy.deepcopy(obj)
            meta = obj.setdefault("metadata", {})
            if not meta.get("name"):
                if meta.get("generateName"):
                    meta["name"] = meta["generateName"] + self.random_suffix()
                else:
                    raise errors.invalid(
                        rt.kind,
                        rt.group,
                        "",
                        [
                            (
                                "metadata.name",
                                "FieldValueRequired",
                                "Required value: name or generateName is required",
                            )
                        ],
                    )
            name = meta["name"]
            if rt.namespaced:
                ns = meta.get("namespace")
                if not ns:
                    raise errors.bad_request(
                        "the namespace of the provided object does not match the namespace sent on the request"
                    )
                if self.peek(NAMESPACES, None, ns) is None:
                    raise errors.not_found("namespaces", "", "namespaces", ns)
            else:
                meta.pop("namespace", None)
            key = self._key(rt, meta.get("namespace"), name)
            t = self._table(rt)
            if key in t.entries:
                raise errors.already_exists(rt.group_resource, rt.group, rt.plural, name)
            obj["apiVersion"], obj["kind"] = rt.api_version, rt.kind
            meta["uid"] = self.new_uid()
            meta["creationTimestamp"] = rfc3339(self.clock.now())
            meta.pop("deletionTimestamp", None)
            if rt.has_generation:
                meta["generation"] = 1
            if prepare is not None:
                prepare(obj)
            if manager:
                managed_fields.update(obj, None, manager, "Update", "", rt.api_version, self.clock.now())
            if dry_run:  # nothing was stored: a dry-run create answers without a resourceVersion
                meta.pop("resourceVersion", None)
                return obj
            meta["resourceVersion"] = self._next_rv()
            t.entries[key] = _Entry(obj)
            bisect.insort(t.keys, key)
            self._emit(rt, "ADDED", obj)
            return copy.deepcopy(obj)

    def load(self, rt: ResourceType, obj: Obj) -> Obj:
        """Store an object as given (scenario loading): keeps uid/timestamps, fills what is missing."""
        with self.lock:
            obj = copy.deepcopy(obj)
            meta = obj.setdefault("metadata", {})
            obj["apiVersion"], obj["kind"] = rt.api_version, rt.kind
            meta.setdefault("uid", self.new_uid())
            meta.setdefault("creationTimestamp", rfc3339(self.clock.now()))
            if rt.has_generation:
                meta.setdefault("generation", 1)
            if not rt.namespaced:
                meta.pop("namespace", None)
            key = self._key(rt, meta.get("namespace"), meta["name"])
            t = self._table(rt)
            if key in t.entries:
                raise errors.already_exists(rt.group_resource, rt.group, rt.plural, meta["name"])
            meta["resourceVersion"] = self._next_rv()
            t.entries[key] = _Entry(obj)
            bisect.insort(t.keys, key)
            self._emit(rt, "ADDED", obj)
            return obj

    def update(
        self,
        rt: ResourceType,
        obj: Obj,
        *,
        subresource: str = "",
        dry_run: bool = False,
        expect_rv: bool = True,
        on_change: Callable[[Obj], object] | None = None,
        annotations_count: bool = False,
        spec_counts: bool = True,
        manager: str = "",
    ) -> Obj:
        """PUT semantics. A stale metadata.resourceVersion → 409 Conflict.

        `metadata.generation` counts spec changes (unless `spec_counts` is off: a pod's binding sets its
        nodeName without one), and annotation changes too with `annotations_count` (the Deployment strategy
        bumps it for both on user writes: annotations are copied to ReplicaSets).

        Writes to the main resource keep the stored `.status` (when the type has a status
        subresource); writes to `status` keep everything but `.status`. A write that changes nothing
        is answered with the stored object, untouched; otherwise `on_change(new)` runs before the new
        object is answered or stored (the API layer records `managedFields` there; a controller's write
        names its `manager` instead).
        """
        with self.lock:
            meta = obj.get("metadata") or {}
            name = meta.get("name", "")
            key = self._key(rt, meta.get("namespace"), name)
            t = self._table(rt)
            entry = t.entries.get(key)
            if entry is None:
                raise errors.not_found(rt.group_resource, rt.group, rt.plural, name)
            old = entry.obj
            old_meta = old["metadata"]
            rv = meta.get("resourceVersion")
            if expect_rv and rv and rv != old_meta["resourceVersion"]:
                raise errors.stale_write(rt.group_resource, rt.group, rt.plural, name)
            if meta.get("uid") and meta["uid"] != old_meta["uid"]:
                raise errors.uid_precondition_failed(
                    rt.group_resource,
                    rt.group,
                    rt.plural,
                    old_meta.get("namespace", ""),
                    name,
                    meta["uid"],
                    old_meta["uid"],
                )
            new = copy.deepcopy(obj)
            if subresource == "status":
                merged = copy.deepcopy(old)
                if "status" in new:
                    merged["status"] = new["status"]
                if rt.kind == "Deployment":  # its status strategy resets spec and labels only (the
                    # controller's revision annotation is written with the status)
                    ann = (new.get("metadata") or {}).get("annotations")
                    if ann:
                        merged["metadata"]["annotations"] = copy.deepcopy(ann)
                    else:
                        merged["metadata"].pop("annotations", None)
                new = merged
            elif rt.has_status:
                if "status" in old:
                    new["status"] = copy.deepcopy(old["status"])
                else:
                    new.pop("status", None)
            new["apiVersion"], new["kind"] = rt.api_version, rt.kind
            nm = new.setdefault("metadata", {})
            for k in (
                "uid",
                "creationTimestamp",
                "namespace",
                "name",
                "deletionTimestamp",
                "deletionGracePeriodSeconds",
            ):
                if k in old_meta:
                    nm[k] = old_meta[k]
                else:
                    nm.pop(k, None)
            if rt.has_generation:
                nm["generation"] = old_meta.get("generation", 1)
                if (spec_counts and _spec_of(new) != _spec_of(old)) or (
                    annotations_count and nm.get("annotations") != old_meta.get("annotations")
                ):
                    nm["generation"] += 1
            if _without_rv(new) == _without_rv(old):
                return copy.deepcopy(old)  # no-op writes do not bump the resourceVersion
            if on_change is not None:
                on_change(new)
            if manager:
                managed_fields.update(
                    new, old, manager, "Update", subresource, rt.api_version, self.clock.now()
                )
            if dry_run:
                nm["resourceVersion"] = old_meta["resourceVersion"]
                return new
            nm["resourceVersion"] = self._next_rv()
            if (
                nm.get("deletionTimestamp")
                and not nm.get("finalizers")
                and not nm.get("deletionGracePeriodSeconds")
            ):
                # finalizers gone and no grace period left to wait for (a pod in its grace period is
                # removed by the kubelet's final delete, not by losing its finalizers)
                del t.entries[key]
                t.keys.pop(bisect.bisect_left(t.keys, key))
                self._emit(rt, "DELETED", new, old)
                return copy.deepcopy(new)
            t.entries[key] = _Entry(new)
            self._emit(rt, "MODIFIED", new, old)
            return copy.deepcopy(new)

    def mutate(
        self,
        rt: ResourceType,
        namespace: str | None,
        name: str,
        fn: Callable[[Obj], None],
        *,
        subresource: str = "",
        spec_counts: bool = True,
        manager: str = CONTROLLER_MANAGER,
    ) -> Obj:
        """Read-modify-write under the lock (controllers use this; no conflicts possible). The write is
        attributed to `manager` in managedFields ("" for none: a pod's binding records no entry)."""
        with self.lock:
            obj = self.get(rt, namespace, name)
            fn(obj)
            return self.update(
                rt, obj, subresource=subresource, expect_rv=False, spec_counts=spec_counts, manager=manager
            )

    def delete(
        self,
        rt: ResourceType,
        namespace: str | None,
        name: str,
        *,
        preconditions: Mapping[str, Any] | None = None,
        dry_run: bool = False,
        grace_period_seconds: int | None = None,
    ) -> Obj:
        """Remove the object now, or mark it terminating when it has finalizers or a grace period.

        Dependents are left to the garbage collector (controllers), which reads
        `ownerReferences` and the propagation policy recorded by the API layer.
        """
        with self.lock:
            key = self._key(rt, namespace, name)
            t = self._table(rt)
            entry = t.entries.get(key)
            if entry is None:
                raise errors.not_found(rt.group_resource, rt.group, rt.plural, name)
            meta = entry.obj["metadata"]
            pre = preconditions or {}
            for what, field in (("UID", "uid"), ("ResourceVersion", "resourceVersion")):
                if pre.get(field) and pre[field] != meta[field]:
                    raise errors.delete_precondition_failed(
                        rt.kind, rt.group, name, what, pre[field], meta[field]
                    )
            graceful = bool(grace_period_seconds) or bool(meta.get("finalizers"))
            if graceful:
                if meta.get("deletionTimestamp"):
                    return copy.deepcopy(entry.obj)  # already terminating
                new = copy.deepcopy(entry.obj)
                nm = new["metadata"]
                nm["deletionTimestamp"] = rfc3339(
                    self.clock.now() + timedelta(seconds=grace_period_seconds or 0)
                )
                nm["deletionGracePeriodSeconds"] = grace_period_seconds or 0
                if nm.get("generation"):  # rest.BeforeDelete / markAsDeleting bump it
                    nm["generation"] += 1
                if dry_run:
                    return new
                nm["resourceVersion"] = self._next_rv()
                t.entries[key] = _Entry(new)
                self._emit(rt, "MODIFIED", new, entry.obj)
                return copy.deepcopy(new)
            if dry_run:
                return copy.deepcopy(entry.obj)
            del t.entries[key]
            t.keys.pop(bisect.bisect_left(t.keys, key))
            gone = copy.deepcopy(entry.obj)
            gone["metadata"]["resourceVersion"] = self._next_rv()
            self._emit(rt, "DELETED", gone, entry.obj)
            return gone

    def remove(self, rt: ResourceType, namespace: str | None, name: str) -> None:
        """Remove at once, ignoring grace and finalizers (the kubelet confirming a pod is gone)."""
        with self.lock:
            key = self._key(rt, namespace, name)
            t = self._table(rt)
            entry = t.entries.pop(key, None)
            if entry is None:
                return
            t.keys.pop(bisect.bisect_left(t.keys, key))
            gone = copy.deepcopy(entry.obj)
            gone["metadata"]["resourceVersion"] = self._next_rv()
            self._emit(rt, "DELETED", gone, entry.obj)

    def count(self, rt: ResourceType) -> int:
        with self.lock:
            return len(self._table(rt).entries)


def _spec_of(obj: Obj) -> Any:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status", "apiVersion", "kind")}


def _without_rv(obj: Obj) -> Obj:
    o = dict(obj)
    o["metadata"] = {k: v for k, v in obj.get("metadata", {}).items() if k != "resourceVersion"}
    return o
