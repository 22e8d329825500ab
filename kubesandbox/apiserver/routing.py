"""URL → what is being asked for: the same parsing the API server's request-info resolver does."""

from __future__ import annotations

from dataclasses import dataclass

from kubesandbox.resources import RESOURCES, ResourceType, resource_for


@dataclass(frozen=True)
class Target:
    """A resource request: `/api/v1/namespaces/ns/pods/name/sub` and friends."""

    resource: ResourceType
    namespace: str  # "" for cluster-scoped objects and all-namespace lists
    name: str  # "" for collections
    subresource: str

    @property
    def is_collection(self) -> bool:
        return not self.name


@dataclass(frozen=True)
class Unknown:
    """A resource-shaped path the server does not serve (404 NotFound)."""

    group: str
    plural: str
    version: str = "v1"


def parse_resource_path(path: str) -> Target | Unknown | None:
    """None: not a resource path (discovery, /version, ...)."""
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 3 and parts[0] == "api" and parts[1] == "v1":
        group, version, rest = "", "v1", parts[2:]
    elif len(parts) >= 4 and parts[0] == "apis":
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    if not any(r.group == group and r.version == version for r in RESOURCES):
        return Unknown(group, "/".join(rest), version)
    namespace = ""
    if len(rest) >= 3 and rest[0] == "namespaces":
        namespace, rest = rest[1], rest[2:]
    if not rest or len(rest) > 3:
        return Unknown(group, "/".join(rest))
    rt = resource_for(group, rest[0])
    if rt is None:
        return Unknown(group, rest[0])
    name = rest[1] if len(rest) > 1 else ""
    sub = rest[2] if len(rest) > 2 else ""
    if sub and rt.subresource(sub) is None:
        return Unknown(group, f"{rest[0]}/{sub}")
    if namespace and not rt.namespaced:
        return Unknown(group, rest[0])
    return Target(rt, namespace, name, sub)
