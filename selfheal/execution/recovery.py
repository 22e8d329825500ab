"""Intents without an outcome: a run that wrote its intent and then died (kill -9, OOM, node loss) before
it could say what happened. The next run holding the Lease looks at the cluster before it plans:

- every write of the intent is found in the cluster (the patch is reflected in the object; the evicted
  pod is gone, terminating or replaced) -> `applied`, marked `recovered`;
- else -> `abandoned` (nothing, or not all of it, happened; a half-done canary abort leaves traffic on
  stable, which is the safe half, and the next pass decides again);
- the cluster cannot be asked right now -> left as it is, for the next run.
Cooldowns and the ladder count the intent, then its resolution, as done either way (planning.py).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import structlog

from selfheal.findings import HistoryEntry, PatchRecord, Result
from selfheal.kube.errors import ApiFailure
from selfheal.kube.patches import reflected
from selfheal.kube.transport import Transport

log = structlog.get_logger("selfheal.execution")


def dangling_intents(lines: Sequence[HistoryEntry], run_id: str) -> list[HistoryEntry]:
    """Intent lines of other runs that no outcome line resolves, oldest first."""
    resolved = {e.intent for e in lines if e.intent and e.result != Result.INTENT}
    return [e for e in lines if e.result == Result.INTENT and e.run_id != run_id and e.intent not in resolved]


def _evicted(transport: Transport, namespace: str, record: PatchRecord) -> bool:
    uid = ((json.loads(bytes(record.body)).get("deleteOptions") or {}).get("preconditions") or {}).get("uid")
    try:
        pod = transport.get("Pod", namespace, record.name)
    except ApiFailure as exc:
        if exc.status == 404:
            return True
        raise
    meta = pod.get("metadata") or {}
    return bool(meta.get("deletionTimestamp")) or (uid is not None and meta.get("uid") != uid)


def _present(transport: Transport, namespace: str, record: PatchRecord) -> bool:
    if record.subresource == "eviction":
        return _evicted(transport, namespace, record)
    try:
        live = transport.get(record.kind, namespace, record.name)
    except ApiFailure as exc:
        if exc.status == 404:
            return False
        raise
    return reflected(record.content_type, json.loads(bytes(record.body)), live)


def check(transport: Transport, intent: HistoryEntry) -> tuple[bool, str] | None:
    """(found, what was seen), or None when the cluster could not be asked."""
    records = intent.patch or ()
    try:
        seen = [_present(transport, intent.namespace, r) for r in records]
    except ApiFailure as exc:
        log.warning("recovery.deferred", intent=intent.intent, error=str(exc))
        return None
    found = bool(seen) and all(seen)
    parts = ", ".join(
        f"{r.kind}/{r.name}{'/' + r.subresource if r.subresource else ''}: "
        f"{'in the cluster' if s else 'not in the cluster'}"
        for r, s in zip(records, seen, strict=True)
    )
    verdict = "found in the cluster" if found else "not (all) in the cluster"
    return found, f"intent {intent.intent} of run {intent.run_id} had no outcome; {verdict} ({parts})"
