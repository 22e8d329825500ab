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
- canary abort / promote / step: one write per Deployment of the pair, each carrying all that changes on
  it (the split annotation, the job's step record, `selfheal.dev/desired-replicas`, replicas, images), so
  no write of an action finds its Deployment's generation bumped by an earlier one. Merge patches, except
  on the stable when images change: a JSON patch, the image replaces guarded by `test` ops on the
  container names. Without a step record, abort keeps its historical shape: the split on the annotated
  Deployment, then the canary scaled to 0 (a metadata-only write never bumps the generation).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import msgspec

from selfheal.kube.annotations import ANN_CANARY_STEP, CanaryStep
from selfheal.kube.model import (
    ANN_DESIRED_REPLICAS,
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


def image_updates(stable: Deployment, canary: Deployment) -> list[tuple[int, str, str, str]]:
    """(index, container name, stable image, canary image) for same-named containers whose image differs."""
    images = {c.name: c.image for c in canary.spec.template.spec.containers}
    return [
        (i, c.name, c.image, images[c.name])
        for i, c in enumerate(stable.spec.template.spec.containers)
        if c.name in images and images[c.name] != c.image
    ]


# --- canary pairs: one write per Deployment -----------------------------------------------------------


@dataclass
class _Change:
    """What one Deployment of a canary pair becomes: annotations (None removes one), replicas, images."""

    dep: Deployment
    annotations: dict[str, str | None] = field(default_factory=dict)
    replicas: int | None = None
    images: tuple[tuple[int, str, str, str], ...] = ()

    def scale(self, count: int | None) -> None:
        """Replicas to `count` (None: left alone), with `selfheal.dev/desired-replicas` saying the same, so
        the replica-drift detector agrees with the canary's progression instead of undoing it."""
        if count is not None and count != self.dep.spec.replicas:
            self.replicas = count
            self.annotations[ANN_DESIRED_REPLICAS] = str(count)


def _pointer(key: str) -> str:
    return "/metadata/annotations/" + key.replace("~", "~0").replace("/", "~1")


def _change_write(change: _Change) -> Write | None:
    dep = change.dep
    current = dep.metadata.annotations
    annotations = {k: v for k, v in change.annotations.items() if current.get(k) != v}
    count = change.replicas if change.replicas is not None and change.replicas != dep.spec.replicas else None
    if not annotations and count is None and not change.images:
        return None
    ref = deployment_ref(dep)
    if not change.images:
        body: dict[str, Any] = {}
        inverse: dict[str, Any] = {}
        if annotations:
            body["metadata"] = {"annotations": annotations}
            inverse["metadata"] = {"annotations": {k: current.get(k) for k in annotations}}
        if count is not None:
            body["spec"] = {"replicas": count}
            inverse["spec"] = {"replicas": dep.spec.replicas}
        return Write("patch", ref, ContentType.MERGE_PATCH, _json(body), _json(inverse))
    ops: list[dict[str, Any]] = []
    undo: list[dict[str, Any]] = []
    if annotations and not current:  # no annotation map to add keys to: add the map
        added = {k: v for k, v in annotations.items() if v is not None}
        if added:
            ops.append({"op": "add", "path": "/metadata/annotations", "value": added})
            undo.append({"op": "remove", "path": "/metadata/annotations"})
    else:
        for key, value in annotations.items():
            old = current.get(key)
            ops.append(
                {"op": "remove", "path": _pointer(key)}
                if value is None
                else {"op": "add", "path": _pointer(key), "value": value}
            )
            undo.append(
                {"op": "remove", "path": _pointer(key)}
                if old is None
                else {"op": "add", "path": _pointer(key), "value": old}
            )
    for i, name, old_image, new_image in change.images:
        path = f"/spec/template/spec/containers/{i}"
        ops += [
            {"op": "test", "path": f"{path}/name", "value": name},
            {"op": "replace", "path": f"{path}/image", "value": new_image},
        ]
        undo += [
            {"op": "test", "path": f"{path}/name", "value": name},
            {"op": "replace", "path": f"{path}/image", "value": old_image},
        ]
    if count is not None:
        ops.append({"op": "replace", "path": "/spec/replicas", "value": count})
        undo.append({"op": "replace", "path": "/spec/replicas", "value": dep.spec.replicas})
    return Write("patch", ref, ContentType.JSON_PATCH, _json(ops), _json(undo))


def _writes(changes: Iterable[_Change]) -> tuple[Write, ...]:
    return tuple(w for w in (_change_write(c) for c in changes) if w is not None)


def _pair(stable: Deployment, canary: Deployment, annotated: Deployment) -> tuple[_Change, _Change, _Change]:
    """(stable's change, canary's change, the annotated one's: one of the first two)."""
    s, c = _Change(stable), _Change(canary)
    return s, c, (s if annotated.metadata.uid == stable.metadata.uid else c)


def _end_progression(
    stable: Deployment,
    canary: Deployment,
    annotated: Deployment,
    record: CanaryStep | None,
    *,
    restore_stable: bool,
    images: tuple[tuple[int, str, str, str], ...] = (),
) -> tuple[Write, ...]:
    """Traffic 0/100 and the canary at 0; with the job's step `record`, what its steps changed is put back
    as it found it (the stable's replicas when `restore_stable`, both desired-replicas annotations) and the
    record removed. The stable's write first: its capacity comes back before the canary goes."""
    s, c, holder = _pair(stable, canary, annotated)
    for change in (s, c):  # every copy of the split says where traffic goes now, not only the one read
        if change is holder or ANN_TRAFFIC_SPLIT in change.dep.metadata.annotations:
            change.annotations[ANN_TRAFFIC_SPLIT] = traffic_split_value(0, 100)
    s.images = images
    c.replicas = 0 if canary.spec.replicas != 0 else None
    if record is not None:
        holder.annotations[ANN_CANARY_STEP] = None
        if restore_stable:
            s.replicas = record.stable_replicas
            s.annotations[ANN_DESIRED_REPLICAS] = record.stable_desired
        c.annotations[ANN_DESIRED_REPLICAS] = record.canary_desired
    return _writes((s, c))


def canary_abort(
    annotated: Deployment,
    canary: Deployment,
    *,
    stable: Deployment | None = None,
    record: CanaryStep | None = None,
    restore_stable: bool = False,
) -> tuple[Write, ...]:
    """Traffic split to canary 0 / stable 100 first (on both Deployments when both carry a split), then the
    canary scaled to 0; after the job's own steps (`record`), the stable's replicas are restored too
    (`_end_progression`)."""
    if stable is None or record is None:
        pair = (canary,) if stable is None else (stable, canary)
        also = tuple(
            traffic_split(d, 0)
            for d in pair
            if d.metadata.uid != annotated.metadata.uid and ANN_TRAFFIC_SPLIT in d.metadata.annotations
        )
        return (traffic_split(annotated, 0), *also, replicas(canary, 0))
    return _end_progression(stable, canary, annotated, record, restore_stable=restore_stable)


def canary_promote(
    stable: Deployment,
    canary: Deployment,
    annotated: Deployment,
    *,
    record: CanaryStep | None = None,
    restore_stable: bool = False,
) -> tuple[Write, ...]:
    """Stable containers take the canary's images; traffic 0/100; the canary scaled to 0."""
    images = tuple(image_updates(stable, canary))
    return _end_progression(stable, canary, annotated, record, restore_stable=restore_stable, images=images)


def canary_step(
    stable: Deployment,
    canary: Deployment,
    annotated: Deployment,
    *,
    percent: int,
    at: datetime,
    record: CanaryStep | None,
    stable_replicas: int | None,
    canary_replicas: int | None,
) -> tuple[Write, ...]:
    """The split to `percent`/`100 - percent` with the job's step record (when, and, from the first step
    on, what it found: `record`), and the replicas that match it (None: left alone, e.g. an HPA's). The
    canary's write first: its capacity grows before the stable's shrinks."""
    s, c, holder = _pair(stable, canary, annotated)
    base = record or CanaryStep(
        0,
        at,
        stable.spec.replicas,
        stable.metadata.annotations.get(ANN_DESIRED_REPLICAS),
        canary.metadata.annotations.get(ANN_DESIRED_REPLICAS),
    )
    step = CanaryStep(percent, at, base.stable_replicas, base.stable_desired, base.canary_desired)
    holder.annotations[ANN_TRAFFIC_SPLIT] = traffic_split_value(percent, 100 - percent)
    holder.annotations[ANN_CANARY_STEP] = step.value()
    c.scale(canary_replicas)
    s.scale(stable_replicas)
    return _writes((c, s))
