"""The file as a whole: namespaces, duplicate objects and uids, owner references linked across documents."""

from __future__ import annotations

import hashlib
import uuid
from collections import Counter
from collections.abc import Mapping

from kubesandbox.resources import ResourceType
from kubesandbox.resources.clock import parse_time
from kubesandbox.resources.selectors import selector_matches, selector_to_string
from kubesandbox.serve.scenario.checks import labels_text
from kubesandbox.serve.scenario.model import KINDS, NAMESPACE_RT, SELECTOR_OWNERS, Entry, Obj, Where, show


def resolve_objects(entries: list[Entry]) -> tuple[str, tuple[tuple[ResourceType, Obj], ...]]:
    """Namespaces, duplicates, uids and owner references across documents; the load order."""
    declared = [e for e in entries if e.rt is NAMESPACE_RT]
    declared_names = [e.meta["name"] for e in declared]
    default = declared_names[0] if len(declared) == 1 else None
    for e in entries:
        if not e.rt.namespaced:
            e.meta.pop("namespace", None)
            continue
        namespace = e.meta.get("namespace") or default
        if not namespace:
            e.where.fail(
                "metadata.namespace",
                "Required value: a namespaced object needs one (it may be left "
                "out only when the file has exactly one Namespace document)",
            )
        if declared and namespace not in declared_names:
            e.where.fail(
                "metadata.namespace",
                f'namespace "{namespace}" is not defined in this scenario '
                f"(its Namespace documents: {', '.join(declared_names)})",
            )
        e.meta["namespace"] = namespace
    used = Counter(e.meta["namespace"] for e in entries if e.rt.namespaced)
    namespace = declared_names[0] if declared else (used.most_common(1)[0][0] if used else "default")
    created = [] if declared else [_namespace_object(ns, entries) for ns in (list(used) or [namespace])]
    _check_unique(entries)
    _link_owners(entries)
    objects = [(NAMESPACE_RT, obj) for obj in created]
    objects += [(e.rt, e.obj) for e in declared]
    objects += [(e.rt, e.obj) for e in entries if e.rt is not NAMESPACE_RT]
    return namespace, tuple(objects)


def _namespace_object(name: str, entries: list[Entry]) -> Obj:
    """A Namespace as the API server creates it; as old as the oldest object in it."""
    meta: Obj = {"labels": {"kubernetes.io/metadata.name": name}, "name": name}
    times = [
        e.meta["creationTimestamp"]
        for e in entries
        if e.meta.get("namespace") == name and e.meta.get("creationTimestamp")
    ]
    if times:
        meta["creationTimestamp"] = min(times, key=parse_time)
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": meta,
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"},
    }


def _check_unique(entries: list[Entry]) -> None:
    seen: dict[tuple[ResourceType, str, str], Where] = {}
    uids: dict[str, Where] = {}
    for e in entries:
        key = (e.rt, e.meta.get("namespace", ""), e.meta["name"])
        if key in seen:
            where = f' in namespace "{key[1]}"' if key[1] else ""
            e.where.fail(
                "metadata.name", f'duplicate: {e.rt.kind} "{key[2]}"{where} is already defined by {seen[key]}'
            )
        seen[key] = e.where
        uid = e.meta.get("uid")
        if uid:
            if uid in uids:
                e.where.fail("metadata.uid", f"{show(uid)} is already the uid of {uids[uid]}")
            uids[uid] = e.where


def _derived_uid(rt: ResourceType, namespace: str, name: str) -> str:
    """A stable uid (UUID v4 layout, like the API server's) for an owner the file gives none."""
    digest = hashlib.sha256(f"{rt.api_version}/{rt.kind}/{namespace}/{name}".encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def _link_owners(entries: list[Entry]) -> None:
    by_key = {(e.rt, e.meta.get("namespace", ""), e.meta["name"]): e for e in entries}
    uids = {e.meta["uid"]: e for e in entries if e.meta.get("uid")}
    # references that name a uid first, so an owner without one takes the uid its dependents expect
    for with_uid in (True, False):
        for e in entries:
            for i, ref in enumerate(e.meta.get("ownerReferences") or []):
                if bool(ref.get("uid")) == with_uid:
                    _link(e, i, ref, by_key, uids)


def _link(
    e: Entry, i: int, ref: Obj, by_key: Mapping[tuple[ResourceType, str, str], Entry], uids: dict[str, Entry]
) -> None:
    path = f"metadata.ownerReferences[{i}]"
    rt = KINDS.get(ref["kind"])
    if rt is None:
        e.where.fail(
            f"{path}.kind",
            f"owner kind {show(ref['kind'])} is not served by the sandbox, so the owner "
            "cannot be in this scenario",
        )
    if rt.namespaced and not e.rt.namespaced:
        e.where.fail(path, f"a cluster-scoped object cannot be owned by a namespaced {rt.kind}")
    namespace = e.meta.get("namespace", "") if rt.namespaced else ""
    owner = by_key.get((rt, namespace, ref["name"]))
    if owner is None:
        where = f' in namespace "{namespace}"' if namespace else ""
        e.where.fail(
            path,
            f'owner {rt.kind} "{ref["name"]}"{where} is not in this scenario (the garbage '
            "collector would have deleted this object)",
        )
    if ref["apiVersion"] != rt.api_version:
        e.where.fail(
            f"{path}.apiVersion",
            f"expected {show(rt.api_version)} for a {rt.kind}, got {show(ref['apiVersion'])}",
        )
    owner_uid = owner.meta.get("uid")
    if ref.get("uid"):
        if owner_uid and owner_uid != ref["uid"]:
            e.where.fail(
                f"{path}.uid",
                f'{show(ref["uid"])} is not the uid of {rt.kind} "{ref["name"]}" ({show(owner_uid)})',
            )
        if not owner_uid:
            _give_uid(e, path, owner, ref["uid"], uids)
    else:
        if not owner_uid:
            owner_uid = _derived_uid(rt, namespace, ref["name"])
            _give_uid(e, path, owner, owner_uid, uids)
        ref["uid"] = owner_uid
    selector = (owner.obj.get("spec") or {}).get("selector")
    if ref.get("controller") is True and rt.kind in SELECTOR_OWNERS and isinstance(selector, dict):
        labels = e.meta.get("labels") or {}
        if not selector_matches(selector, labels):
            e.where.fail(
                "metadata.labels",
                f"{labels_text(labels)} do not match the selector of its controller "
                f'{rt.kind} "{ref["name"]}" ({selector_to_string(selector)}): the '
                f"{rt.kind} controller would release it",
            )


def _give_uid(e: Entry, path: str, owner: Entry, uid: str, uids: dict[str, Entry]) -> None:
    taken = uids.get(uid)
    if taken is not None and taken is not owner:
        e.where.fail(
            f"{path}.uid", f"{show(uid)} is the uid of {taken.where}, not of its owner {owner.where}"
        )
    owner.meta["uid"] = uid
    uids[uid] = owner
