"""Reading the namespace: paginated lists only (`limit`/`continue`), never a GET per object.

A 20,000-pod namespace is 40 requests of 500 pods. Each page's raw bytes go straight into the msgspec
Structs of `selfheal.kube.model` (`decode.decode_page`); the official client's typed models are never
built for lists (they cost ~31 s and 2.4 GiB for 20k pods).

An object that does not decode is left out of the snapshot and listed in `Snapshot.problems` (one
`snapshot.object_undecodable` warning each); the rest of the namespace is read, judged and healed. A
page that is not JSON, or not a list, is a `SnapshotError` (exit 3).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import structlog

from selfheal.kube.errors import ApiFailure
from selfheal.kube.transport import Transport, object_path
from selfheal.snapshot.decode import SnapshotError, checksums_of, content_written_of, decode_page
from selfheal.view import ObjectProblem, Snapshot

log = structlog.get_logger("selfheal.snapshot")


# kind in decode_page -> the object kind whose namespaced collection is listed
LISTED: Final = {
    "pods": "Pod",
    "deployments": "Deployment",
    "replicasets": "ReplicaSet",
    "hpas": "HorizontalPodAutoscaler",
    "pdbs": "PodDisruptionBudget",
    "configmaps": "ConfigMap",
}


@dataclass(frozen=True)
class Listed:
    items: list[Any]
    problems: list[ObjectProblem]  # items that did not decode, left out of `items`


def list_all(kind: str, transport: Transport, namespace: str, page_size: int) -> Listed:
    """All items of one resource, page by page. An expired continue token (410) restarts the list
    once from the beginning, as client-go's pager does."""
    path = object_path(LISTED[kind], namespace)
    items: list[Any] = []
    problems: list[ObjectProblem] = []
    token = ""
    restarted = False
    seen: set[str] = set()
    page_no = 1
    while True:
        query = [("limit", str(page_size))] + ([("continue", token)] if token else [])
        try:
            body = transport.request("GET", path, query=query).body
        except ApiFailure as exc:
            if exc.status == 410 and token and not restarted:
                log.info("snapshot.list_restarted", resource=kind, reason="continue token expired")
                items, problems, token, restarted, seen, page_no = [], [], "", True, set(), 1
                continue
            raise
        page = decode_page(kind, body, where=f" page {page_no}")
        items.extend(page.items)
        problems.extend(page.problems)
        if not page.continue_token:
            return Listed(items, problems)
        if page.continue_token in seen:
            raise SnapshotError(f"{kind} page {page_no}: the API repeated a continue token")
        seen.add(page.continue_token)
        token = page.continue_token
        page_no += 1


def read_snapshot(transport: Transport, namespace: str, page_size: int = 500) -> Snapshot:
    """Read the namespace. Objects that do not decode are left out and listed in `problems`.
    Raises `SnapshotError` for a page that is not JSON or not a list, and lets `ApiFailure`
    (401/403/5xx, no answer) through: the caller maps them to exit code 3."""
    if page_size < 1:
        raise ValueError("page_size must be at least 1")
    lists = {kind: list_all(kind, transport, namespace, page_size) for kind in LISTED}
    problems = tuple(p for listed in lists.values() for p in listed.problems)
    for problem in problems:
        log.warning(
            "snapshot.object_undecodable",
            kind=problem.kind,
            name=problem.name,
            field=problem.path,
            problem=problem.problem,
            detail=f"{problem.line}; left out of this pass",
        )
    snap = Snapshot(
        namespace=namespace,
        pods=tuple(lists["pods"].items),
        deployments=tuple(lists["deployments"].items),
        replicasets=tuple(lists["replicasets"].items),
        hpas=tuple(lists["hpas"].items),
        pdbs=tuple(lists["pdbs"].items),
        configmap_checksums=checksums_of(lists["configmaps"].items),
        configmap_written=content_written_of(lists["configmaps"].items),
        problems=problems,
    )
    log.info(
        "snapshot.read",
        namespace=namespace,
        pods=len(snap.pods),
        deployments=len(snap.deployments),
        replicasets=len(snap.replicasets),
        hpas=len(snap.hpas),
        pdbs=len(snap.pdbs),
        configmaps=len(snap.configmap_checksums),
        undecodable=len(problems),
    )
    return snap
