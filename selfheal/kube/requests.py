"""Every request body the job can send, built in one place, each with the body that undoes it.

The executor sends `Write.body` unchanged with `Write.content_type`; these builders are where the
Kubernetes semantics live (they return `Write`s; the detectors wrap them into proposed actions):

- eviction: POST `pods/eviction` (policy/v1 Eviction) so PodDisruptionBudgets hold; the pod's uid
  is a delete precondition, so a pod recreated under the same name is never evicted by mistake.
- rollback: exactly `kubectl rollout undo`'s JSON patch: replace `/spec/template` with the target
  ReplicaSet's template minus `pod-template-hash`, and replace `/metadata/annotations` with the
  Deployment's own values of kubectl's skip list plus the ReplicaSet's other annotations.
- template annotation (rollout restart): `kubectl rollout restart`'s strategic-merge patch of the
  template annotation `kubectl.kubernetes.io/restartedAt` (RFC 3339, seconds), or of another one.
- replicas: a merge patch of `spec.replicas`.
- template restore: a JSON patch replacing `/spec/template`.
- canary abort / promote: merge patches of the traffic-split annotation and the canary's replicas;
  promote also JSON-patches the stable containers' images (guarded by `test` ops on the container
  names).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgspec

from selfheal.kube.model import (
    ANN_LAST_APPLIED,
    ANN_RESTARTED_AT,
    ANN_REVISION,
    ANN_TRAFFIC_SPLIT,
    Deployment,
    Pod,
    ReplicaSet,
)
from selfheal.kube.refs import ObjectRef, ref_of
from selfheal.kube.revisions import without_hash_label


class ContentType(enum.StrEnum):
    JSON_PATCH = "application/json-patch+json"
    MERGE_PATCH = "application/merge-patch+json"
    STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
    JSON = "application/json"  # a created object (the Eviction)


@dataclass(frozen=True)
class Write:
    """One API request, exactly as it is to be sent.

    `verb` is "patch" (PATCH on the target, or its subresource) or "create" (POST to the subresource,
    used for `pods/eviction`). `body` are the exact bytes; `inverse` the bytes of a request with the same
    verb, target and content type that undoes it, or None with `inverse_note` saying why there is none.
    """

    verb: str
    target: ObjectRef
    content_type: ContentType
    body: bytes
    inverse: bytes | None
    subresource: str = ""
    inverse_note: str = ""

    def document(self) -> Any:
        return msgspec.json.decode(self.body)

    def inverse_document(self) -> Any:
        return None if self.inverse is None else msgspec.json.decode(self.inverse)


# kubectl's `annotationsToSkip`: kept from the Deployment, never copied from the ReplicaSet.
ROLLBACK_ANNOTATIONS_TO_SKIP = frozenset(
    {
        ANN_LAST_APPLIED,
        ANN_REVISION,
        "deployment.kubernetes.io/revision-history",
        "deployment.kubernetes.io/desired-replicas",
        "deployment.kubernetes.io/max-replicas",
        "deprecated.deployment.rollback.to",
    }
)


def _json(value: Any) -> bytes:
    return msgspec.json.encode(value)


def rfc3339(now: datetime) -> str:
    """Go's `time.RFC3339` in UTC, as kubectl writes restartedAt."""
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def deployment_ref(dep: Deployment) -> ObjectRef:
    return ref_of("Deployment", dep.metadata)


def eviction(pod: Pod) -> Write:
    """Evict the pod (its controller replaces it), guarded by its uid."""
    meta = pod.metadata
    body = {
        "apiVersion": "policy/v1",
        "kind": "Eviction",
        "metadata": {"name": meta.name, "namespace": meta.namespace},
        "deleteOptions": {"preconditions": {"uid": meta.uid}},
    }
    return Write(
        "create",
        ref_of("Pod", meta),
        ContentType.JSON,
        _json(body),
        None,
        subresource="eviction",
        inverse_note="an evicted pod is replaced by its controller; there is nothing to undo",
    )


def rollback_annotations(dep: Deployment, rs: ReplicaSet) -> dict[str, str]:
    annotations = {k: v for k, v in dep.metadata.annotations.items() if k in ROLLBACK_ANNOTATIONS_TO_SKIP}
    annotations.update(
        {k: v for k, v in rs.metadata.annotations.items() if k not in ROLLBACK_ANNOTATIONS_TO_SKIP}
    )
    return dict(sorted(annotations.items()))


def rollback(dep: Deployment, rs: ReplicaSet) -> Write:
    """`kubectl rollout undo` to `rs`'s revision."""
    template = without_hash_label(rs.template_doc())
    body = [
        {"op": "replace", "path": "/spec/template", "value": template},
        {"op": "replace", "path": "/metadata/annotations", "value": rollback_annotations(dep, rs)},
    ]
    inverse = [
        {"op": "replace", "path": "/spec/template", "value": dep.template_doc()},
        {
            "op": "replace",
            "path": "/metadata/annotations",
            "value": dict(sorted(dep.metadata.annotations.items())),
        },
    ]
    return Write("patch", deployment_ref(dep), ContentType.JSON_PATCH, _json(body), _json(inverse))


def _template_annotation_patch(key: str, value: str | None) -> bytes:
    return _json({"spec": {"template": {"metadata": {"annotations": {key: value}}}}})


def template_annotation(dep: Deployment, annotation: str, value: str) -> Write:
    """A rolling restart by changing one template annotation (`kubectl rollout restart` uses restartedAt)."""
    old_value = dep.spec.template.metadata.annotations.get(annotation)
    return Write(
        "patch",
        deployment_ref(dep),
        ContentType.STRATEGIC_MERGE_PATCH,
        _template_annotation_patch(annotation, value),
        _template_annotation_patch(annotation, old_value),
        inverse_note="applying the inverse starts another rolling restart",
    )


def rollout_restart(dep: Deployment, now: datetime) -> Write:
    """Exactly `kubectl rollout restart`: the template annotation restartedAt = now."""
    return template_annotation(dep, ANN_RESTARTED_AT, rfc3339(now))


def replicas(dep: Deployment, count: int) -> Write:
    """A merge patch of `spec.replicas`."""
    return Write(
        "patch",
        deployment_ref(dep),
        ContentType.MERGE_PATCH,
        _json({"spec": {"replicas": count}}),
        _json({"spec": {"replicas": dep.spec.replicas}}),
    )


def restore_template(dep: Deployment, template: Mapping[str, Any]) -> Write:
    body = [{"op": "replace", "path": "/spec/template", "value": template}]
    inverse = [{"op": "replace", "path": "/spec/template", "value": dep.template_doc()}]
    return Write("patch", deployment_ref(dep), ContentType.JSON_PATCH, _json(body), _json(inverse))


def traffic_split_value(canary: int, stable: int) -> str:
    """The guide's annotation format: `{"canary":10,"stable":90}`."""
    return _json({"canary": canary, "stable": stable}).decode()


def traffic_split(annotated: Deployment, canary_percent: int) -> Write:
    old = annotated.metadata.annotations.get(ANN_TRAFFIC_SPLIT)
    new = traffic_split_value(canary_percent, 100 - canary_percent)
    return Write(
        "patch",
        deployment_ref(annotated),
        ContentType.MERGE_PATCH,
        _json({"metadata": {"annotations": {ANN_TRAFFIC_SPLIT: new}}}),
        _json({"metadata": {"annotations": {ANN_TRAFFIC_SPLIT: old}}}),
    )


def canary_abort(annotated: Deployment, canary: Deployment) -> tuple[Write, ...]:
    """Traffic split to canary 0 / stable 100 first, then the canary scaled to 0."""
    return (traffic_split(annotated, 0), replicas(canary, 0))


def image_updates(stable: Deployment, canary: Deployment) -> list[tuple[int, str, str, str]]:
    """(index, container name, stable image, canary image) for same-named containers whose image differs."""
    images = {c.name: c.image for c in canary.spec.template.spec.containers}
    return [
        (i, c.name, c.image, images[c.name])
        for i, c in enumerate(stable.spec.template.spec.containers)
        if c.name in images and images[c.name] != c.image
    ]


def canary_promote(stable: Deployment, canary: Deployment, annotated: Deployment) -> tuple[Write, ...]:
    """Stable containers take the canary's images; traffic 0/100; the canary scaled to 0."""
    body: list[dict[str, Any]] = []
    inverse: list[dict[str, Any]] = []
    for i, name, old, new in image_updates(stable, canary):
        path = f"/spec/template/spec/containers/{i}"
        body += [
            {"op": "test", "path": f"{path}/name", "value": name},
            {"op": "replace", "path": f"{path}/image", "value": new},
        ]
        inverse += [
            {"op": "test", "path": f"{path}/name", "value": name},
            {"op": "replace", "path": f"{path}/image", "value": old},
        ]
    images = Write("patch", deployment_ref(stable), ContentType.JSON_PATCH, _json(body), _json(inverse))
    return (images, traffic_split(annotated, 0), replicas(canary, 0))
