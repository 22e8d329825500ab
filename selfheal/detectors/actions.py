"""Every request body this project can send, built in one place, each with the body that undoes it.

The executor sends `Write.body` unchanged with `Write.content_type`; these builders are where the
Kubernetes semantics live:

- restart_pod: POST `pods/eviction` (policy/v1 Eviction) so PodDisruptionBudgets hold; the pod's uid
  is a delete precondition, so a pod recreated under the same name is never evicted by mistake.
- rollback: exactly `kubectl rollout undo`'s JSON patch: replace `/spec/template` with the target
  ReplicaSet's template minus `pod-template-hash`, and replace `/metadata/annotations` with the
  Deployment's own values of kubectl's skip list plus the ReplicaSet's other annotations.
- rollout_restart: `kubectl rollout restart`'s strategic-merge patch of the template annotation
  `kubectl.kubernetes.io/restartedAt` (RFC 3339, seconds).
- scale: a merge patch of `spec.replicas`.
- restore_template: a JSON patch replacing `/spec/template`.
- canary_abort / canary_promote: merge patches of the traffic-split annotation and the canary's
  replicas; promote also JSON-patches the stable containers' images (guarded by `test` ops on the
  container names).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import msgspec

from selfheal.detectors.revisions import equal_ignore_hash, previous_revision, without_hash_label
from selfheal.findings import (
    ActionKind,
    ContentType,
    Ladder,
    ObjectRef,
    PlannedAction,
    Refusal,
    Severity,
    Write,
)
from selfheal.model import (
    ANN_LAST_APPLIED,
    ANN_RESTARTED_AT,
    ANN_REVISION,
    ANN_TRAFFIC_SPLIT,
    Deployment,
    Pod,
    ReplicaSet,
)
from selfheal.snapshot import Snapshot, ref_of

# kubectl's `annotationsToSkip`: kept from the Deployment, never copied from the ReplicaSet.
ROLLBACK_ANNOTATIONS_TO_SKIP = frozenset({
    ANN_LAST_APPLIED,
    ANN_REVISION,
    "deployment.kubernetes.io/revision-history",
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
    "deprecated.deployment.rollback.to",
})


def _json(value: Any) -> bytes:
    return msgspec.json.encode(value)


def rfc3339(now: datetime) -> str:
    """Go's `time.RFC3339` in UTC, as kubectl writes restartedAt."""
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def deployment_ref(dep: Deployment) -> ObjectRef:
    return ref_of("Deployment", dep.metadata)


def _action(kind: ActionKind, workload: ObjectRef, target: ObjectRef, reason: str, summary: str,
            writes: tuple[Write, ...], ladder: Ladder, detector: str, severity: Severity,
            refusal: Refusal | None = None) -> PlannedAction:
    return PlannedAction(kind, workload, target, reason, summary, writes, ladder, detector, severity, refusal)


def restart_pod(pod: Pod, workload: ObjectRef, *, reason: str, summary: str, detector: str,
                severity: Severity, refusal: Refusal | None = None) -> PlannedAction:
    meta = pod.metadata
    body = {
        "apiVersion": "policy/v1",
        "kind": "Eviction",
        "metadata": {"name": meta.name, "namespace": meta.namespace},
        "deleteOptions": {"preconditions": {"uid": meta.uid}},
    }
    write = Write("create", ref_of("Pod", meta), ContentType.JSON, _json(body), None, subresource="eviction",
                  inverse_note="an evicted pod is replaced by its controller; there is nothing to undo")
    return _action(ActionKind.RESTART_POD, workload, ref_of("Pod", meta), reason, summary, (write,),
                   Ladder.HEALTH, detector, severity, refusal)


def rollback_annotations(dep: Deployment, rs: ReplicaSet) -> dict[str, str]:
    annotations = {k: v for k, v in dep.metadata.annotations.items() if k in ROLLBACK_ANNOTATIONS_TO_SKIP}
    annotations.update({k: v for k, v in rs.metadata.annotations.items() if k not in ROLLBACK_ANNOTATIONS_TO_SKIP})
    return dict(sorted(annotations.items()))


def rollback(dep: Deployment, rs: ReplicaSet, *, reason: str, summary: str, detector: str,
             severity: Severity) -> PlannedAction:
    template = without_hash_label(rs.template_doc())
    body = [
        {"op": "replace", "path": "/spec/template", "value": template},
        {"op": "replace", "path": "/metadata/annotations", "value": rollback_annotations(dep, rs)},
    ]
    inverse = [
        {"op": "replace", "path": "/spec/template", "value": dep.template_doc()},
        {"op": "replace", "path": "/metadata/annotations", "value": dict(sorted(dep.metadata.annotations.items()))},
    ]
    ref = deployment_ref(dep)
    write = Write("patch", ref, ContentType.JSON_PATCH, _json(body), _json(inverse))
    return _action(ActionKind.ROLLBACK, ref, ref, reason, summary, (write,), Ladder.HEALTH, detector, severity)


def rollback_to_previous(snapshot: Snapshot, dep: Deployment, *, detector: str) -> PlannedAction | None:
    """The ladder's second rung: `kubectl rollout undo` to the previous revision, if there is one that differs."""
    target = previous_revision(snapshot.replicasets_of(dep))
    if target is None or equal_ignore_hash(target.template_doc(), dep.template_doc()):
        return None
    return rollback(dep, target, reason="restarts_did_not_help", detector=detector, severity=Severity.CRITICAL,
                    summary=f"roll back {dep.metadata.name} to revision {target.revision()} (restarts did not help)")


def _template_annotation_patch(key: str, value: str | None) -> bytes:
    return _json({"spec": {"template": {"metadata": {"annotations": {key: value}}}}})


def rollout_restart(dep: Deployment, now: datetime, *, reason: str, summary: str, detector: str,
                    severity: Severity, ladder: Ladder, annotation: str = ANN_RESTARTED_AT,
                    value: str | None = None) -> PlannedAction:
    """A rolling restart by changing one template annotation (default: kubectl's restartedAt = now)."""
    new_value = rfc3339(now) if value is None else value
    old_value = dep.spec.template.metadata.annotations.get(annotation)
    ref = deployment_ref(dep)
    write = Write("patch", ref, ContentType.STRATEGIC_MERGE_PATCH, _template_annotation_patch(annotation, new_value),
                  _template_annotation_patch(annotation, old_value),
                  inverse_note="applying the inverse starts another rolling restart")
    return _action(ActionKind.ROLLOUT_RESTART, ref, ref, reason, summary, (write,), ladder, detector, severity)


def _replicas_write(dep: Deployment, replicas: int) -> Write:
    return Write("patch", deployment_ref(dep), ContentType.MERGE_PATCH, _json({"spec": {"replicas": replicas}}),
                 _json({"spec": {"replicas": dep.spec.replicas}}))


def scale(dep: Deployment, replicas: int, *, reason: str, summary: str, detector: str,
          severity: Severity) -> PlannedAction:
    ref = deployment_ref(dep)
    return _action(ActionKind.SCALE, ref, ref, reason, summary, (_replicas_write(dep, replicas),),
                   Ladder.REPLICAS, detector, severity)


def restore_template(dep: Deployment, template: Mapping[str, Any], *, reason: str, summary: str,
                     detector: str, severity: Severity) -> PlannedAction:
    ref = deployment_ref(dep)
    body = [{"op": "replace", "path": "/spec/template", "value": template}]
    inverse = [{"op": "replace", "path": "/spec/template", "value": dep.template_doc()}]
    write = Write("patch", ref, ContentType.JSON_PATCH, _json(body), _json(inverse))
    return _action(ActionKind.RESTORE_TEMPLATE, ref, ref, reason, summary, (write,), Ladder.CONFIG, detector,
                   severity)


def traffic_split_value(canary: int, stable: int) -> str:
    """The guide's annotation format: `{"canary":10,"stable":90}`."""
    return _json({"canary": canary, "stable": stable}).decode()


def _traffic_write(annotated: Deployment, canary_percent: int) -> Write:
    old = annotated.metadata.annotations.get(ANN_TRAFFIC_SPLIT)
    new = traffic_split_value(canary_percent, 100 - canary_percent)
    return Write("patch", deployment_ref(annotated), ContentType.MERGE_PATCH,
                 _json({"metadata": {"annotations": {ANN_TRAFFIC_SPLIT: new}}}),
                 _json({"metadata": {"annotations": {ANN_TRAFFIC_SPLIT: old}}}))


def canary_abort(annotated: Deployment, canary: Deployment, *, reason: str, summary: str, detector: str,
                 severity: Severity) -> PlannedAction:
    """Traffic split to canary 0 / stable 100 first, then the canary scaled to 0."""
    writes = (_traffic_write(annotated, 0), _replicas_write(canary, 0))
    ref = deployment_ref(canary)
    return _action(ActionKind.CANARY_ABORT, ref, ref, reason, summary, writes, Ladder.CANARY, detector, severity)


def image_updates(stable: Deployment, canary: Deployment) -> list[tuple[int, str, str, str]]:
    """(index, container name, stable image, canary image) for same-named containers whose image differs."""
    images = {c.name: c.image for c in canary.spec.template.spec.containers}
    return [(i, c.name, c.image, images[c.name]) for i, c in enumerate(stable.spec.template.spec.containers)
            if c.name in images and images[c.name] != c.image]


def canary_promote(stable: Deployment, canary: Deployment, annotated: Deployment, *, reason: str, summary: str,
                   detector: str, severity: Severity) -> PlannedAction:
    """Stable containers take the canary's images; traffic 0/100; the canary scaled to 0."""
    body: list[dict[str, Any]] = []
    inverse: list[dict[str, Any]] = []
    for i, name, old, new in image_updates(stable, canary):
        path = f"/spec/template/spec/containers/{i}"
        body += [{"op": "test", "path": f"{path}/name", "value": name},
                 {"op": "replace", "path": f"{path}/image", "value": new}]
        inverse += [{"op": "test", "path": f"{path}/name", "value": name},
                    {"op": "replace", "path": f"{path}/image", "value": old}]
    images = Write("patch", deployment_ref(stable), ContentType.JSON_PATCH, _json(body), _json(inverse))
    writes = (images, _traffic_write(annotated, 0), _replicas_write(canary, 0))
    ref = deployment_ref(canary)
    return _action(ActionKind.CANARY_PROMOTE, ref, ref, reason, summary, writes, Ladder.CANARY, detector, severity)


def refused(kind: ActionKind, workload: ObjectRef, target: ObjectRef, refusal: Refusal, *, reason: str,
            summary: str, detector: str, severity: Severity, ladder: Ladder) -> PlannedAction:
    """The natural action for a finding, which the detector says must not be taken (no writes)."""
    return _action(kind, workload, target, reason, summary, (), ladder, detector, severity, refusal)
