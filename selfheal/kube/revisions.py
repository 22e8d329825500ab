"""ReplicaSet revisions as kubectl sees them (k8s.io/kubectl pkg/util/deployment, polymorphichelpers).

- A Deployment's ReplicaSets are those whose controller ownerReference has the Deployment's uid.
- Its *new* ReplicaSet is the oldest one whose template equals the Deployment's template, ignoring
  the `pod-template-hash` label.
- `kubectl rollout undo` (no --to-revision) rolls back to the *second highest*
  `deployment.kubernetes.io/revision`; ReplicaSets without a parseable revision are ignored.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from selfheal.kube.model import LABEL_POD_TEMPLATE_HASH, Deployment, ReplicaSet

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def without_hash_label(template: dict[str, Any]) -> dict[str, Any]:
    """The template minus `metadata.labels["pod-template-hash"]` (a shallow copy along that path)."""
    meta = dict(template.get("metadata") or {})
    labels = {k: v for k, v in (meta.get("labels") or {}).items() if k != LABEL_POD_TEMPLATE_HASH}
    if labels:
        meta["labels"] = labels
    else:
        meta.pop("labels", None)
    out = dict(template)
    out["metadata"] = meta
    return out


def equal_ignore_hash(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return without_hash_label(a) == without_hash_label(b)


def new_replicaset(deployment: Deployment, replicasets: tuple[ReplicaSet, ...]) -> ReplicaSet | None:
    live = deployment.template_doc()
    ordered = sorted(replicasets, key=lambda rs: (rs.metadata.creation_timestamp or _EPOCH, rs.metadata.name))
    return next((rs for rs in ordered if equal_ignore_hash(rs.template_doc(), live)), None)


def latest_and_previous(replicasets: tuple[ReplicaSet, ...]) -> tuple[ReplicaSet | None, ReplicaSet | None]:
    """(highest revision, second highest revision), as `kubectl rollout undo` picks them."""
    ranked = sorted(
        ((rev, rs.metadata.name, rs) for rs in replicasets if (rev := rs.revision()) is not None),
        key=lambda t: (t[0], t[1]),
        reverse=True,
    )
    latest = ranked[0][2] if ranked else None
    previous = ranked[1][2] if len(ranked) > 1 else None
    return latest, previous


def previous_revision(replicasets: tuple[ReplicaSet, ...]) -> ReplicaSet | None:
    return latest_and_previous(replicasets)[1]
