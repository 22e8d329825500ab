"""When a field was last written, read from `metadata.managedFields` (the API server's field ownership).

Every write records, per field manager, the fields it set (`fieldsV1`: keys `f:<name>`, nested; an Update
takes over the fields whose value it changed) and the time of its latest write. So the entry owning a
field names who set it last and, to within that manager's later writes, when: after `kubectl patch` of
`spec.replicas` the manager `kubectl-patch` owns `f:spec.f:replicas`, timed at the patch; after `kubectl set
env` the manager `kubectl-set` owns the env it changed, below `f:spec.f:template`.

The job's own writes (manager `selfheal`) are left out: they heal drift, they never start it. The answer is
None (unknown: the pass that acts stands in for the onset) for an object without managedFields (a dump
stripped of them) and whenever an owner of one of the fields carries no time: a real apiserver records none
on writes through the `/scale` subresource (seen on 1.37.2: `kubectl scale` leaves an entry with manager
`kubectl`, operation `Update`, subresource `scale` and no `time`), while `kubectl patch`, `edit`, `apply`
and `set` are timed. Taking the other owners' times there would date a scale made a minute ago to the
apply of three days ago.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Final

from selfheal.kube.model import WrittenMeta

JOB_FIELD_MANAGER: Final = "selfheal"  # the fieldManager of every write the job sends


def last_written(meta: WrittenMeta, paths: Iterable[Sequence[str]]) -> datetime | None:
    """The latest time anyone but the job wrote a field at or below one of `paths`, given as field names:
    ("spec", "replicas"), ("spec", "template"), ("metadata", "annotations", "selfheal.dev/config-hash");
    None when no owner of them is known, or one of the owners is untimed."""
    wanted = list(paths)
    owners = [
        e
        for e in meta.managed_fields
        if e.manager != JOB_FIELD_MANAGER and any(_owns(e.fields_v1, p) for p in wanted)
    ]
    if any(e.time is None for e in owners):  # an untimed write may be the latest: unknown
        return None
    return max((e.time for e in owners if e.time is not None), default=None)


def _owns(fields: Any, path: Sequence[str]) -> bool:
    node = fields
    for name in path:
        if not isinstance(node, dict) or f"f:{name}" not in node:
            return False
        node = node[f"f:{name}"]
    return True
