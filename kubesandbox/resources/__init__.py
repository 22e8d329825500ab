"""The resource types the sandbox serves: one table that routing, discovery and RBAC all read.

Each entry mirrors what a real API server reports in discovery for that resource
(`kubectl api-resources` on a 1.32 cluster): group, version, kind, short names, verbs
and the subresources it exposes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
NO_COLLECTION_DELETE = ("create", "delete", "get", "list", "patch", "update", "watch")


@dataclass(frozen=True)
class Subresource:
    name: str
    kind: str
    verbs: tuple[str, ...]
    group: str = ""  # group/version of the subresource's own kind, when it differs
    version: str = ""


@dataclass(frozen=True)
class ResourceType:
    group: str
    version: str
    kind: str
    plural: str
    singular: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ALL_VERBS
    subresources: tuple[Subresource, ...] = ()
    categories: tuple[str, ...] = ()
    has_status: bool = False  # the status subresource exists: main-resource writes ignore .status
    has_generation: bool = False  # metadata.generation counts spec changes
    returns_deleted: bool = False  # DELETE answers the object, not a Status (registry ReturnDeletedObject)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    @property
    def group_resource(self) -> str:
        """`pods`, `deployments.apps`: the form Status messages use."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    def subresource(self, name: str) -> Subresource | None:
        return next((s for s in self.subresources if s.name == name), None)


_STATUS = Subresource("status", "", ("get", "patch", "update"))


def _status_of(kind: str) -> Subresource:
    return Subresource("status", kind, _STATUS.verbs)


def _scale(group: str = "autoscaling", version: str = "v1") -> Subresource:
    return Subresource("scale", "Scale", ("get", "patch", "update"), group, version)


RESOURCES: tuple[ResourceType, ...] = (
    ResourceType(
        "",
        "v1",
        "Namespace",
        "namespaces",
        "namespace",
        False,
        ("ns",),
        NO_COLLECTION_DELETE,
        (_status_of("Namespace"),),
        has_status=True,
    ),
    ResourceType(
        "",
        "v1",
        "Pod",
        "pods",
        "pod",
        True,
        ("po",),
        ALL_VERBS,
        (
            _status_of("Pod"),
            Subresource("eviction", "Eviction", ("create",), "policy", "v1"),
            Subresource("log", "Pod", ("get",)),
        ),
        categories=("all",),
        has_status=True,
        has_generation=True,  # 1.33+: pods count spec changes too (status.observedGeneration)
        returns_deleted=True,
    ),
    ResourceType("", "v1", "ConfigMap", "configmaps", "configmap", True, ("cm",)),
    ResourceType("", "v1", "Secret", "secrets", "secret", True),
    ResourceType(
        "",
        "v1",
        "Service",
        "services",
        "service",
        True,
        ("svc",),
        NO_COLLECTION_DELETE,
        (_status_of("Service"),),
        categories=("all",),
        has_status=True,
        returns_deleted=True,
    ),
    ResourceType(
        "", "v1", "ServiceAccount", "serviceaccounts", "serviceaccount", True, ("sa",), returns_deleted=True
    ),
    ResourceType("", "v1", "Event", "events", "event", True, ("ev",)),
    ResourceType(
        "apps",
        "v1",
        "Deployment",
        "deployments",
        "deployment",
        True,
        ("deploy",),
        ALL_VERBS,
        (_scale(), _status_of("Deployment")),
        categories=("all",),
        has_status=True,
        has_generation=True,
    ),
    ResourceType(
        "apps",
        "v1",
        "ReplicaSet",
        "replicasets",
        "replicaset",
        True,
        ("rs",),
        ALL_VERBS,
        (_scale(), _status_of("ReplicaSet")),
        categories=("all",),
        has_status=True,
        has_generation=True,
    ),
    # Stored and served, no controller: scenarios and dumps may hold them (their pods are rails for the job).
    ResourceType(
        "apps",
        "v1",
        "DaemonSet",
        "daemonsets",
        "daemonset",
        True,
        ("ds",),
        ALL_VERBS,
        (_status_of("DaemonSet"),),
        categories=("all",),
        has_status=True,
        has_generation=True,
    ),
    ResourceType(
        "apps",
        "v1",
        "StatefulSet",
        "statefulsets",
        "statefulset",
        True,
        ("sts",),
        ALL_VERBS,
        (_scale(), _status_of("StatefulSet")),
        categories=("all",),
        has_status=True,
        has_generation=True,
    ),
    ResourceType(
        "batch",
        "v1",
        "CronJob",
        "cronjobs",
        "cronjob",
        True,
        ("cj",),
        ALL_VERBS,
        (_status_of("CronJob"),),
        categories=("all",),
        has_status=True,
        has_generation=True,
    ),
    ResourceType(
        "batch",
        "v1",
        "Job",
        "jobs",
        "job",
        True,
        (),
        ALL_VERBS,
        (_status_of("Job"),),
        categories=("all",),
        has_status=True,
        has_generation=True,
    ),
    ResourceType(
        "autoscaling",
        "v2",
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        "horizontalpodautoscaler",
        True,
        ("hpa",),
        ALL_VERBS,
        (_status_of("HorizontalPodAutoscaler"),),
        categories=("all",),
        has_status=True,
        has_generation=True,
    ),
    ResourceType(
        "policy",
        "v1",
        "PodDisruptionBudget",
        "poddisruptionbudgets",
        "poddisruptionbudget",
        True,
        ("pdb",),
        ALL_VERBS,
        (_status_of("PodDisruptionBudget"),),
        has_status=True,
        has_generation=True,
    ),
    ResourceType("coordination.k8s.io", "v1", "Lease", "leases", "lease", True),
    # Not stored: answered on create with the caller's own authorization (`kubectl auth can-i`).
    ResourceType(
        "authorization.k8s.io",
        "v1",
        "SelfSubjectAccessReview",
        "selfsubjectaccessreviews",
        "selfsubjectaccessreview",
        False,
        (),
        ("create",),
    ),
    ResourceType("rbac.authorization.k8s.io", "v1", "Role", "roles", "role", True),
    ResourceType("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", "rolebinding", True),
)

BY_PLURAL: dict[tuple[str, str], ResourceType] = {(r.group, r.plural): r for r in RESOURCES}
BY_KIND: dict[tuple[str, str], ResourceType] = {(r.api_version, r.kind): r for r in RESOURCES}
BY_KIND_ONLY: dict[str, ResourceType] = {r.kind: r for r in RESOURCES}


@dataclass(frozen=True)
class GroupVersion:
    group: str
    version: str
    resources: tuple[ResourceType, ...] = field(default=())

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


# The order a v1.37 server lists its groups in (`/apis`); kubectl follows it (`get all` prints HPAs before
# CronJobs). Within a group version, resources are listed alphabetically.
GROUP_ORDER = (
    "",
    "apps",
    "authorization.k8s.io",
    "autoscaling",
    "batch",
    "policy",
    "rbac.authorization.k8s.io",
    "coordination.k8s.io",
)


def group_versions() -> list[GroupVersion]:
    """Group versions in the order a real server lists them (core first, then apps, …)."""
    order: list[tuple[str, str]] = []
    for r in RESOURCES:
        if (r.group, r.version) not in order:
            order.append((r.group, r.version))
    order.sort(key=lambda gv: GROUP_ORDER.index(gv[0]) if gv[0] in GROUP_ORDER else len(GROUP_ORDER))
    return [
        GroupVersion(
            g,
            v,
            tuple(sorted((r for r in RESOURCES if (r.group, r.version) == (g, v)), key=lambda r: r.plural)),
        )
        for g, v in order
    ]


def resource_for(group: str, plural: str) -> ResourceType | None:
    return BY_PLURAL.get((group, plural))


def resource_for_kind(api_version: str, kind: str) -> ResourceType | None:
    return BY_KIND.get((api_version, kind))
