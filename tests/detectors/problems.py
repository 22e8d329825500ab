"""Objects that do not decode, as the reader records them: a decoded object from `tests.builders`, one of its
fields broken, and the page decoded by `selfheal.snapshot.decode.decode_page` (so the `ObjectProblem` holds
exactly what the reader could still read of it)."""

from __future__ import annotations

import dataclasses
from typing import Any

import msgspec

from selfheal.snapshot.decode import decode_page
from selfheal.view import ObjectProblem, Snapshot

PAGE = {
    "Pod": "pods",
    "Deployment": "deployments",
    "ReplicaSet": "replicasets",
    "HorizontalPodAutoscaler": "hpas",
    "PodDisruptionBudget": "pdbs",
    "ConfigMap": "configmaps",
}
# One field per kind that the job's Structs cannot take.
BREAK = {
    "Pod": ("status", "phase", 1),
    "Deployment": ("status", "replicas", "x"),
    "ReplicaSet": ("status", "replicas", "x"),
    "HorizontalPodAutoscaler": ("spec", "maxReplicas", "x"),
    "PodDisruptionBudget": ("status", "expectedPods", "x"),
    "ConfigMap": ("data", "k", 1),
}


def undecodable(obj: Any, **metadata: Any) -> ObjectProblem:
    """`obj` (a decoded Struct) with a field of the wrong type; `metadata` overrides metadata keys (a value
    of `...` removes the key)."""
    kind = type(obj).__name__
    doc = msgspec.to_builtins(obj)
    doc.pop("x-selfheal-template-json", None)
    section, key, value = BREAK[kind]
    doc.setdefault(section, {})[key] = value
    meta = doc.setdefault("metadata", {})
    for k, v in metadata.items():
        if v is ...:
            meta.pop(k, None)
        else:
            meta[k] = v
    page = decode_page(PAGE[kind], msgspec.json.encode({"items": [doc]}), where=" page 1")
    [problem] = page.problems
    return problem


def with_problems(snapshot: Snapshot, *problems: ObjectProblem) -> Snapshot:
    return dataclasses.replace(snapshot, problems=snapshot.problems + problems)
