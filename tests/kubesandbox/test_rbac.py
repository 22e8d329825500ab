"""RBAC in the sandbox behaves like a real kube-apiserver: who is allowed what, and the exact 403/401 bodies."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
import yaml

from kubesandbox.apiserver.rbac import (
    ADMIN,
    ANONYMOUS,
    Authenticator,
    Authorizer,
    RequestAttributes,
    User,
    name_from_field_selector,
    non_resource_verb,
    request_verb,
    service_account_user,
    service_accounts_in,
    token_for,
    tokens_for,
    watch_requested,
)
from kubesandbox.resources.errors import ApiError

# The permissions a one-pass self-healing job needs in its namespace, written as an operator would.
HEALER_RBAC = """
apiVersion: v1
kind: ServiceAccount
metadata: {name: healer, namespace: shop}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: selfheal, namespace: shop}
rules:
- apiGroups: [""]
  resources: [pods]
  verbs: [get, list]
- apiGroups: [""]
  resources: [pods/eviction]
  verbs: [create]
- apiGroups: [apps]
  resources: [deployments]
  verbs: [get, patch]
- apiGroups: [apps]
  resources: [deployments/scale]
  verbs: [get, patch]
- apiGroups: [apps]
  resources: [replicasets]
  verbs: [list]
- apiGroups: [coordination.k8s.io]
  resources: [leases]
  verbs: [create]
- apiGroups: [coordination.k8s.io]
  resources: [leases]
  resourceNames: [selfheal-lock]
  verbs: [get, update]
- apiGroups: [batch]
  resources: [cronjobs]
  verbs: [get]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: selfheal, namespace: shop}
subjects:
- kind: ServiceAccount
  name: healer
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: selfheal}
"""

# Other shapes of bindings a namespace collects over time.
OTHER_RBAC = """
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ServiceAccount
  metadata: {name: scaler, namespace: shop}
- apiVersion: v1
  kind: ServiceAccount
  metadata: {name: viewer, namespace: shop}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: config-reader, namespace: shop}
rules:
- apiGroups: [""]
  resources: [configmaps]
  verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: all-sas-read-config, namespace: shop}
subjects:
- {kind: Group, apiGroup: rbac.authorization.k8s.io, name: "system:serviceaccounts:shop"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: config-reader}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: event-reader, namespace: shop}
rules:
- {apiGroups: [""], resources: [events], verbs: [list]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: everyone-reads-events, namespace: shop}
subjects:
- {kind: Group, apiGroup: rbac.authorization.k8s.io, name: "system:authenticated"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: event-reader}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: any-scale, namespace: shop}
rules:
- {apiGroups: ["*"], resources: ["*/scale"], verbs: [get, update]}
- {apiGroups: [""], resources: ["pods/*"], verbs: ["*"]}
- {apiGroups: [""], resources: [namespaces], verbs: [get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: scaler, namespace: shop}
subjects:
- {kind: User, apiGroup: rbac.authorization.k8s.io, name: "system:serviceaccount:shop:scaler"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: any-scale}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: viewer, namespace: shop}
subjects:
- {kind: ServiceAccount, name: viewer, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: stale, namespace: shop}
subjects:
- {kind: ServiceAccount, name: viewer, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: deleted-long-ago}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: everything, namespace: ops}
rules:
- {apiGroups: ["*"], resources: ["*"], verbs: ["*"]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: unqualified, namespace: ops}
subjects:
- {kind: ServiceAccount, name: healer}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: everything}
"""


@dataclass
class Cluster:
    """Roles and RoleBindings by namespace, as the sandbox store would hand them out."""

    roles: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    bindings: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @classmethod
    def from_yaml(cls, *manifests: str) -> Cluster:
        cluster = cls()
        for text in manifests:
            for doc in yaml.safe_load_all(text):
                kind, ns = doc["kind"], (doc.get("metadata") or {}).get("namespace", "")
                if kind == "Role":
                    cluster.roles.setdefault(ns, []).append(doc)
                elif kind == "RoleBinding":
                    cluster.bindings.setdefault(ns, []).append(doc)
        return cluster

    def authorizer(self) -> Authorizer:
        return Authorizer(lambda ns: self.roles.get(ns, []), lambda ns: self.bindings.get(ns, []))


HEALER = service_account_user("shop", "healer")
SCALER = service_account_user("shop", "scaler")
VIEWER = service_account_user("shop", "viewer")
STRANGER = service_account_user("elsewhere", "robot")


def request(
    verb: str, resource: str, name: str = "", ns: str = "shop", group: str = "", sub: str = ""
) -> RequestAttributes:
    return RequestAttributes(verb, group, resource, sub, name, ns, "")


def path(p: str, verb: str = "get") -> RequestAttributes:
    return RequestAttributes(verb, "", "", "", "", "", p)


@pytest.fixture
def cluster() -> Cluster:
    return Cluster.from_yaml(HEALER_RBAC, OTHER_RBAC)


def forbidden_by(cluster: Cluster, user: User, attrs: RequestAttributes) -> ApiError:
    with pytest.raises(ApiError) as caught:
        cluster.authorizer().authorize(user, attrs)
    assert caught.value.code == 403
    assert caught.value.reason == "Forbidden"
    return caught.value


# --- the self-healing job's own Role -----------------------------------------------------------------

ALLOWED_FOR_HEALER = [
    pytest.param(request("get", "pods", "web-1"), id="get a pod"),
    pytest.param(request("list", "pods"), id="list pods"),
    pytest.param(request("create", "pods", "web-1", sub="eviction"), id="evict a pod"),
    pytest.param(request("get", "deployments", "web", group="apps"), id="get a deployment"),
    pytest.param(request("patch", "deployments", "web", group="apps"), id="patch a deployment"),
    pytest.param(request("get", "deployments", "web", group="apps", sub="scale"), id="read scale"),
    pytest.param(request("patch", "deployments", "web", group="apps", sub="scale"), id="patch scale"),
    pytest.param(request("list", "replicasets", group="apps"), id="list replicasets"),
    pytest.param(request("create", "leases", group="coordination.k8s.io"), id="create the lease"),
    pytest.param(request("get", "leases", "selfheal-lock", group="coordination.k8s.io"), id="get own lease"),
    pytest.param(
        request("update", "leases", "selfheal-lock", group="coordination.k8s.io"), id="renew own lease"
    ),
    pytest.param(request("get", "cronjobs", "nightly", group="batch"), id="get a cronjob"),
    pytest.param(request("list", "configmaps"), id="group system:serviceaccounts:shop"),
    pytest.param(request("list", "events"), id="group system:authenticated"),
]


@pytest.mark.parametrize("attrs", ALLOWED_FOR_HEALER)
def test_the_healer_may_do_what_its_role_grants(cluster: Cluster, attrs: RequestAttributes) -> None:
    cluster.authorizer().authorize(HEALER, attrs)
    assert cluster.authorizer().allowed(HEALER, attrs)


DENIED_FOR_HEALER = [
    pytest.param(request("watch", "pods"), id="list does not imply watch"),
    pytest.param(request("delete", "pods", "web-1"), id="no delete on pods"),
    pytest.param(request("deletecollection", "pods"), id="no deletecollection"),
    pytest.param(request("get", "pods", "web-1", sub="log"), id="pods rule grants no subresource"),
    pytest.param(request("patch", "pods", "web-1", sub="status"), id="no status subresource"),
    pytest.param(request("create", "pods", "web-1", sub="eviction", ns="other"), id="wrong namespace"),
    pytest.param(request("list", "pods", ns=""), id="all namespaces"),
    pytest.param(request("update", "deployments", "web", group="apps"), id="patch is not update"),
    pytest.param(request("update", "deployments", "web", group="apps", sub="scale"), id="scale update"),
    pytest.param(request("list", "deployments", group="apps"), id="get is not list"),
    pytest.param(request("get", "replicasets", "web-5d4f", group="apps"), id="list is not get"),
    pytest.param(request("patch", "deployments", "web", group="extensions"), id="wrong api group"),
    pytest.param(request("get", "pods", "web-1", group="apps"), id="pods are in the core group"),
    pytest.param(
        request("get", "leases", "someone-else", group="coordination.k8s.io"),
        id="resourceNames exclude other names",
    ),
    pytest.param(request("list", "leases", group="coordination.k8s.io"), id="resourceNames never allow list"),
    pytest.param(
        request("delete", "leases", "selfheal-lock", group="coordination.k8s.io"),
        id="resourceNames only for listed verbs",
    ),
    pytest.param(request("get", "jobs", "nightly-1", group="batch"), id="cronjobs are not jobs"),
    pytest.param(request("get", "namespaces", "shop", ns=""), id="namespace object"),
    pytest.param(request("list", "namespaces", ns=""), id="namespaces at cluster scope"),
    pytest.param(request("get", "secrets", "db"), id="unrelated resource"),
]


@pytest.mark.parametrize("attrs", DENIED_FOR_HEALER)
def test_the_healer_is_denied_everything_else(cluster: Cluster, attrs: RequestAttributes) -> None:
    forbidden_by(cluster, HEALER, attrs)
    assert not cluster.authorizer().allowed(HEALER, attrs)


# --- exact messages, as kubectl prints them after "Error from server (Forbidden): " --------------------

SA = 'User "system:serviceaccount:shop:healer"'

MESSAGES = [
    pytest.param(
        request("delete", "pods", "web-1"),
        f'pods "web-1" is forbidden: {SA} cannot delete resource "pods" in API group "" '
        'in the namespace "shop"',
        {"name": "web-1", "kind": "pods"},
        id="named",
    ),
    pytest.param(
        request("watch", "pods"),
        f'pods is forbidden: {SA} cannot watch resource "pods" in API group "" in the namespace "shop"',
        {"kind": "pods"},
        id="collection",
    ),
    pytest.param(
        request("get", "pods", "web-1", sub="log"),
        f'pods "web-1" is forbidden: {SA} cannot get resource "pods/log" in API group "" '
        'in the namespace "shop"',
        {"name": "web-1", "kind": "pods"},
        id="subresource",
    ),
    pytest.param(
        request("update", "deployments", "web", group="apps", sub="scale"),
        f'deployments.apps "web" is forbidden: {SA} cannot update resource "deployments/scale" '
        'in API group "apps" in the namespace "shop"',
        {"name": "web", "group": "apps", "kind": "deployments"},
        id="grouped subresource",
    ),
    pytest.param(
        request("list", "leases", group="coordination.k8s.io"),
        f'leases.coordination.k8s.io is forbidden: {SA} cannot list resource "leases" '
        'in API group "coordination.k8s.io" in the namespace "shop"',
        {"group": "coordination.k8s.io", "kind": "leases"},
        id="grouped collection",
    ),
    pytest.param(
        request("list", "pods", ns=""),
        f'pods is forbidden: {SA} cannot list resource "pods" in API group "" at the cluster scope',
        {"kind": "pods"},
        id="all namespaces",
    ),
    pytest.param(
        request("create", "namespaces", ns=""),
        f'namespaces is forbidden: {SA} cannot create resource "namespaces" in API group "" '
        "at the cluster scope",
        {"kind": "namespaces"},
        id="cluster-scoped",
    ),
    pytest.param(
        request("get", "namespaces", "shop", ns=""),
        f'namespaces "shop" is forbidden: {SA} cannot get resource "namespaces" in API group "" '
        'in the namespace "shop"',
        {"name": "shop", "kind": "namespaces"},
        id="a namespace is judged inside itself",
    ),
    pytest.param(
        request("create", "pods", "from-the-body"),
        f'pods is forbidden: {SA} cannot create resource "pods" in API group "" in the namespace "shop"',
        {"kind": "pods"},
        id="create carries no name",
    ),
    pytest.param(path("/metrics"), f'forbidden: {SA} cannot get path "/metrics"', {}, id="non-resource"),
    pytest.param(
        path("/<script>"), f'forbidden: {SA} cannot get path "/&lt;script&gt;"', {}, id="html is escaped"
    ),
]


@pytest.mark.parametrize(("attrs", "message", "details"), MESSAGES)
def test_denials_read_exactly_like_the_real_apiserver(
    cluster: Cluster, attrs: RequestAttributes, message: str, details: dict[str, str]
) -> None:
    error = forbidden_by(cluster, HEALER, attrs)
    assert error.message == message
    assert error.details == details
    assert list(error.details) == list(details), "Status details keep the real server's field order"


def test_a_denial_is_a_complete_status_body(cluster: Cluster) -> None:
    error = forbidden_by(cluster, HEALER, request("delete", "deployments", "web", group="apps"))
    assert error.status() == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'deployments.apps "web" is forbidden: User "system:serviceaccount:shop:healer" cannot '
        'delete resource "deployments" in API group "apps" in the namespace "shop"',
        "reason": "Forbidden",
        "details": {"name": "web", "group": "apps", "kind": "deployments"},
        "code": 403,
    }


# --- subjects, wildcards and broken references -----------------------------------------------------


@pytest.mark.parametrize(
    ("user", "attrs", "allowed"),
    [
        pytest.param(
            SCALER,
            request("update", "deployments", "web", group="apps", sub="scale"),
            True,
            id="*/scale matches any resource's scale",
        ),
        pytest.param(
            SCALER,
            request("get", "replicasets", "web-5d4f", group="apps", sub="scale"),
            True,
            id="*/scale in any group",
        ),
        pytest.param(
            SCALER,
            request("get", "deployments", "web", group="apps"),
            False,
            id="*/scale is not the main resource",
        ),
        pytest.param(
            SCALER,
            request("get", "deployments", "web", group="apps", sub="status"),
            False,
            id="*/scale is not another subresource",
        ),
        pytest.param(
            SCALER, request("create", "pods", "web-1", sub="eviction"), False, id="pods/* is not a wildcard"
        ),
        pytest.param(
            SCALER,
            request("get", "namespaces", "shop", ns="shop"),
            True,
            id="a Role may grant its own namespace object",
        ),
        pytest.param(
            SCALER, request("get", "namespaces", "ops", ns="ops"), False, id="but not another namespace"
        ),
        pytest.param(VIEWER, request("list", "configmaps"), True, id="service-account group"),
        pytest.param(STRANGER, request("list", "configmaps"), False, id="other namespace's SA group"),
        pytest.param(STRANGER, request("list", "events"), True, id="system:authenticated"),
        pytest.param(ANONYMOUS, request("list", "events"), False, id="anonymous is not authenticated"),
        pytest.param(
            HEALER,
            request("delete", "pods", "x", ns="ops"),
            False,
            id="unqualified SA subject means the binding's namespace",
        ),
        pytest.param(
            service_account_user("ops", "healer"),
            request("delete", "pods", "x", ns="ops"),
            True,
            id="which is ops/healer",
        ),
        pytest.param(
            service_account_user("ops", "healer"),
            request("delete", "pods", "x", ns="ops", sub="exec"),
            True,
            id="* covers subresources",
        ),
        pytest.param(
            User("alice", ("system:authenticated",)),
            request("list", "events"),
            True,
            id="users are bound through groups",
        ),
        pytest.param(ADMIN, request("delete", "namespaces", ns=""), True, id="admin is unrestricted"),
    ],
)
def test_bindings_match_subjects_and_rules_like_kubernetes(
    cluster: Cluster, user: User, attrs: RequestAttributes, allowed: bool
) -> None:
    assert cluster.authorizer().allowed(user, attrs) is allowed


def test_a_cluster_role_reference_grants_nothing_and_says_why(cluster: Cluster) -> None:
    error = forbidden_by(cluster, VIEWER, request("get", "pods", "web-1"))
    assert error.message == (
        'pods "web-1" is forbidden: User "system:serviceaccount:shop:viewer" cannot get resource "pods" '
        'in API group "" in the namespace "shop": RBAC: [clusterrole.rbac.authorization.k8s.io "view" '
        'not found, role.rbac.authorization.k8s.io "deleted-long-ago" not found]'
    )


def test_one_missing_role_is_reported_without_brackets() -> None:
    cluster = Cluster.from_yaml(HEALER_RBAC)
    cluster.roles.clear()
    error = forbidden_by(cluster, HEALER, request("list", "pods"))
    assert error.message.endswith(
        'in the namespace "shop": RBAC: role.rbac.authorization.k8s.io "selfheal" not found'
    )


def test_a_broken_binding_does_not_hide_a_working_one(cluster: Cluster) -> None:
    """The viewer's two bindings fail to resolve, but its service-account group still reads config."""
    assert cluster.authorizer().allowed(VIEWER, request("get", "configmaps", "app"))


def test_bindings_for_other_users_do_not_leak_their_errors(cluster: Cluster) -> None:
    error = forbidden_by(cluster, HEALER, request("get", "secrets", "db"))
    assert "RBAC:" not in error.message


def test_role_edits_through_the_api_apply_to_the_next_request(cluster: Cluster) -> None:
    authorizer = cluster.authorizer()
    evict_elsewhere = request("delete", "pods", "web-1")
    assert not authorizer.allowed(HEALER, evict_elsewhere)

    cluster.roles["shop"][0]["rules"].append({"apiGroups": [""], "resources": ["pods"], "verbs": ["delete"]})
    assert authorizer.allowed(HEALER, evict_elsewhere)

    cluster.bindings["shop"] = [b for b in cluster.bindings["shop"] if b["metadata"]["name"] != "selfheal"]
    assert not authorizer.allowed(HEALER, evict_elsewhere)


def test_resource_names_allow_a_watch_narrowed_to_that_name(cluster: Cluster) -> None:
    """`kubectl get lease selfheal-lock -w` lists/watches with fieldSelector=metadata.name=selfheal-lock."""
    cluster.roles["shop"][0]["rules"].append(
        {
            "apiGroups": ["coordination.k8s.io"],
            "resources": ["leases"],
            "resourceNames": ["selfheal-lock"],
            "verbs": ["list", "watch"],
        }
    )
    name = name_from_field_selector("metadata.name=selfheal-lock")
    narrowed = request("watch", "leases", name, group="coordination.k8s.io")
    assert cluster.authorizer().allowed(HEALER, narrowed)
    assert not cluster.authorizer().allowed(HEALER, request("watch", "leases", group="coordination.k8s.io"))


# --- non-resource URLs --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "attrs", "allowed"),
    [
        pytest.param(HEALER, path("/api"), True, id="sa /api"),
        pytest.param(HEALER, path("/api/v1"), True, id="sa /api/v1"),
        pytest.param(HEALER, path("/apis/apps/v1"), True, id="sa /apis/apps/v1"),
        pytest.param(HEALER, path("/openapi/v3/apis/apps/v1"), True, id="sa /openapi/v3"),
        pytest.param(HEALER, path("/version"), True, id="sa /version"),
        pytest.param(HEALER, path("/healthz"), True, id="sa /healthz"),
        pytest.param(HEALER, path("/readyz"), True, id="sa /readyz"),
        pytest.param(HEALER, path("/.well-known/openid-configuration"), True, id="sa issuer discovery"),
        pytest.param(HEALER, path("/metrics"), False, id="sa /metrics"),
        pytest.param(HEALER, path("/logs"), False, id="sa /logs"),
        pytest.param(HEALER, path("/healthz/etcd"), False, id="sa /healthz/etcd is not /healthz"),
        pytest.param(HEALER, path("/api", verb="post"), False, id="sa POST /api"),
        pytest.param(HEALER, path("/version", verb="head"), False, id="HEAD is its own verb"),
        pytest.param(
            User("alice", ("system:authenticated",)),
            path("/.well-known/openid-configuration"),
            False,
            id="issuer discovery is for service accounts",
        ),
        pytest.param(ANONYMOUS, path("/version"), True, id="anonymous /version"),
        pytest.param(ANONYMOUS, path("/healthz"), True, id="anonymous /healthz"),
        pytest.param(ANONYMOUS, path("/livez"), True, id="anonymous /livez"),
        pytest.param(ANONYMOUS, path("/api"), False, id="anonymous /api"),
        pytest.param(ANONYMOUS, path("/apis"), False, id="anonymous /apis"),
        pytest.param(ANONYMOUS, path("/openapi/v2"), False, id="anonymous /openapi"),
    ],
)
def test_discovery_paths_follow_the_bootstrap_policy(
    cluster: Cluster, user: User, attrs: RequestAttributes, allowed: bool
) -> None:
    assert cluster.authorizer().allowed(user, attrs) is allowed


def test_anonymous_discovery_is_refused_like_a_real_server(cluster: Cluster) -> None:
    error = forbidden_by(cluster, ANONYMOUS, path("/api"))
    assert error.message == 'forbidden: User "system:anonymous" cannot get path "/api"'
    assert error.status()["code"] == 403


def test_anonymous_resource_requests_are_refused(cluster: Cluster) -> None:
    error = forbidden_by(cluster, ANONYMOUS, request("list", "pods"))
    assert error.message == (
        'pods is forbidden: User "system:anonymous" cannot list resource "pods" '
        'in API group "" in the namespace "shop"'
    )


# --- authentication ------------------------------------------------------------------------------

AUTH = Authenticator(tokens_for("admin-secret", [("shop", "healer")]))


@pytest.mark.parametrize(
    ("header", "user"),
    [
        pytest.param("Bearer admin-secret", ADMIN, id="admin"),
        pytest.param("Bearer sandbox-sa.shop.healer", HEALER, id="service account"),
        pytest.param("bearer sandbox-sa.shop.healer", HEALER, id="scheme is case-insensitive"),
        pytest.param("  Bearer sandbox-sa.shop.healer  ", HEALER, id="surrounding space"),
        pytest.param("Bearer sandbox-sa.shop.healer extra", HEALER, id="token is the second field"),
        pytest.param(None, ANONYMOUS, id="no header"),
        pytest.param("", ANONYMOUS, id="empty header"),
        pytest.param("Bearer", ANONYMOUS, id="no token"),
        pytest.param("Bearer  sandbox-sa.shop.healer", ANONYMOUS, id="double space leaves an empty token"),
        pytest.param("Basic YWRtaW46YWRtaW4=", ANONYMOUS, id="basic auth is not supported"),
    ],
)
def test_tokens_authenticate_like_the_bearer_token_authenticator(header: str | None, user: User) -> None:
    assert AUTH.authenticate(header) == user


@pytest.mark.parametrize("header", ["Bearer nope", "Bearer sandbox-sa.shop.ghost", "Bearer admin-secret2"])
def test_an_unknown_token_is_401_not_anonymous(header: str) -> None:
    with pytest.raises(ApiError) as caught:
        AUTH.authenticate(header)
    assert caught.value.status() == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": "Unauthorized",
        "reason": "Unauthorized",
        "code": 401,
    }


def test_a_deleted_service_account_loses_its_token() -> None:
    existing = {("shop", "healer")}
    auth = Authenticator(
        tokens_for("admin-secret", [("shop", "healer")]),
        service_account_exists=lambda ns, name: (ns, name) in existing,
    )
    assert auth.authenticate("Bearer sandbox-sa.shop.healer") == HEALER
    existing.clear()
    with pytest.raises(ApiError) as caught:
        auth.authenticate("Bearer sandbox-sa.shop.healer")
    assert caught.value.code == 401
    assert auth.authenticate("Bearer admin-secret") == ADMIN


def test_service_account_users_carry_the_real_name_and_groups() -> None:
    assert (HEALER.name, HEALER.groups, HEALER.admin) == (
        "system:serviceaccount:shop:healer",
        ("system:serviceaccounts", "system:serviceaccounts:shop", "system:authenticated"),
        False,
    )


@pytest.mark.parametrize(("a", "b"), [(("a-b", "c"), ("a", "b-c")), (("a", "b.c"), ("a-b", "c"))])
def test_tokens_are_deterministic_and_never_shared(a: tuple[str, str], b: tuple[str, str]) -> None:
    assert token_for(*a) == token_for(*a)
    assert token_for(*a) != token_for(*b)
    assert token_for("shop", "healer") == "sandbox-sa.shop.healer"


def test_service_accounts_are_found_in_manifests_and_lists() -> None:
    docs = [
        *yaml.safe_load_all(HEALER_RBAC),
        None,
        *yaml.safe_load_all(OTHER_RBAC),
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "loose"}},
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "healer", "namespace": "shop"}},
        {"apiVersion": "example.com/v1", "kind": "ServiceAccount", "metadata": {"name": "fake"}},
    ]
    assert service_accounts_in(docs, default_namespace="shop") == [
        ("shop", "healer"),
        ("shop", "scaler"),
        ("shop", "viewer"),
        ("shop", "loose"),
    ]


# --- request attributes -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "has_name", "watch", "verb"),
    [
        ("GET", True, False, "get"),
        ("GET", True, True, "get"),
        ("HEAD", True, False, "get"),
        ("GET", False, False, "list"),
        ("GET", False, True, "watch"),
        ("POST", False, False, "create"),
        ("POST", True, False, "create"),
        ("PUT", True, False, "update"),
        ("PATCH", True, False, "patch"),
        ("DELETE", True, False, "delete"),
        ("DELETE", False, False, "deletecollection"),
        ("OPTIONS", True, False, ""),
    ],
)
def test_http_methods_map_to_rbac_verbs(method: str, has_name: bool, watch: bool, verb: str) -> None:
    assert request_verb(method, has_name, watch) == verb


@pytest.mark.parametrize(
    ("values", "watch"),
    [
        (None, False),
        ([], False),
        (["true"], True),
        (["1"], True),
        (["yes"], True),
        ([""], True),
        (["false"], False),
        (["FALSE"], False),
        (["0"], False),
        (["0", "true"], False),
    ],
)
def test_any_watch_value_but_false_or_0_is_a_watch(values: list[str] | None, watch: bool) -> None:
    assert watch_requested(values) is watch


@pytest.mark.parametrize(
    ("selector", "name"),
    [
        ("metadata.name=web-1", "web-1"),
        ("metadata.name==web-1", "web-1"),
        ("status.phase=Running,metadata.name=web-1", "web-1"),
        ("metadata.name!=web-1", ""),
        ("metadata.namespace=shop", ""),
        ("metadata.name=..", ""),
        ("metadata.name=a/b", ""),
        ("", ""),
        (None, ""),
    ],
)
def test_a_metadata_name_field_selector_names_the_request(selector: str | None, name: str) -> None:
    assert name_from_field_selector(selector) == name


def test_non_resource_verbs_are_the_lowercased_method() -> None:
    assert [non_resource_verb(m) for m in ("GET", "HEAD", "POST")] == ["get", "head", "post"]
