"""The annotations the job reads, parsed in one place."""

from __future__ import annotations

import json

from selfheal.kube.model import ANN_TRAFFIC_SPLIT, Deployment


def traffic_split(dep: Deployment) -> tuple[int, int] | None:
    """(canary %, stable %) from the annotation, or None when absent or malformed."""
    raw = dep.metadata.annotations.get(ANN_TRAFFIC_SPLIT)
    if raw is None:
        return None
    try:
        doc = json.loads(raw)
        canary, stable = int(doc["canary"]), int(doc["stable"])
    except (ValueError, TypeError, KeyError):
        return None
    return canary, stable
