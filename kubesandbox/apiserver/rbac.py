"""Authentication (bearer token → user) and RBAC authorization, as a real kube-apiserver does them.

Why this exists: the self-healing job runs as a ServiceAccount with a narrow Role. If the sandbox let
every request through, a missing permission would only show up on a real cluster. So the sandbox
evaluates RoleBindings and Roles exactly like `plugin/pkg/auth/authorizer/rbac` and answers denials
with the same `Forbidden` Status the real server sends (`responsewriters.Forbidden`).

Authentication follows the real chain of a cluster with anonymous auth enabled (the default):

- no `Authorization` header, or one that is not `Bearer <token>`, or an empty token: the request is
  `system:anonymous` (group `system:unauthenticated`), which RBAC then judges;
- `Bearer <token>` with a token nobody issued: 401 `Unauthorized` — a bad token is never demoted to
  anonymous (`union.NewFailOnError` in the apiserver's authenticator config);
- the admin token: a user in `system:masters`, never checked by RBAC.

Service-account tokens are deterministic (`token_for`): `sandbox-sa.<namespace>.<name>`. Namespace
names are DNS labels and cannot contain a dot, so the first dot after the prefix ends the namespace
and the rest (a DNS subdomain, dots allowed) is the account name: no two accounts share a token.

The sandbox has no ClusterRoles or ClusterRoleBindings objects. It behaves like a cluster whose only
cluster-wide policy is the bootstrap policy every authenticated user gets (`system:discovery`,
`system:public-info-viewer`, `system:basic-user`, `system:service-account-issuer-discovery`): a
RoleBinding whose `roleRef` is a ClusterRole therefore grants nothing, and a denial then carries the
reason a real server gives for a ClusterRole that does not exist
(`RBAC: clusterrole.rbac.authorization.k8s.io "view" not found`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from kubesandbox.resources.errors import ApiError

ADMIN_USER_NAME = "kubernetes-admin"
ANONYMOUS_USER_NAME = "system:anonymous"
SERVICE_ACCOUNT_PREFIX = "system:serviceaccount:"
TOKEN_PREFIX = "sandbox-sa."

_AUTHENTICATED = "system:authenticated"
_UNAUTHENTICATED = "system:unauthenticated"
_SERVICE_ACCOUNTS = "system:serviceaccounts"


@dataclass(frozen=True)
class User:
    """Who made a request: the `user.Info` name and groups RBAC subjects are matched against."""

    name: str
    groups: tuple[str, ...]
    admin: bool = False


ADMIN = User(ADMIN_USER_NAME, ("system:masters", _AUTHENTICATED), admin=True)
ANONYMOUS = User(ANONYMOUS_USER_NAME, (_UNAUTHENTICATED,))


@dataclass(frozen=True)
class RequestAttributes:
    """What a request does, in the terms of the apiserver's `RequestInfo` / `authorizer.Attributes`.

    `resource == ""` marks a non-resource URL (`/api`, `/version`, …); then only `verb` (the lowercased
    HTTP method, see `non_resource_verb`) and `path` matter.

    `name` is the name in the URL path — never the name in a create body, since a real server
    authorizes `POST …/pods` without one — or, for list/watch, the `metadata.name` of a field selector
    (see `name_from_field_selector`). `namespace` is the namespace in the URL path, "" for cluster-wide
    requests; for the `namespaces` resource itself the real server uses the namespace's own name, and
    `Authorizer.authorize` fills that in when the caller left it empty.
    """

    verb: str
    api_group: str
    resource: str
    subresource: str
    name: str
    namespace: str
    path: str

    @property
    def is_resource_request(self) -> bool:
        return self.resource != ""


# ---------------------------------------------------------------------------------------------------
# Authentication


def service_account_user(namespace: str, name: str) -> User:
    """The user a service-account token authenticates as (name and groups as the real token authenticator sets them)."""
    return User(
        f"{SERVICE_ACCOUNT_PREFIX}{namespace}:{name}",
        (_SERVICE_ACCOUNTS, f"{_SERVICE_ACCOUNTS}:{namespace}", _AUTHENTICATED),
    )


def token_for(namespace: str, name: str) -> str:
    """The bearer token of ServiceAccount `namespace/name`: `sandbox-sa.<namespace>.<name>`.

    Deterministic so scenarios, tests and the kubeconfig agree without sharing state; unambiguous
    because a namespace (a DNS label) never contains a dot.
    """
    return f"{TOKEN_PREFIX}{namespace}.{name}"


def tokens_for(admin_token: str, service_accounts: Iterable[tuple[str, str]]) -> dict[str, User]:
    """The token table `Authenticator` takes: the admin token plus one token per (namespace, name)."""
    tokens = {token_for(ns, name): service_account_user(ns, name) for ns, name in service_accounts}
    tokens[admin_token] = ADMIN
    return tokens


def _service_account_of(user: User) -> tuple[str, str] | None:
    if not user.name.startswith(SERVICE_ACCOUNT_PREFIX):
        return None
    namespace, sep, name = user.name[len(SERVICE_ACCOUNT_PREFIX) :].partition(":")
    return (namespace, name) if sep else None


def unauthorized() -> ApiError:
    """The 401 the real server answers for a bad credential: a bare `Unauthorized` Status, no details."""
    return ApiError(401, "Unauthorized", "Unauthorized")


class Authenticator:
    """Maps the `Authorization` header to a `User`, like the apiserver's bearer-token authenticator.

    `service_account_exists(namespace, name)`, when given, is asked on every service-account token:
    a real server stops accepting a service account's tokens once the account is deleted, answering 401.
    """

    def __init__(
        self, tokens: Mapping[str, User], service_account_exists: Callable[[str, str], bool] | None = None
    ) -> None:
        self._tokens = tokens
        self._sa_exists = service_account_exists

    def authenticate(self, authorization_header: str | None) -> User:
        """The request's user; raises 401 `Unauthorized` for a bearer token that is not known.

        Parsing mirrors `bearertoken.Authenticator`: the header is trimmed and split on single spaces,
        the scheme is case-insensitive, the token is the second field. Anything that is not a
        non-empty bearer token leaves the request to the anonymous authenticator.
        """
        header = (authorization_header or "").strip()
        if not header:
            return ANONYMOUS
        parts = header.split(" ")
        if len(parts) < 2 or parts[0].lower() != "bearer" or not parts[1]:
            return ANONYMOUS
        user = self._tokens.get(parts[1])
        if user is None:
            raise unauthorized()
        account = _service_account_of(user)
        if account is not None and self._sa_exists is not None and not self._sa_exists(*account):
            raise unauthorized()
        return user


def _documents(docs: Iterable[Any]) -> Iterator[dict[str, Any]]:
    """Every object of a manifest stream, with `kind: List` documents (what `kubectl get -o yaml` writes) unpacked."""
    for doc in docs:
        if not isinstance(doc, dict):
            continue
        if doc.get("kind") == "List" and isinstance(doc.get("items"), list):
            yield from _documents(doc["items"])
        else:
            yield doc


def service_accounts_in(docs: Iterable[Any], default_namespace: str = "default") -> list[tuple[str, str]]:
    """(namespace, name) of every `v1 ServiceAccount` in the parsed documents, in order, without duplicates.

    Other objects (Roles, RoleBindings, anything else) and empty documents are ignored. A ServiceAccount
    without `metadata.namespace` lands in `default_namespace`, as `kubectl apply` puts it in the
    context's namespace.
    """
    found: list[tuple[str, str]] = []
    for doc in _documents(docs):
        if doc.get("apiVersion") != "v1" or doc.get("kind") != "ServiceAccount":
            continue
        meta = doc.get("metadata") or {}
        name = meta.get("name")
        if not name:
            continue
        key = (meta.get("namespace") or default_namespace, name)
        if key not in found:
            found.append(key)
    return found


# ---------------------------------------------------------------------------------------------------
# Request attributes


def request_verb(method: str, has_name: bool, watch: bool) -> str:
    """The RBAC verb of a resource request, as `RequestInfoFactory.NewRequestInfo` derives it.

    GET/HEAD with a name is `get` (even with `?watch=true`); without a name it is `list`, or `watch`
    when asked to watch (see `watch_requested`). DELETE without a name is `deletecollection`.
    An unknown method has the empty verb, which no rule grants.
    """
    verb = {
        "POST": "create",
        "GET": "get",
        "HEAD": "get",
        "PUT": "update",
        "PATCH": "patch",
        "DELETE": "delete",
    }.get(method.upper(), "")
    if not has_name and verb == "get":
        return "watch" if watch else "list"
    if not has_name and verb == "delete":
        return "deletecollection"
    return verb


def non_resource_verb(method: str) -> str:
    """The verb of a non-resource request (`/api`, `/healthz`, …): the lowercased HTTP method, `head` included."""
    return method.lower()


def watch_requested(watch_values: list[str] | None) -> bool:
    """Whether the `watch` query parameter asks for a watch: present and its first value not `false`/`0`."""
    return bool(watch_values) and watch_values is not None and watch_values[0].lower() not in ("false", "0")


def name_from_field_selector(field_selector: str | None) -> str:
    """The name a list/watch is narrowed to by `fieldSelector=metadata.name=<x>` (or `==`), else "".

    The real server puts that name into the request attributes, so a rule with `resourceNames` can
    allow `kubectl get pod x --watch` (a watch with that field selector) but not a plain list. Names
    that are not valid path segments (`.`, `..`, anything with `/` or `%`) are not taken.
    """
    for term in _FIELD_TERM.findall(field_selector or ""):
        m = _FIELD_REQUIREMENT.match(term)
        if m and m["op"] != "!=" and _unescape(m["field"]).strip() == "metadata.name":
            name = _unescape(m["value"])
            valid = name not in (".", "..") and "/" not in name and "%" not in name
            return name if valid else ""
    return ""


# Field selector syntax: terms split on unescaped commas; `\` escapes `,`, `=`, `!` and itself.
_FIELD_TERM = re.compile(r"(?:[^\\,]|\\.)+")
_FIELD_REQUIREMENT = re.compile(r"^(?P<field>(?:[^\\!=]|\\.)*)(?P<op>!=|==|=)(?P<value>.*)$")


def _unescape(s: str) -> str:
    return re.sub(r"\\(.)", r"\1", s)


# ---------------------------------------------------------------------------------------------------
# Authorization

Rule = Mapping[str, Any]

# The bootstrap cluster policy (`plugin/pkg/auth/authorizer/rbac/bootstrappolicy`) as far as it
# reaches ordinary users: (subject groups of the ClusterRoleBinding, rules of its ClusterRole).
_DEFAULT_CLUSTER_POLICY: tuple[tuple[frozenset[str], tuple[Rule, ...]], ...] = (
    # system:discovery
    (
        frozenset({_AUTHENTICATED}),
        (
            {
                "verbs": ["get"],
                "nonResourceURLs": [
                    "/api",
                    "/api/*",
                    "/apis",
                    "/apis/*",
                    "/healthz",
                    "/livez",
                    "/openapi",
                    "/openapi/*",
                    "/readyz",
                    "/version",
                    "/version/",
                ],
            },
        ),
    ),
    # system:public-info-viewer: the only paths anonymous requests may read
    (
        frozenset({_AUTHENTICATED, _UNAUTHENTICATED}),
        ({"verbs": ["get"], "nonResourceURLs": ["/healthz", "/livez", "/readyz", "/version", "/version/"]},),
    ),
    # system:basic-user
    (
        frozenset({_AUTHENTICATED}),
        (
            {
                "verbs": ["create"],
                "apiGroups": ["authorization.k8s.io"],
                "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
            },
            {
                "verbs": ["create"],
                "apiGroups": ["authentication.k8s.io"],
                "resources": ["selfsubjectreviews"],
            },
        ),
    ),
    # system:service-account-issuer-discovery
    (
        frozenset({_SERVICE_ACCOUNTS}),
        (
            {
                "verbs": ["get"],
                "nonResourceURLs": [
                    "/.well-known/openid-configuration",
                    "/.well-known/openid-configuration/",
                    "/openid/v1/jwks",
                    "/openid/v1/jwks/",
                ],
            },
        ),
    ),
)


def _strings(rule: Rule, key: str) -> list[str]:
    value = rule.get(key)
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def rule_allows(attrs: RequestAttributes, rule: Rule) -> bool:
    """`RuleAllows` of the real authorizer: verb, then API group, resource and name (or the URL)."""
    verbs = _strings(rule, "verbs")
    if "*" not in verbs and attrs.verb not in verbs:
        return False
    if not attrs.is_resource_request:
        return _url_matches(_strings(rule, "nonResourceURLs"), attrs.path)
    groups = _strings(rule, "apiGroups")
    if "*" not in groups and attrs.api_group not in groups:
        return False
    if not _resource_matches(_strings(rule, "resources"), attrs.resource, attrs.subresource):
        return False
    names = _strings(rule, "resourceNames")
    # Requests without a name (create, list, deletecollection) never match a rule that lists names.
    return not names or attrs.name in names


def _resource_matches(rule_resources: list[str], resource: str, subresource: str) -> bool:
    """Exact `pods` / `pods/eviction`, `*` (everything, subresources too) or `*/<subresource>`.

    There is no `pods/*`: a rule for `pods` grants no subresource, and `pods/*` grants nothing.
    """
    combined = f"{resource}/{subresource}" if subresource else resource
    for r in rule_resources:
        if r in ("*", combined):
            return True
        if subresource and r == f"*/{subresource}":
            return True
    return False


def _url_matches(rule_urls: list[str], path: str) -> bool:
    return any(
        u == "*" or u == path or (u.endswith("*") and path.startswith(u.rstrip("*"))) for u in rule_urls
    )


def _applies_to(user: User, subject: Any, binding_namespace: str) -> bool:
    """`appliesToUser`: kinds are case-sensitive; a ServiceAccount subject defaults to the binding's namespace."""
    if not isinstance(subject, dict):
        return False
    kind, name = subject.get("kind"), subject.get("name")
    if kind == "User":
        return user.name == name
    if kind == "Group":
        return name in user.groups
    if kind == "ServiceAccount":
        namespace = subject.get("namespace") or binding_namespace
        return bool(namespace) and user.name == f"{SERVICE_ACCOUNT_PREFIX}{namespace}:{name}"
    return False


def _quote(s: str) -> str:
    """Go's `%q` for the strings that reach messages (names, paths): double quotes, backslash escapes."""
    escaped = s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return '"' + escaped.replace("\r", "\\r") + '"'


def _sanitize(s: str) -> str:
    """`responsewriters` escapes what could read as HTML in the forbidden message (not in the reason)."""
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def forbidden(user: User, attrs: RequestAttributes, reason: str = "") -> ApiError:
    """The 403 a real server answers: `apierrors.NewForbidden(groupResource, name, forbiddenMessage)`.

    The message's prefix names the main resource only (`pods "x" is forbidden`, `deployments.apps is
    forbidden`); the sentence after it names `resource/subresource`. `details` carries name, group and
    the plural as `kind`, each left out when empty.
    """
    if not attrs.is_resource_request:
        sentence = f"User {_quote(user.name)} cannot {attrs.verb} path {_quote(attrs.path)}"
    else:
        resource = f"{attrs.resource}/{attrs.subresource}" if attrs.subresource else attrs.resource
        scope = f"in the namespace {_quote(attrs.namespace)}" if attrs.namespace else "at the cluster scope"
        sentence = (
            f"User {_quote(user.name)} cannot {attrs.verb} resource {_quote(resource)} "
            f"in API group {_quote(attrs.api_group)} {scope}"
        )
    sentence = _sanitize(sentence)
    if reason:
        sentence = f"{sentence}: {reason}"
    details: dict[str, Any] = {}
    if not attrs.is_resource_request:
        return ApiError(403, "Forbidden", f"forbidden: {sentence}", details)
    group_resource = f"{attrs.resource}.{attrs.api_group}" if attrs.api_group else attrs.resource
    if attrs.name:
        details["name"] = attrs.name
        message = f"{group_resource} {_quote(attrs.name)} is forbidden: {sentence}"
    else:
        message = f"{group_resource} is forbidden: {sentence}"
    if attrs.api_group:
        details["group"] = attrs.api_group
    details["kind"] = attrs.resource
    return ApiError(403, "Forbidden", message, details)


def _not_found(resource: str, name: str) -> str:
    """The lister's NotFound text for a missing role (`role.rbac.authorization.k8s.io "x" not found`)."""
    return f"{resource}.rbac.authorization.k8s.io {_quote(name)} not found"


def _aggregate(errors: list[str]) -> str:
    """`utilerrors.NewAggregate(...).Error()`: one message bare, several deduplicated inside brackets."""
    unique = list(dict.fromkeys(errors))
    return unique[0] if len(unique) == 1 else "[" + ", ".join(unique) + "]"


class Authorizer:
    """Kubernetes RBAC over the Roles and RoleBindings the sandbox stores.

    `roles(namespace)` and `bindings(namespace)` return the Role / RoleBinding objects of a namespace
    when a request is judged, so edits made through the API take effect on the next request.

    Evaluation is the real resolver's: first the built-in cluster policy (discovery paths for every
    authenticated user, the public-info paths for anonymous too), then — only for a request that names
    a namespace — every RoleBinding in that namespace with a subject matching the user, through its
    `roleRef`. A `Role` ref is looked up in the binding's namespace. A `ClusterRole` ref grants nothing:
    the sandbox has no ClusterRoles, and the denial says `clusterrole… not found` as a real cluster
    lacking that ClusterRole would. Requests across all namespaces and on cluster-scoped resources
    therefore are never allowed by a Role — except a namespace reading or changing itself
    (`GET /api/v1/namespaces/<ns>` is authorized in namespace `<ns>`, as on a real server).
    """

    def __init__(
        self, roles: Callable[[str], list[dict[str, Any]]], bindings: Callable[[str], list[dict[str, Any]]]
    ) -> None:
        self._roles = roles
        self._bindings = bindings

    def authorize(self, user: User, attrs: RequestAttributes) -> None:
        """Return when RBAC allows the request; raise 403 `Forbidden` with the real message otherwise."""
        if user.admin:
            return
        attrs = _normalized(attrs)
        allowed, errors = self._evaluate(user, attrs)
        if allowed:
            return
        raise forbidden(user, attrs, f"RBAC: {_aggregate(errors)}" if errors else "")

    def allowed(self, user: User, attrs: RequestAttributes) -> bool:
        """Whether the request would pass `authorize` (for self-subject access reviews and tests)."""
        return user.admin or self._evaluate(user, _normalized(attrs))[0]

    def review(self, user: User, attrs: RequestAttributes) -> dict[str, Any]:
        """A SelfSubjectAccessReview's status: `allowed`, and the RBAC reason a real server gives."""
        if user.admin:
            return {"allowed": True}
        allowed, errors, reason = self._judge(user, _normalized(attrs))
        status: dict[str, Any] = {"allowed": allowed}
        if reason:
            status["reason"] = reason
        elif errors:
            status["reason"] = f"RBAC: {_aggregate(errors)}"
        return status

    def _evaluate(self, user: User, attrs: RequestAttributes) -> tuple[bool, list[str]]:
        allowed, errors, _ = self._judge(user, attrs)
        return allowed, errors

    def _judge(self, user: User, attrs: RequestAttributes) -> tuple[bool, list[str], str]:
        for groups, policy in _DEFAULT_CLUSTER_POLICY:
            if groups & set(user.groups) and any(rule_allows(attrs, r) for r in policy):
                return True, [], ""
        if not attrs.namespace:
            return False, [], ""
        errors: list[str] = []
        for binding in self._bindings(attrs.namespace):
            subjects = binding.get("subjects") or []
            matching = [s for s in subjects if _applies_to(user, s, attrs.namespace)]
            if not matching:
                continue
            role_ref = binding.get("roleRef") or {}
            rules, error = self._role_rules(role_ref, attrs.namespace)
            if error:
                errors.append(error)
            if any(rule_allows(attrs, r) for r in rules):
                name = (binding.get("metadata") or {}).get("name", "")
                reason = (
                    f'RBAC: allowed by RoleBinding "{name}/{attrs.namespace}" of {role_ref.get("kind")} '
                    f'"{role_ref.get("name")}" to {_describe_subject(matching[0], attrs.namespace)}'
                )
                return True, [], reason
        return False, errors, ""

    def _role_rules(self, role_ref: Mapping[str, Any], namespace: str) -> tuple[list[Rule], str]:
        kind, name = role_ref.get("kind"), str(role_ref.get("name") or "")
        if kind == "Role":
            for role in self._roles(namespace):
                if (role.get("metadata") or {}).get("name") == name:
                    return [r for r in role.get("rules") or [] if isinstance(r, dict)], ""
            return [], _not_found("role", name)
        if kind == "ClusterRole":
            return [], _not_found("clusterrole", name)
        return [], f"unsupported role reference kind: {_quote(str(kind or ''))}"


def _describe_subject(subject: Mapping[str, Any], namespace: str) -> str:
    """`describeSubject`: `ServiceAccount "name/ns"`, `User "name"`, `Group "name"`."""
    kind, name = subject.get("kind"), subject.get("name", "")
    if kind == "ServiceAccount":
        return f'ServiceAccount "{name}/{subject.get("namespace") or namespace}"'
    return f'{kind} "{name}"'


def _normalized(attrs: RequestAttributes) -> RequestAttributes:
    """Fix up attributes the way `RequestInfoFactory` fills them, whatever the caller passed.

    A namespace object is addressed as `/api/v1/namespaces/<ns>`, which the real server parses as
    namespace `<ns>`; and a create on a main resource has no name (it is in the body, not the path).
    """
    if (
        attrs.is_resource_request
        and attrs.api_group == ""
        and attrs.resource == "namespaces"
        and attrs.name
        and not attrs.namespace
    ):
        attrs = replace(attrs, namespace=attrs.name)
    if attrs.verb == "create" and not attrs.subresource and attrs.name:
        attrs = replace(attrs, name="")
    return attrs
