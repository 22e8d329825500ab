"""The printers of every other kind the sandbox serves, and the default convertor for the rest.

Events (LAST SEEN/COUNT from either the core or the events.k8s.io shape), Services (the EXTERNAL-IP
rules per service type), configuration and identity objects, PDBs, Leases and RBAC bindings. Role,
ClusterRole and any kind without a printer get the apiserver's default `Name`/`Created At` columns
(`apiserver/pkg/registry/rest/table.go`), which is what a real `kubectl get role` shows.
"""

from __future__ import annotations

from datetime import UTC, datetime

from kubesandbox.apiserver.tables.columns import AGE, NAME, Cells, Column, Obj, Printer
from kubesandbox.apiserver.tables.format import (
    age_of,
    at,
    format_labels,
    kind_slash_name,
    meta,
    name_of,
    parse_time,
    since,
    status_int,
)


def _event_cells(obj: Obj, now: datetime) -> Cells:
    """printEvent."""
    first = (
        since(obj["firstTimestamp"], now) if obj.get("firstTimestamp") else since(obj.get("eventTime"), now)
    )
    last = since(obj["lastTimestamp"], now) if obj.get("lastTimestamp") else first
    count = int(obj.get("count") or 0)
    series = obj.get("series")
    if series is not None:
        last = since(series.get("lastObservedTime"), now)
        count = int(series.get("count") or 0)
    elif count == 0:
        count = 1  # singleton events of the events.k8s.io API carry no count
    involved = obj.get("involvedObject") or {}
    kind = str(involved.get("kind", "")).lower()
    target = f"{kind}/{involved['name']}" if involved.get("name") else kind
    source = obj.get("source") or {}
    component = source.get("component") or obj.get("reportingComponent") or ""
    host = source.get("host") or obj.get("reportingInstance") or ""
    return [
        last,
        obj.get("type", ""),
        obj.get("reason", ""),
        target,
        involved.get("fieldPath", ""),
        f"{component}, {host}" if host else component,
        str(obj.get("message", "")).strip(),
        first,
        count,
        name_of(obj),
    ]


def _service_external_ip(spec: Obj, status: Obj) -> str:
    """getServiceExternalIP with wide=true (no clipping of load-balancer addresses)."""
    external = [str(ip) for ip in spec.get("externalIPs") or []]
    svc_type = spec.get("type", "ClusterIP")
    if svc_type in ("ClusterIP", "NodePort"):
        return ",".join(external) or "<none>"
    if svc_type == "LoadBalancer":
        ingress = at(status, "loadBalancer", "ingress") or []
        lb = sorted(
            {str(i.get("ip") or i.get("hostname")) for i in ingress if i.get("ip") or i.get("hostname")}
        )
        if external:
            return ",".join(lb + external)
        return ",".join(lb) or "<pending>"
    if svc_type == "ExternalName":
        return str(spec.get("externalName", ""))
    return "<unknown>"


def _service_cells(obj: Obj, now: datetime) -> Cells:
    """printService."""
    spec = obj.get("spec") or {}
    cluster_ips = spec.get("clusterIPs") or ([spec["clusterIP"]] if spec.get("clusterIP") else [])
    ports = []
    for p in spec.get("ports") or []:
        protocol = p.get("protocol") or "TCP"  # defaulted by the API on write
        ports.append(
            f"{p.get('port')}:{p['nodePort']}/{protocol}"
            if p.get("nodePort")
            else f"{p.get('port')}/{protocol}"
        )
    return [
        name_of(obj),
        spec.get("type", "ClusterIP"),
        cluster_ips[0] if cluster_ips else "<none>",
        _service_external_ip(spec, obj.get("status") or {}),
        ",".join(ports) or "<none>",
        age_of(obj, now),
        format_labels(spec.get("selector")),
    ]


def _namespace_cells(obj: Obj, now: datetime) -> Cells:
    return [name_of(obj), at(obj, "status", "phase") or "", age_of(obj, now)]


def _configmap_cells(obj: Obj, now: datetime) -> Cells:
    return [name_of(obj), len(obj.get("data") or {}) + len(obj.get("binaryData") or {}), age_of(obj, now)]


def _secret_cells(obj: Obj, now: datetime) -> Cells:
    return [name_of(obj), obj.get("type", ""), len(obj.get("data") or {}), age_of(obj, now)]


def _serviceaccount_cells(obj: Obj, now: datetime) -> Cells:
    return [name_of(obj), len(obj.get("secrets") or []), age_of(obj, now)]


def _pdb_cells(obj: Obj, now: datetime) -> Cells:
    """printPodDisruptionBudget: an unset bound prints `N/A`, a set one as IntOrString.String()."""
    spec = obj.get("spec") or {}
    min_available = "N/A" if spec.get("minAvailable") is None else str(spec["minAvailable"])
    max_unavailable = "N/A" if spec.get("maxUnavailable") is None else str(spec["maxUnavailable"])
    return [
        name_of(obj),
        min_available,
        max_unavailable,
        status_int(obj, "disruptionsAllowed"),
        age_of(obj, now),
    ]


def _lease_cells(obj: Obj, now: datetime) -> Cells:
    return [name_of(obj), at(obj, "spec", "holderIdentity") or "", age_of(obj, now)]


def _binding_cells(obj: Obj, now: datetime) -> Cells:
    """printRoleBinding / printClusterRoleBinding (the same cells)."""
    users: list[str] = []
    groups: list[str] = []
    sas: list[str] = []
    for s in obj.get("subjects") or []:  # rbac.SubjectsStrings
        if s.get("kind") == "ServiceAccount":
            sas.append(f"{s.get('namespace', '')}/{s.get('name', '')}")
        elif s.get("kind") == "User":
            users.append(str(s.get("name", "")))
        elif s.get("kind") == "Group":
            groups.append(str(s.get("name", "")))
    return [
        name_of(obj),
        kind_slash_name(obj.get("roleRef") or {}),
        age_of(obj, now),
        ", ".join(users),
        ", ".join(groups),
        ", ".join(sas),
    ]


def _binding_printer(role_doc: str, of: str) -> Printer:
    """A RoleBinding and a ClusterRoleBinding differ only in their column descriptions."""
    return Printer(
        (
            NAME,
            Column("Role", "string", role_doc),
            AGE,
            Column("Users", "string", f"Users in the {of}", 1),
            Column("Groups", "string", f"Groups in the {of}", 1),
            Column("ServiceAccounts", "string", f"ServiceAccounts in the {of}", 1),
        ),
        _binding_cells,
    )


def _default_cells(obj: Obj, now: datetime) -> Cells:
    created = parse_time(meta(obj).get("creationTimestamp"))
    return [
        name_of(obj),
        "0001-01-01T00:00:00Z" if created is None else created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    ]


OTHER_PRINTERS: dict[str, Printer] = {
    "Event": Printer(
        (
            Column("Last Seen", "string", "EV_LAST"),
            Column("Type", "string", "EV_TYPE"),
            Column("Reason", "string", "EV_REASON"),
            Column("Object", "string", "EV_OBJECT"),
            Column("Subobject", "string", "EV_FIELDPATH", 1),
            Column("Source", "string", "EV_SOURCE", 1),
            Column("Message", "string", "EV_MESSAGE"),
            Column("First Seen", "string", "EV_FIRST", 1),
            Column("Count", "string", "EV_COUNT", 1),
            Column("Name", "string", "OM_NAME", 1, format="name"),
        ),
        _event_cells,
    ),
    "Namespace": Printer(
        (NAME, Column("Status", "string", "The status of the namespace"), AGE), _namespace_cells
    ),
    "ConfigMap": Printer((NAME, Column("Data", "string", "CM_DATA"), AGE), _configmap_cells),
    "Secret": Printer(
        (NAME, Column("Type", "string", "SECRET_TYPE"), Column("Data", "string", "SECRET_DATA"), AGE),
        _secret_cells,
    ),
    "ServiceAccount": Printer((NAME, Column("Secrets", "string", "SA_SECRETS"), AGE), _serviceaccount_cells),
    "Service": Printer(
        (
            NAME,
            Column("Type", "string", "SVC_TYPE"),
            Column("Cluster-IP", "string", "SVC_CLUSTER_IP"),
            Column("External-IP", "string", "SVC_EXTERNAL"),
            Column("Port(s)", "string", "SVC_PORTS"),
            AGE,
            Column("Selector", "string", "SVC_SELECTOR", 1),
        ),
        _service_cells,
    ),
    "PodDisruptionBudget": Printer(
        (
            NAME,
            Column("Min Available", "string", "The minimum number of pods that must be available."),
            Column("Max Unavailable", "string", "The maximum number of pods that may be unavailable."),
            Column(
                "Allowed Disruptions",
                "integer",
                "Calculated number of pods that may be disrupted at this time.",
            ),
            AGE,
        ),
        _pdb_cells,
    ),
    "Lease": Printer((NAME, Column("Holder", "string", "LEASE_HOLDER"), AGE), _lease_cells),
    "RoleBinding": _binding_printer("RB_ROLEREF", "roleBinding"),
    "ClusterRoleBinding": _binding_printer("CRB_ROLEREF", "clusterRoleBinding"),
}

# Role, ClusterRole and every kind without a printer: rest.NewDefaultTableConvertor.
DEFAULT_PRINTER = Printer((NAME, Column("Created At", "date", "OM_CREATED")), _default_cells)
