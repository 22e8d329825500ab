"""The strategic-merge field table: which lists merge, on which key, per kind.

The apiserver reads these from the `patchStrategy` / `patchMergeKey` struct tags of the k8s.io/api types
(v0.32). The sandbox has no Go types to reflect on, so the tags of the kinds it serves are written down
here, keyed by field path. Fields not in a kind's table have no strategy, so their lists are replaced.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class PatchStrategy:
    """The `patchStrategy` / `patchMergeKey` struct tags of one field, as written in k8s.io/api."""

    strategy: str = ""  # "merge", "replace", "retainKeys", "merge,retainKeys" or ""
    merge_key: str = ""

    @property
    def list_strategy(self) -> str:
        """The strategy with `retainKeys` taken out (the server only acts on `$retainKeys` in patches)."""
        parts = [p for p in self.strategy.split(",") if p and p != "retainKeys"]
        return parts[0] if parts else ""


NO_STRATEGY: Final = PatchStrategy()


def _merge(key: str = "", retain_keys: bool = False) -> PatchStrategy:
    return PatchStrategy("merge,retainKeys" if retain_keys else "merge", key)


def _under(prefix: str, table: Mapping[str, PatchStrategy]) -> dict[str, PatchStrategy]:
    """Re-root a table: the same struct's fields nested at `prefix`."""
    return {f"{prefix}.{path}": strategy for path, strategy in table.items()}


def _for_each(prefixes: Iterable[str], table: Mapping[str, PatchStrategy]) -> dict[str, PatchStrategy]:
    out: dict[str, PatchStrategy] = {}
    for prefix in prefixes:
        out.update(_under(prefix, table))
    return out


# Paths are field names joined by "."; "[]" steps into the items of a merged list.
OBJECT_META: Final[Mapping[str, PatchStrategy]] = {  # metav1.ObjectMeta
    "ownerReferences": _merge("uid"),
    "finalizers": _merge(),
}

CONTAINER: Final[Mapping[str, PatchStrategy]] = {  # core/v1 Container and EphemeralContainerCommon
    "ports": _merge("containerPort"),
    "env": _merge("name"),
    "volumeMounts": _merge("mountPath"),
    "volumeDevices": _merge("devicePath"),
}

POD_SPEC: Final[Mapping[str, PatchStrategy]] = {  # core/v1 PodSpec
    "volumes": _merge("name", retain_keys=True),
    "initContainers": _merge("name"),
    "containers": _merge("name"),
    "ephemeralContainers": _merge("name"),
    "imagePullSecrets": _merge("name"),
    "hostAliases": _merge("ip"),
    "topologySpreadConstraints": _merge("topologyKey"),
    "schedulingGates": _merge("name"),
    "resourceClaims": _merge("name", retain_keys=True),
    **_for_each(("initContainers[]", "containers[]", "ephemeralContainers[]"), CONTAINER),
}

CONTAINER_STATUS: Final[Mapping[str, PatchStrategy]] = {  # core/v1 ContainerStatus
    "volumeMounts": _merge("mountPath"),
    "allocatedResourcesStatus": _merge("name"),
}

POD_STATUS: Final[Mapping[str, PatchStrategy]] = {  # core/v1 PodStatus
    "conditions": _merge("type"),
    "hostIPs": _merge("ip"),
    "podIPs": _merge("ip"),
    "resourceClaimStatuses": _merge("name", retain_keys=True),
    **_for_each(
        ("initContainerStatuses[]", "containerStatuses[]", "ephemeralContainerStatuses[]"), CONTAINER_STATUS
    ),
}

POD_TEMPLATE_SPEC: Final[Mapping[str, PatchStrategy]] = {
    **_under("metadata", OBJECT_META),
    **_under("spec", POD_SPEC),
}

CONDITIONS: Final[Mapping[str, PatchStrategy]] = {"conditions": _merge("type")}


def _kind_table(*parts: Mapping[str, PatchStrategy]) -> dict[str, PatchStrategy]:
    table: dict[str, PatchStrategy] = dict(_under("metadata", OBJECT_META))
    for part in parts:
        table.update(part)
    return table


PATCH_STRATEGIES: Final[Mapping[str, Mapping[str, PatchStrategy]]] = {
    "Pod": _kind_table(_under("spec", POD_SPEC), _under("status", POD_STATUS)),
    "Deployment": _kind_table(
        _under("spec.template", POD_TEMPLATE_SPEC),
        {"spec.strategy": PatchStrategy("retainKeys")},
        _under("status", CONDITIONS),
    ),
    "ReplicaSet": _kind_table(_under("spec.template", POD_TEMPLATE_SPEC), _under("status", CONDITIONS)),
    "Job": _kind_table(_under("spec.template", POD_TEMPLATE_SPEC), _under("status", CONDITIONS)),
    "CronJob": _kind_table(
        _under("spec.jobTemplate.metadata", OBJECT_META),
        _under("spec.jobTemplate.spec.template", POD_TEMPLATE_SPEC),
    ),
    "HorizontalPodAutoscaler": _kind_table(_under("status", CONDITIONS)),
    "PodDisruptionBudget": _kind_table(
        {"spec.selector": PatchStrategy("replace")}, _under("status", CONDITIONS)
    ),
    "Service": _kind_table({"spec.ports": _merge("port")}, _under("status", CONDITIONS)),
    "Namespace": _kind_table(_under("status", CONDITIONS)),
    "ServiceAccount": _kind_table({"secrets": _merge("name")}),
    "ConfigMap": _kind_table(),
    "Secret": _kind_table(),
    "Event": _kind_table(),
    "Lease": _kind_table(),
    "Role": _kind_table(),
    "RoleBinding": _kind_table(),
}
