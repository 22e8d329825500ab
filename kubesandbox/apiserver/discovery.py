"""Discovery documents: `/version`, legacy (`APIVersions`, `APIGroupList`, `APIResourceList`) and
aggregated (`apidiscovery.k8s.io/v2` `APIGroupDiscoveryList`).

kubectl 1.32 asks for aggregated discovery first and only uses it when the response
Content-Type is exactly `AGGREGATED_CONTENT_TYPE`; otherwise it falls back to legacy
discovery and then fetches every group version (see shared/notes/kubectl-wire.md).
"""

from __future__ import annotations

from typing import Any

from kubesandbox.resources import GroupVersion, ResourceType, group_versions

AGGREGATED_CONTENT_TYPE = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"

VERSION_INFO = {  # what the v1.37.2 kube-apiserver of tools/k8s answers (the sandbox is held to it)
    "major": "1",
    "minor": "37",
    "emulationMajor": "1",
    "emulationMinor": "37",
    "minCompatibilityMajor": "1",
    "minCompatibilityMinor": "36",
    "gitVersion": "v1.37.2",
    "gitCommit": "$Format:%H$",
    "gitTreeState": "clean",
    "buildDate": "2026-12-02T14:59:05Z",
    "goVersion": "go1.26.8",
    "compiler": "gc",
    "platform": "linux/amd64",
}


def wants_aggregated(accept: str) -> bool:
    return "as=APIGroupDiscoveryList" in accept and "apidiscovery.k8s.io" in accept


def _gv_ref(gv: GroupVersion) -> dict[str, str]:
    return {"groupVersion": gv.group_version, "version": gv.version}


def api_versions(server_address: str) -> dict[str, Any]:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    }


def api_group_list() -> dict[str, Any]:
    groups = [
        {"name": gv.group, "versions": [_gv_ref(gv)], "preferredVersion": _gv_ref(gv)}
        for gv in group_versions()
        if gv.group
    ]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def serves_group(group: str) -> bool:
    return any(gv.group == group for gv in group_versions())


def serves(group: str, version: str) -> bool:
    """Whether `/apis/<group>/<version>/...` (`/api/v1/...` for core) has a handler at all."""
    return any((gv.group, gv.version) == (group, version) for gv in group_versions())


def api_group(group: str) -> dict[str, Any] | None:
    for gv in group_versions():
        if gv.group == group:
            return {
                "kind": "APIGroup",
                "apiVersion": "v1",
                "name": group,
                "versions": [_gv_ref(gv)],
                "preferredVersion": _gv_ref(gv),
            }
    return None


def _legacy_entries(r: ResourceType) -> list[dict[str, Any]]:
    main: dict[str, Any] = {
        "name": r.plural,
        "singularName": r.singular,
        "namespaced": r.namespaced,
        "kind": r.kind,
        "verbs": list(r.verbs),
    }
    if r.short_names:
        main["shortNames"] = list(r.short_names)
    if r.categories:
        main["categories"] = list(r.categories)
    entries = [main]
    for s in r.subresources:
        e: dict[str, Any] = {
            "name": f"{r.plural}/{s.name}",
            "singularName": "",
            "namespaced": r.namespaced,
            "kind": s.kind or r.kind,
            "verbs": list(s.verbs),
        }
        if s.group:
            e["group"], e["version"] = s.group, s.version
        entries.append(e)
    return entries


def api_resource_list(group: str, version: str) -> dict[str, Any] | None:
    for gv in group_versions():
        if (gv.group, gv.version) == (group, version):
            resources = [e for r in gv.resources for e in _legacy_entries(r)]
            return {
                "kind": "APIResourceList",
                "apiVersion": "v1",
                "groupVersion": gv.group_version,
                "resources": resources,
            }
    return None


def _aggregated_resource(r: ResourceType) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "resource": r.plural,
        "responseKind": {"group": r.group, "version": r.version, "kind": r.kind},
        "scope": "Namespaced" if r.namespaced else "Cluster",
        "singularResource": r.singular,
        "verbs": list(r.verbs),
    }
    if r.short_names:
        entry["shortNames"] = list(r.short_names)
    if r.categories:
        entry["categories"] = list(r.categories)
    if r.subresources:
        entry["subresources"] = [
            {
                "subresource": s.name,
                "responseKind": {
                    "group": s.group if s.group else r.group,
                    "version": s.version if s.version else r.version,
                    "kind": s.kind or r.kind,
                },
                "verbs": list(s.verbs),
            }
            for s in r.subresources
        ]
    return entry


def aggregated(legacy_core: bool) -> dict[str, Any]:
    """`/api` (legacy_core=True: the core group only) or `/apis` (every named group)."""
    items = []
    for gv in group_versions():
        if (gv.group == "") != legacy_core:
            continue
        meta: dict[str, Any] = {"creationTimestamp": None}
        if gv.group:
            meta["name"] = gv.group
        items.append(
            {
                "metadata": meta,
                "versions": [
                    {
                        "version": gv.version,
                        "resources": [_aggregated_resource(r) for r in gv.resources],
                        "freshness": "Current",
                    }
                ],
            }
        )
    return {
        "kind": "APIGroupDiscoveryList",
        "apiVersion": "apidiscovery.k8s.io/v2",
        "metadata": {},
        "items": items,
    }
