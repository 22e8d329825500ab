"""`ObjectRef`: an object as the pass read it. Its uid, resourceVersion and generation are what the
executor checks again before it writes (replaced, edited or terminating since: no write)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ObjectRef:
    kind: str
    name: str
    namespace: str
    uid: str = ""
    resource_version: str = ""
    generation: int = 0  # spec version when read: the executor refuses to act on a spec edited since

    def __str__(self) -> str:
        return f"{self.kind}/{self.name}"


def ref_of(kind: str, meta: Any) -> ObjectRef:
    """The reference to an object from its decoded metadata (`ObjectMeta` or `PodMeta`)."""
    return ObjectRef(
        kind, meta.name, meta.namespace, meta.uid, meta.resource_version, getattr(meta, "generation", 0)
    )
