"""Wire model: msgspec Structs for the few fields of Kubernetes objects the detectors read.

Why not the official client's models: decoding a 20,000-pod namespace through them takes ~31 s and
2.4 GiB; decoding the raw list bytes straight into these Structs takes well under a second. So every
Struct here declares ONLY what a detector, the planner or a report needs; everything else in the
API's answer is skipped by the decoder (unknown fields are ignored, never an error).

Conventions:
- `rename="camel"`: Python snake_case fields map to the API's camelCase keys.
- every field has a default, so an absent (omitempty) field decodes to the API's zero value;
  `omit_defaults=True` keeps encoded test fixtures as small as the API's own answers.
- `frozen=True`: a snapshot is read-only; `gc=False`: decoded trees hold no reference cycles, so the
  garbage collector need not track tens of thousands of small objects.
- timestamps must carry a timezone (the API always sends RFC 3339 `...Z`); a naive one is a
  decoding error rather than a later comparison crash.

Pod templates of Deployments and ReplicaSets are the one place the full JSON is kept as well
(`template_json`): rollbacks and template restores send the whole template back, and the config
hash covers all of it. `selfheal.snapshot.decode_page` fills that field.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec

from selfheal.kube import annotations as ann

Time = Annotated[datetime, msgspec.Meta(tz=True)]

# --- annotation and label names this project reads or writes (annotations: `selfheal.kube.annotations`) ---
ANN_IGNORE = ann.ANN_IGNORE
ANN_ARGOCD_TRACKING = ann.ANN_ARGOCD_TRACKING
ANN_CONFIG_HASH = ann.ANN_CONFIG_HASH
ANN_CONFIG_CHECKSUM = ann.ANN_CONFIG_CHECKSUM
ANN_DESIRED_REPLICAS = ann.ANN_DESIRED_REPLICAS
ANN_LAST_APPLIED = ann.ANN_LAST_APPLIED
ANN_RESTARTED_AT = ann.ANN_RESTARTED_AT
ANN_REVISION = ann.ANN_REVISION
ANN_TRAFFIC_SPLIT = ann.ANN_TRAFFIC_SPLIT
ANN_CRONJOB_SUSPENDED = ann.ANN_CRONJOB_SUSPENDED
ANN_MIRROR = ann.ANN_MIRROR
LABEL_POD_TEMPLATE_HASH = "pod-template-hash"


class _Wire(msgspec.Struct, rename="camel", omit_defaults=True, frozen=True, gc=False):
    """Base of every wire Struct. msgspec inherits the config; subclasses repeat `frozen=True` only
    because mypy's dataclass_transform support does not see the inherited flag."""


# --- metadata -------------------------------------------------------------------------------------


class OwnerReference(_Wire, frozen=True):
    api_version: str = ""
    kind: str = ""
    name: str = ""
    uid: str = ""
    controller: bool = False


class ObjectMeta(_Wire, frozen=True):
    name: str = ""
    namespace: str = ""
    uid: str = ""
    resource_version: str = ""
    generation: int = 0
    creation_timestamp: Time | None = None
    deletion_timestamp: Time | None = None
    labels: dict[str, str] = {}
    annotations: dict[str, str] = {}
    owner_references: tuple[OwnerReference, ...] = ()

    def controller_ref(self) -> OwnerReference | None:
        """The owner with `controller: true` (the one that manages this object), if any."""
        return next((o for o in self.owner_references if o.controller), None)


class ManagedFieldsEntry(_Wire, frozen=True):
    """One entry of `metadata.managedFields`: which fields a manager set last, with which operation, and
    when (the time of that manager's latest write of any of them)."""

    manager: str = ""
    operation: str = ""
    subresource: str = ""
    time: Time | None = None
    fields_v1: dict[str, Any] = {}


class WrittenMeta(ObjectMeta, frozen=True):
    """ObjectMeta with its managedFields: who wrote what, when. Decoded only for the kinds whose drift
    has an onset (Deployments, HPAs, ConfigMaps: a few objects), never for the thousands of pods."""

    managed_fields: tuple[ManagedFieldsEntry, ...] = ()


class ListMeta(_Wire, frozen=True):
    continue_: str = msgspec.field(default="", name="continue")
    resource_version: str = ""
    remaining_item_count: int | None = None


class LabelSelectorRequirement(_Wire, frozen=True):
    key: str = ""
    operator: str = ""
    values: tuple[str, ...] = ()


class LabelSelector(_Wire, frozen=True):
    match_labels: dict[str, str] = {}
    match_expressions: tuple[LabelSelectorRequirement, ...] = ()


# --- pod template (typed view of the fields detectors read) ---------------------------------------


class Probe(_Wire, frozen=True):
    """Only presence matters (missing-probe detector); the body is not decoded."""


class NameRef(_Wire, frozen=True):
    name: str = ""
    optional: bool | None = None


class EnvVarSource(_Wire, frozen=True):
    config_map_key_ref: NameRef | None = None


class EnvVar(_Wire, frozen=True):
    name: str = ""
    value_from: EnvVarSource | None = None


class EnvFromSource(_Wire, frozen=True):
    config_map_ref: NameRef | None = None


class Container(_Wire, frozen=True):
    name: str = ""
    image: str = ""
    liveness_probe: Probe | None = None
    readiness_probe: Probe | None = None
    startup_probe: Probe | None = None
    env: tuple[EnvVar, ...] = ()
    env_from: tuple[EnvFromSource, ...] = ()


class VolumeProjection(_Wire, frozen=True):
    config_map: NameRef | None = None


class ProjectedVolumeSource(_Wire, frozen=True):
    sources: tuple[VolumeProjection, ...] = ()


class Volume(_Wire, frozen=True):
    name: str = ""
    config_map: NameRef | None = None
    projected: ProjectedVolumeSource | None = None


class TemplateMeta(_Wire, frozen=True):
    labels: dict[str, str] = {}
    annotations: dict[str, str] = {}


class TemplatePodSpec(_Wire, frozen=True):
    containers: tuple[Container, ...] = ()
    init_containers: tuple[Container, ...] = ()
    volumes: tuple[Volume, ...] = ()


class PodTemplate(_Wire, frozen=True):
    metadata: TemplateMeta = TemplateMeta()
    spec: TemplatePodSpec = TemplatePodSpec()

    def configmap_names(self) -> tuple[str, ...]:
        """ConfigMaps the pods read (volumes, projected volumes, envFrom, env valueFrom), sorted."""
        names: set[str] = set()
        for v in self.spec.volumes:
            if v.config_map is not None and v.config_map.name:
                names.add(v.config_map.name)
            if v.projected is not None:
                names.update(
                    s.config_map.name
                    for s in v.projected.sources
                    if s.config_map is not None and s.config_map.name
                )
        for c in self.spec.init_containers + self.spec.containers:
            names.update(
                e.config_map_ref.name
                for e in c.env_from
                if e.config_map_ref is not None and e.config_map_ref.name
            )
            names.update(
                e.value_from.config_map_key_ref.name
                for e in c.env
                if e.value_from is not None
                and e.value_from.config_map_key_ref is not None
                and e.value_from.config_map_key_ref.name
            )
        return tuple(sorted(names))


def _template_doc(template_json: bytes) -> dict[str, Any]:
    doc = msgspec.json.decode(template_json) if template_json else {}
    return doc if isinstance(doc, dict) else {}


# --- pods -------------------------------------------------------------------------------------------


class StateWaiting(_Wire, frozen=True):
    reason: str = ""
    message: str = ""


class StateRunning(_Wire, frozen=True):
    started_at: Time | None = None


class StateTerminated(_Wire, frozen=True):
    reason: str = ""
    exit_code: int = 0
    started_at: Time | None = None
    finished_at: Time | None = None


class ContainerState(_Wire, frozen=True):
    waiting: StateWaiting | None = None
    running: StateRunning | None = None
    terminated: StateTerminated | None = None


class ContainerStatus(_Wire, frozen=True):
    name: str = ""
    image: str = ""
    ready: bool = False
    restart_count: int = 0
    state: ContainerState = ContainerState()
    last_state: ContainerState = ContainerState()


class PodCondition(_Wire, frozen=True):
    type: str = ""
    status: str = ""
    last_transition_time: Time | None = None


# Pods are the bulk of a snapshot (20,000 of them), so their Structs keep less than the others:
# only the annotations the rails read, only the Ready condition, no labels, no spec. The trimming
# happens in __post_init__, i.e. while decoding, so the dropped parts never outlive their page.
POD_ANNOTATIONS_KEPT = frozenset({ANN_IGNORE, ANN_MIRROR})
POD_CONDITIONS_KEPT = frozenset({"Ready"})


class PodMeta(_Wire, frozen=True):
    name: str = ""
    namespace: str = ""
    uid: str = ""
    resource_version: str = ""
    creation_timestamp: Time | None = None
    deletion_timestamp: Time | None = None
    annotations: dict[str, str] = {}
    owner_references: tuple[OwnerReference, ...] = ()

    def __post_init__(self) -> None:
        if any(k not in POD_ANNOTATIONS_KEPT for k in self.annotations):
            kept = {k: v for k, v in self.annotations.items() if k in POD_ANNOTATIONS_KEPT}
            msgspec.structs.force_setattr(self, "annotations", kept)

    def controller_ref(self) -> OwnerReference | None:
        return next((o for o in self.owner_references if o.controller), None)


class PodStatus(_Wire, frozen=True):
    phase: str = ""
    conditions: tuple[PodCondition, ...] = ()
    container_statuses: tuple[ContainerStatus, ...] = ()
    init_container_statuses: tuple[ContainerStatus, ...] = ()

    def __post_init__(self) -> None:
        if any(c.type not in POD_CONDITIONS_KEPT for c in self.conditions):
            kept = tuple(c for c in self.conditions if c.type in POD_CONDITIONS_KEPT)
            msgspec.structs.force_setattr(self, "conditions", kept)


class Pod(_Wire, frozen=True):
    """A pod: no spec at all is decoded; status and ownership are all the detectors need."""

    metadata: PodMeta = PodMeta()
    status: PodStatus = PodStatus()

    def condition(self, type_: str) -> PodCondition | None:
        return next((c for c in self.status.conditions if c.type == type_), None)


# --- deployments and replicasets -------------------------------------------------------------------


class DeploymentCondition(_Wire, frozen=True):
    type: str = ""
    status: str = ""
    reason: str = ""
    message: str = ""
    last_update_time: Time | None = None
    last_transition_time: Time | None = None


class DeploymentSpec(_Wire, frozen=True):
    replicas: int = 1
    paused: bool = False
    progress_deadline_seconds: int = 600
    selector: LabelSelector = LabelSelector()
    template: PodTemplate = PodTemplate()


class DeploymentStatus(_Wire, frozen=True):
    observed_generation: int = 0
    replicas: int = 0
    updated_replicas: int = 0
    ready_replicas: int = 0
    available_replicas: int = 0
    unavailable_replicas: int = 0
    conditions: tuple[DeploymentCondition, ...] = ()


class Deployment(_Wire, frozen=True):
    metadata: WrittenMeta = WrittenMeta()
    spec: DeploymentSpec = DeploymentSpec()
    status: DeploymentStatus = DeploymentStatus()
    # The full `spec.template` JSON as the API returned it. Not a wire field (its name can never
    # occur in an API answer); set by `decode_page`.
    template_json: bytes = msgspec.field(default=b"", name="x-selfheal-template-json")

    def template_doc(self) -> dict[str, Any]:
        """A fresh, mutable copy of the full pod template."""
        return _template_doc(self.template_json)

    def condition(self, type_: str) -> DeploymentCondition | None:
        return next((c for c in self.status.conditions if c.type == type_), None)


class ReplicaSetSpec(_Wire, frozen=True):
    replicas: int = 1
    template: PodTemplate = PodTemplate()


class ReplicaSetStatus(_Wire, frozen=True):
    replicas: int = 0
    ready_replicas: int = 0
    available_replicas: int = 0


class ReplicaSet(_Wire, frozen=True):
    metadata: ObjectMeta = ObjectMeta()
    spec: ReplicaSetSpec = ReplicaSetSpec()
    status: ReplicaSetStatus = ReplicaSetStatus()
    template_json: bytes = msgspec.field(default=b"", name="x-selfheal-template-json")

    def template_doc(self) -> dict[str, Any]:
        return _template_doc(self.template_json)

    def revision(self) -> int | None:
        """`deployment.kubernetes.io/revision` as an int; None when absent or not a number (as kubectl)."""
        return ann.revision(self.metadata.annotations)


# --- autoscaling, disruption budgets, configmaps, cronjob ----------------------------------------


class CrossVersionObjectReference(_Wire, frozen=True):
    api_version: str = ""
    kind: str = ""
    name: str = ""


class HPASpec(_Wire, frozen=True):
    scale_target_ref: CrossVersionObjectReference = CrossVersionObjectReference()
    min_replicas: int = 1
    max_replicas: int = 0


class HPAStatus(_Wire, frozen=True):
    current_replicas: int = 0
    desired_replicas: int = 0


class HorizontalPodAutoscaler(_Wire, frozen=True):
    metadata: WrittenMeta = WrittenMeta()
    spec: HPASpec = HPASpec()
    status: HPAStatus = HPAStatus()


class PDBSpec(_Wire, frozen=True):
    selector: LabelSelector | None = None
    min_available: int | str | None = None
    max_unavailable: int | str | None = None


class PDBStatus(_Wire, frozen=True):
    disruptions_allowed: int = 0
    current_healthy: int = 0
    desired_healthy: int = 0
    expected_pods: int = 0


class PodDisruptionBudget(_Wire, frozen=True):
    metadata: ObjectMeta = ObjectMeta()
    spec: PDBSpec = PDBSpec()
    status: PDBStatus = PDBStatus()


class ConfigMap(_Wire, frozen=True):
    metadata: WrittenMeta = WrittenMeta()
    data: dict[str, str] = {}
    binary_data: dict[str, str] = {}  # base64 text on the wire; hashed as sent


class CronJobSpec(_Wire, frozen=True):
    schedule: str = ""
    suspend: bool = False


class CronJob(_Wire, frozen=True):
    metadata: ObjectMeta = ObjectMeta()
    spec: CronJobSpec = CronJobSpec()

    def suspended(self) -> ann.Flag:
        """`spec.suspend: true`, or the guide's annotation `cronjob.kubernetes.io/suspended: "true"`.

        Truthy when suspended. An annotation that is neither "true" nor "false" (any case, any
        surrounding space) suspends too, the safe side, and the answer carries `invalid` and a
        `warning` line for the log."""
        flag = ann.cronjob_suspended(self.metadata.annotations)
        return ann.Flag(self.spec.suspend or flag.on, flag.invalid)


# --- list envelopes ---------------------------------------------------------------------------------


class PodList(_Wire, frozen=True):
    metadata: ListMeta = ListMeta()
    items: tuple[Pod, ...] = ()


class DeploymentList(_Wire, frozen=True):
    metadata: ListMeta = ListMeta()
    items: tuple[Deployment, ...] = ()


class ReplicaSetList(_Wire, frozen=True):
    metadata: ListMeta = ListMeta()
    items: tuple[ReplicaSet, ...] = ()


class HorizontalPodAutoscalerList(_Wire, frozen=True):
    metadata: ListMeta = ListMeta()
    items: tuple[HorizontalPodAutoscaler, ...] = ()


class PodDisruptionBudgetList(_Wire, frozen=True):
    metadata: ListMeta = ListMeta()
    items: tuple[PodDisruptionBudget, ...] = ()


class ConfigMapList(_Wire, frozen=True):
    metadata: ListMeta = ListMeta()
    items: tuple[ConfigMap, ...] = ()


def selector_matches(selector: LabelSelector, labels: dict[str, str]) -> bool:
    """Kubernetes label-selector semantics (matchLabels AND every matchExpression).

    An empty selector matches everything, as in `metav1.LabelSelectorAsSelector`.
    """
    if any(labels.get(k) != v for k, v in selector.match_labels.items()):
        return False
    for req in selector.match_expressions:
        present = req.key in labels
        if req.operator == "In" and not (present and labels[req.key] in req.values):
            return False
        if req.operator == "NotIn" and present and labels[req.key] in req.values:
            return False
        if req.operator == "Exists" and not present:
            return False
        if req.operator == "DoesNotExist" and present:
            return False
    return True
