"""The API server's request handling, independent of the HTTP transport.

`ApiServer.handle(request)` authenticates, authorises, routes and answers one request the way
kube-apiserver 1.32 would (codes, `Status` bodies, Tables, discovery, dry-run, optimistic
concurrency). The whole request runs under the store's lock, so each write is atomic like an
etcd transaction; controllers run between requests.
"""

from __future__ import annotations

import copy
import json
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from kubesandbox.apiserver import discovery, openapi
from kubesandbox.apiserver.bodies import (
    check_continue,
    check_micro_times,
    check_type,
    decode_object,
    prune_empty,
    prune_nulls,
)
from kubesandbox.apiserver.faults import Faults
from kubesandbox.apiserver.patching import apply_patch, check_patch_body
from kubesandbox.apiserver.patching.failures import invalid_patch, patched_type_error
from kubesandbox.apiserver.protobuf import decode_access_review, decode_core, decode_job
from kubesandbox.apiserver.rbac import ADMIN, Authenticator, Authorizer, RequestAttributes, User, request_verb
from kubesandbox.apiserver.routing import Target, Unknown, parse_resource_path
from kubesandbox.apiserver.tables import to_table
from kubesandbox.apiserver.validation import validate
from kubesandbox.resources import BY_PLURAL, errors, managed_fields
from kubesandbox.resources.admission import automounts, mount_service_account_token
from kubesandbox.resources.defaults import apply_defaults
from kubesandbox.resources.errors import ApiError
from kubesandbox.resources.selectors import field_matcher, label_matcher, selector_to_string
from kubesandbox.resources.strategy import generate_selector, prepare_for_create
from kubesandbox.resources.strategy import grace_period as pod_grace_period
from kubesandbox.store import Obj, Store, dumps, without_type_meta

JSON = "application/json"
TABLE_MARK = "as=Table"
OPTIONS_KIND = {
    "POST": "CreateOptions",
    "PUT": "UpdateOptions",
    "PATCH": "PatchOptions",
    "DELETE": "DeleteOptions",
}
PROPAGATION_POLICIES = ("Foreground", "Background", "Orphan")
SERVICES = BY_PLURAL[("", "services")]
PROTOBUF = "application/vnd.kubernetes.protobuf"
APPLY_PATCH = "application/apply-patch+yaml"

DisruptionFn = Callable[[Store, str, str, dict[str, Any], bool], None]
OrphanFn = Callable[[Store, str], None]


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]  # lower-case keys
    body: bytes = b""
    secure: bool = False  # arrived on the HTTPS port

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = JSON
    headers: dict[str, str] = field(default_factory=dict)
    stream: Iterator[bytes] | None = None  # watch: newline-delimited JSON events


@dataclass(frozen=True)
class RequestRecord:
    method: str
    path: str
    query: str
    user: str
    status: int
    field_manager: str


def _json(status: int, obj: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(status, dumps(obj), JSON, headers or {})


def _yaml_object(body: bytes) -> dict[str, Any]:
    try:
        doc = yaml.safe_load(body.decode("utf-8", "replace"))
    except yaml.YAMLError:
        return {}
    return doc if isinstance(doc, dict) else {}


def openapi_document(group_version: str, wanted_hash: str | None) -> Response:
    """An OpenAPI v3 document; asked for with a `hash` that is not its own, a 301 to the current one
    (the ETag names it), as kube-openapi answers."""
    spec = openapi.document(group_version)
    if spec is None:
        return Response(404, b"", "text/plain; charset=utf-8")
    digest = openapi.digest(group_version)
    headers = {"Etag": f'"{digest}"', "Vary": "Accept"}
    if wanted_hash is not None and wanted_hash != digest:
        headers["Location"] = f"/openapi/v3/{group_version}?hash={digest}"
        return Response(301, b"", JSON, headers)
    return Response(200, spec, JSON, headers)


def error_response(err: ApiError) -> Response:
    return _json(err.code, err.status(), dict(err.headers))


def _success(target: Target, obj: Obj) -> dict[str, Any]:
    details = {
        "name": target.name,
        "kind": target.resource.plural,
        "uid": obj.get("metadata", {}).get("uid", ""),
    }
    if target.resource.group:
        details["group"] = target.resource.group
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}


class ApiServer:
    def __init__(
        self,
        store: Store,
        *,
        authenticator: Authenticator,
        authorizer: Authorizer,
        evict: DisruptionFn,
        orphan: OrphanFn,
        faults: Faults | None = None,
        insecure_user: User | None = None,
    ) -> None:
        self.store = store
        self.insecure_user = insecure_user or ADMIN
        self.authenticator = authenticator
        self.authorizer = authorizer
        self.evict = evict
        self.orphan = orphan
        self.faults = faults or Faults()
        self.requests: deque[RequestRecord] = deque(maxlen=200_000)
        self.server_address = "127.0.0.1:0"
        self.stopping = False

    # -- entry point ------------------------------------------------------------------------
    def handle(self, req: Request) -> Response:
        user_name = "?"
        try:
            if not req.secure and not req.header("authorization"):
                # The plain-HTTP port is the old kube-apiserver "insecure port": kubectl sends no
                # credentials over plain HTTP (kubernetes/kubectl#744), and that port trusted them all.
                user = self.insecure_user
            else:
                user = self.authenticator.authenticate(req.header("authorization") or None)
            user_name = user.name
            resp = self._dispatch(req, user)
        except ApiError as err:
            resp = error_response(err)
        except Exception as exc:  # a sandbox bug must still answer like a server would
            resp = error_response(ApiError(500, "InternalError", f"Internal error occurred: {exc!r}"))
        self.requests.append(
            RequestRecord(
                req.method,
                req.path,
                _query_string(req.query),
                user_name,
                resp.status,
                req.query.get("fieldManager", ""),
            )
        )
        return resp

    def _dispatch(self, req: Request, user: User) -> Response:
        path = req.path.rstrip("/") or "/"
        target = parse_resource_path(path)
        if target is None:
            self.authorizer.authorize(
                user,
                RequestAttributes(
                    verb=req.method.lower(),
                    api_group="",
                    resource="",
                    subresource="",
                    name="",
                    namespace="",
                    path=path,
                ),
            )
            return self._non_resource(req, path)
        if isinstance(target, Unknown):
            if not discovery.serves(target.group, target.version):  # no handler at all: Go's NotFoundHandler
                return Response(404, b"404 page not found\n", "text/plain; charset=utf-8")
            raise errors.not_found_resource()
        watch = req.query.get("watch", "false") not in ("false", "0")
        verb = request_verb(req.method, bool(target.name), watch)
        self.authorizer.authorize(
            user,
            RequestAttributes(
                verb=verb,
                api_group=target.resource.group,
                resource=target.resource.plural,
                subresource=target.subresource,
                name=target.name,
                namespace=target.namespace,
                path=path,
            ),
        )
        if watch:
            return self._watch(req, target)
        with self.store.lock:
            return self._resource(req, target, user)

    # -- non-resource paths -------------------------------------------------------------------
    def _non_resource(self, req: Request, path: str) -> Response:
        if req.method != "GET":
            raise errors.method_not_allowed()
        accept = req.header("accept")
        if path == "/version":
            return _json(200, discovery.VERSION_INFO)
        if path in ("/healthz", "/readyz", "/livez"):
            return Response(200, b"ok", "text/plain; charset=utf-8")
        if path == "/openapi/v3":
            return _json(200, openapi.index())
        if path.startswith("/openapi/v3/"):
            return openapi_document(path.removeprefix("/openapi/v3/"), req.query.get("hash"))
        if path in ("/api", "/apis"):
            if discovery.wants_aggregated(accept):
                doc = discovery.aggregated(legacy_core=path == "/api")
                return Response(200, dumps(doc), discovery.AGGREGATED_CONTENT_TYPE)
            doc = (
                discovery.api_versions(self.server_address) if path == "/api" else discovery.api_group_list()
            )
            return _json(200, doc)
        parts = [p for p in path.split("/") if p]
        found: dict[str, Any] | None = None
        if parts == ["api", "v1"]:
            found = discovery.api_resource_list("", "v1")
        elif len(parts) == 3 and parts[0] == "apis":
            found = discovery.api_resource_list(parts[1], parts[2])
        elif len(parts) == 2 and parts[0] == "apis":
            found = discovery.api_group(parts[1])
        if found is not None:
            return _json(200, found)
        if len(parts) == 3 and parts[0] == "apis" and discovery.serves_group(parts[1]):
            raise errors.not_found_resource()  # a version of a served group: the group's handler answers
        return Response(404, b"404 page not found\n", "text/plain; charset=utf-8")

    # -- resources ----------------------------------------------------------------------------
    def _resource(self, req: Request, target: Target, user: User) -> Response:
        m, sub = req.method, target.subresource
        if target.is_collection:
            if m == "GET":
                return self._list(req, target)
            if m == "POST":
                return self._create(req, target, user)
            if m == "DELETE":
                return self._delete_collection(req, target)
            raise errors.method_not_allowed()
        if sub == "eviction":
            if m != "POST":
                raise errors.method_not_allowed()
            return self._eviction(req, target)
        if sub == "scale":
            return self._scale(req, target, user)
        if sub == "log":
            return self._log(req, target)
        if m == "GET":
            return self._get(req, target)
        if m == "PUT":
            return self._update(req, target, user)
        if m == "PATCH":
            return self._patch(req, target, user)
        if m == "DELETE" and not sub:
            return self._delete(req, target)
        raise errors.method_not_allowed()

    def _wants_table(self, req: Request) -> bool:
        return TABLE_MARK in req.header("accept")

    def _get(self, req: Request, target: Target) -> Response:
        rt = target.resource
        if self._wants_table(req):
            obj = self.store.get(rt, target.namespace, target.name)
            table = to_table(
                rt.kind,
                [obj],
                self.store.clock.now(),
                include_object=req.query.get("includeObject", "Metadata"),
                list_meta={"resourceVersion": obj["metadata"]["resourceVersion"]},
            )
            return _json(200, table)
        return Response(200, self.store.get_bytes(rt, target.namespace, target.name))

    def _list(self, req: Request, target: Target) -> Response:
        rt = target.resource
        try:
            limit = int(req.query.get("limit", "0") or 0)
        except ValueError:
            raise errors.bad_request(f"invalid limit: {req.query.get('limit')!r}") from None
        check_continue(req.query.get("continue", ""))
        if req.query.get("resourceVersion") == "0" and not req.query.get("continue"):
            limit = 0  # served from the watch cache, which does not paginate
        page = self.store.list_page(
            rt,
            target.namespace or None,
            label_selector=req.query.get("labelSelector"),
            field_selector=req.query.get("fieldSelector"),
            limit=max(limit, 0),
            continue_token=req.query.get("continue", ""),
        )
        list_meta: dict[str, Any] = {"resourceVersion": page.resource_version}
        if page.continue_token:
            list_meta["continue"] = page.continue_token
        if page.remaining is not None:
            list_meta["remainingItemCount"] = page.remaining
        if self._wants_table(req):
            objs = [{"apiVersion": rt.api_version, "kind": rt.kind, **json.loads(b)} for b in page.items]
            table = to_table(
                rt.kind,
                objs,
                self.store.clock.now(),
                include_object=req.query.get("includeObject", "Metadata"),
                list_meta=list_meta,
            )
            return _json(200, table)
        head = dumps({"kind": rt.list_kind, "apiVersion": rt.api_version, "metadata": list_meta})
        body = head[:-1] + b',"items":[' + b",".join(page.items) + b"]}"
        return Response(200, body)

    # -- writes -------------------------------------------------------------------------------
    def _body(self, req: Request) -> Any:
        try:
            return json.loads(req.body or b"null")
        except ValueError as exc:
            raise errors.bad_request(f"the body of the request was not valid JSON: {exc}") from None

    @staticmethod
    def _dry_run(req: Request) -> bool:
        """The `dryRun` option, validated as the request's options object (`CreateOptions`...) is."""
        value = req.query.get("dryRun", "")
        if value and value != "All":
            raise errors.unsupported_value(
                OPTIONS_KIND.get(req.method, "CreateOptions"), "dryRun", json.dumps([value]), ("All",)
            )
        return value == "All"

    def _manager(self, req: Request) -> str:
        return managed_fields.manager_from(req.query.get("fieldManager", ""), req.header("user-agent"))

    def _decode_create_body(self, req: Request, target: Target) -> Obj:
        ctype = req.header("content-type").split(";")[0].strip()
        if ctype == PROTOBUF:
            if target.resource.kind in ("ConfigMap", "Secret"):
                return decode_core(req.body, target.resource.kind)
            if target.resource.kind != "Job":
                raise ApiError(
                    415,
                    "UnsupportedMediaType",
                    f"the sandbox reads protobuf bodies only for Jobs, ConfigMaps and Secrets, not "
                    f"{target.resource.kind}",
                )
            return self._job_from_protobuf(req.body, target)
        return decode_object(req.body, target.resource)

    def _job_from_protobuf(self, raw: bytes, target: Target) -> Obj:
        """kubectl create job --from=cronjob/X sends protobuf; the spec comes from X's jobTemplate."""
        job = decode_job(raw)
        meta = job["metadata"]
        owner = next((o for o in meta.get("ownerReferences") or [] if o.get("kind") == "CronJob"), None)
        if owner is None:
            raise errors.bad_request("the sandbox can only decode protobuf Jobs created from a CronJob")
        cronjob = self.store.get(
            BY_PLURAL[("batch", "cronjobs")], meta.get("namespace") or target.namespace, owner["name"]
        )
        job["spec"] = copy.deepcopy(cronjob["spec"]["jobTemplate"].get("spec", {}))
        return job

    def _check_identity(self, obj: Obj, target: Target) -> None:
        rt = target.resource
        check_type(obj, rt)
        meta = obj.setdefault("metadata", {})
        if rt.namespaced:
            if meta.get("namespace") and meta["namespace"] != target.namespace:
                raise errors.bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request"
                )
            meta["namespace"] = target.namespace
        if target.name and meta.get("name") and meta["name"] != target.name:
            raise errors.bad_request(
                f"the name of the object ({meta['name']}) does not match the name on the URL ({target.name})"
            )
        if target.name:
            meta["name"] = target.name

    def _access_review(self, req: Request, target: Target, user: User) -> Response:
        """POST selfsubjectaccessreviews: the caller's own authorization, answered, never stored."""
        self._dry_run(req)
        if req.header("content-type").split(";")[0].strip() == PROTOBUF:
            review = decode_access_review(req.body)
        else:
            review = decode_object(req.body, target.resource)
        check_type(review, target.resource)
        spec: dict[str, Any] = review["spec"] if isinstance(review.get("spec"), dict) else {}
        res = spec.get("resourceAttributes")
        non = spec.get("nonResourceAttributes")
        if isinstance(res, dict):
            attrs = RequestAttributes(
                verb=str(res.get("verb", "")),
                api_group=str(res.get("group", "")),
                resource=str(res.get("resource", "")),
                subresource=str(res.get("subresource", "")),
                name=str(res.get("name", "")),
                namespace=str(res.get("namespace", "")),
                path="",
            )
        elif isinstance(non, dict):
            attrs = RequestAttributes(str(non.get("verb", "")), "", "", "", "", "", str(non.get("path", "")))
        else:
            raise errors.invalid(
                "SelfSubjectAccessReview",
                "authorization.k8s.io",
                "",
                [
                    (
                        "spec.resourceAttributes",
                        "FieldValueRequired",
                        "Required value: exactly one of nonResourceAttributes or resourceAttributes must be specified",
                    )
                ],
            )
        answer = {
            "kind": "SelfSubjectAccessReview",
            "apiVersion": "authorization.k8s.io/v1",
            "metadata": {},
            "spec": spec,
            "status": self.authorizer.review(user, attrs),
        }
        return _json(201, answer)

    def _create(self, req: Request, target: Target, user: User) -> Response:
        rt = target.resource
        if rt.kind == "SelfSubjectAccessReview":
            return self._access_review(req, target, user)
        if rt.namespaced and not target.namespace:
            raise errors.method_not_allowed("the server does not allow this method on the requested resource")
        dry_run = self._dry_run(req)
        obj = prune_empty(prune_nulls(self._decode_create_body(req, target)))
        self._check_identity(obj, target)
        warnings = self._decode_fields(req, obj, rt)
        check_micro_times(obj, rt)
        if obj["metadata"].get("resourceVersion"):
            raise ApiError(500, "", "resourceVersion should not be set on objects to be created")
        for k in (
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "managedFields",
            "generation",
        ):
            obj["metadata"].pop(k, None)
        obj["apiVersion"], obj["kind"] = rt.api_version, rt.kind
        apply_defaults(obj)
        prepare_for_create(obj)
        if obj["kind"] == "Pod":
            self._admit_pod(obj, target.namespace)
        if obj["kind"] == "Service":
            self._allocate_cluster_ip(obj)
        if not obj["metadata"].get("name") and obj["metadata"].get("generateName"):
            obj["metadata"]["name"] = obj["metadata"]["generateName"] + "x"  # for validation only
            validate(rt, obj)
            obj["metadata"]["name"] = ""
        else:
            validate(rt, obj)
        managed_fields.update(
            obj, None, self._manager(req), "Update", "", rt.api_version, self.store.clock.now()
        )
        prepare = generate_selector if rt.kind == "Job" else None
        created = self.store.create(rt, obj, dry_run=dry_run, prepare=prepare)
        return _json(201, created, warnings)

    def _decode_fields(self, req: Request, obj: Obj, rt: Any, patch: Any = None) -> dict[str, str]:
        """Decoding into the Go types: fields the kind's schema lacks are dropped, with a warning each
        (fieldValidation Warn, the default), silently (Ignore), or refused (Strict: 400, 422 for a patch)."""
        how = req.query.get("fieldValidation", "") or "Warn"
        unknown = openapi.unknown_fields(obj, prune=True)
        if not unknown or how == "Ignore":
            return {}
        fields = ", ".join(f'unknown field "{f}"' for f in unknown)
        if how == "Strict":
            if patch is None:
                raise errors.bad_request(
                    f'{rt.kind} in version "{rt.version}" cannot be handled as a {rt.kind}: strict decoding error: '
                    f"{fields}"
                )
            raise invalid_patch(f"Invalid value: {json.dumps(patch)}: strict decoding error: {fields}")
        texts = (f'unknown field "{f}"'.replace("\\", "\\\\").replace('"', '\\"') for f in unknown)
        return {"Warning": ", ".join(f'299 - "{t}"' for t in texts)}  # RFC 7234 warning values, quoted

    def _write(
        self,
        req: Request,
        target: Target,
        old: Obj,
        new: Obj,
        headers: dict[str, str] | None = None,
    ) -> Response:
        rt = target.resource
        sub = target.subresource
        dry_run = self._dry_run(req)
        new = prune_empty(prune_nulls(new))
        apply_defaults(new)
        validate(rt, new, old)
        manager, now = self._manager(req), self.store.clock.now()

        def attribute(changed: Obj) -> None:  # only a write that changes something is attributed
            managed_fields.update(changed, old, manager, "Update", sub, rt.api_version, now)

        updated = self.store.update(
            rt,
            new,
            subresource=sub,
            dry_run=dry_run,
            on_change=attribute,
            annotations_count=rt.kind == "Deployment" and not sub,
        )
        return _json(200, updated, headers)

    def _update(self, req: Request, target: Target, user: User) -> Response:
        self._dry_run(req)
        body = decode_object(req.body, target.resource)
        self._check_identity(body, target)
        warnings = self._decode_fields(req, body, target.resource)
        check_micro_times(body, target.resource)
        old = self.store.get(target.resource, target.namespace, target.name)
        # managedFields are the server's: a PUT cannot rewrite them (`_write` records this writer)
        body["metadata"]["managedFields"] = old["metadata"].get("managedFields") or []
        return self._write(req, target, old, body, warnings)

    def _patch(self, req: Request, target: Target, user: User) -> Response:
        rt = target.resource
        self._dry_run(req)
        if req.header("content-type").split(";")[0].strip() == APPLY_PATCH:
            if not req.query.get("fieldManager"):
                raise errors.invalid(
                    "PatchOptions",
                    "meta.k8s.io",
                    "",
                    [("fieldManager", "FieldValueRequired", "Required value: is required for apply patch")],
                )
            applied = _yaml_object(req.body)
            gvk = (str(applied.get("apiVersion") or ""), str(applied.get("kind") or ""))
            if not all(gvk):  # decoded before anything else: a config without its type is refused
                group, _, version = gvk[0].rpartition("/")
                raise errors.bad_request(f"invalid object type: {group}/{version}, Kind={gvk[1]}")
            raise ApiError(
                415,
                "UnsupportedMediaType",
                "the sandbox does not emulate server-side apply (application/apply-patch+yaml)",
                {},
            )
        check_patch_body(req.body, req.header("content-type"))  # before the object is looked up
        old = self.store.get(rt, target.namespace, target.name)
        patched = apply_patch(old, req.body, req.header("content-type"), rt.kind)
        mismatch = patched_type_error(patched, req.body, req.header("content-type").split(";")[0].strip())
        if mismatch is not None:  # the result does not decode into the kind's Go type
            raise mismatch
        meta = patched.get("metadata") or {}
        if rt.namespaced and meta.get("namespace") != target.namespace:
            raise errors.bad_request(
                "the namespace of the provided object does not match the namespace sent on the request"
            )
        if meta.get("name") != target.name:
            raise errors.bad_request(
                f"the name of the object ({meta.get('name')}) does not match the name on the URL ({target.name})"
            )
        if meta.get("uid") and meta["uid"] != old["metadata"]["uid"]:
            # no uid precondition on a PATCH (unlike a PUT): the patched uid fails validation instead
            raise errors.invalid(
                rt.kind,
                rt.group,
                target.name,
                [
                    (
                        "metadata.uid",
                        "FieldValueInvalid",
                        f'Invalid value: "{meta["uid"]}": field is immutable',
                    )
                ],
            )
        try:
            op_body: Any = json.loads(req.body)
        except ValueError:
            op_body = {}
        warnings = self._decode_fields(req, patched, rt, patch=op_body)
        return self._write(req, target, old, patched, warnings)

    def _delete(self, req: Request, target: Target) -> Response:
        rt = target.resource
        opts = self._body(req) if req.body else {}
        if not isinstance(opts, dict):
            raise errors.bad_request("DeleteOptions must be a JSON object")
        dry = self._dry_run(req) or opts.get("dryRun") == ["All"]
        policy = opts.get("propagationPolicy") or req.query.get("propagationPolicy", "")
        if policy and policy not in PROPAGATION_POLICIES:
            raise errors.unsupported_value(
                "DeleteOptions", "propagationPolicy", f'"{policy}"', (*PROPAGATION_POLICIES, "nil")
            )
        grace_raw = opts.get("gracePeriodSeconds", req.query.get("gracePeriodSeconds"))
        obj = self.store.get(rt, target.namespace, target.name)
        grace: int | None = int(grace_raw) if grace_raw not in (None, "") else None
        if rt.kind == "Pod":
            grace = pod_grace_period(obj, grace)  # 0 for unscheduled or finished pods, like the pod strategy
        preconditions = opts.get("preconditions") or {}
        if not dry and policy == "Orphan":
            self.orphan(self.store, obj["metadata"]["uid"])
        if not dry and policy == "Foreground":
            self.store.mutate(rt, target.namespace, target.name, _add_finalizer("foregroundDeletion"))
        result = self.store.delete(
            rt,
            target.namespace,
            target.name,
            preconditions=preconditions,
            dry_run=dry,
            grace_period_seconds=grace if grace else None,
        )
        terminating = bool(result["metadata"].get("deletionTimestamp"))
        if terminating or rt.returns_deleted:  # graceful (or dry-run graceful): the object as it now is
            return _json(200, result)
        return _json(200, _success(target, result))

    def _delete_collection(self, req: Request, target: Target) -> Response:
        rt = target.resource
        objs = self.store.list(
            rt, target.namespace or None, req.query.get("labelSelector"), req.query.get("fieldSelector")
        )
        dry = self._dry_run(req)
        for o in objs:
            self.store.delete(rt, target.namespace, o["metadata"]["name"], dry_run=dry)
        return _json(
            200,
            {
                "kind": rt.list_kind,
                "apiVersion": rt.api_version,
                "metadata": {"resourceVersion": str(self.store.resource_version)},
                "items": [without_type_meta(o) for o in objs],
            },
        )

    def _allocate_cluster_ip(self, svc: Obj) -> None:
        """The Service registry's IP allocator: a free address of the service range (10.96.0.0/16, as
        tools/k8s's apiserver is configured), unless the Service is headless or names its own."""
        spec = svc.setdefault("spec", {})
        if spec.get("type") == "ExternalName":
            return
        ip = spec.get("clusterIP")
        if ip:
            spec.setdefault("clusterIPs", [ip])
            return
        used = {(s.get("spec") or {}).get("clusterIP") for s in self.store.iter_live(SERVICES)}
        while True:
            ip = f"10.96.{self.store.randint(0, 255)}.{self.store.randint(1, 254)}"
            if ip not in used:
                break
        spec["clusterIP"], spec["clusterIPs"] = ip, [ip]

    def _admit_pod(self, pod: Obj, namespace: str) -> None:
        """The ServiceAccount admission plugin: the pod's account must exist (`default` always does: the
        ServiceAccount controller makes it in every namespace), and its token is mounted."""
        name = str((pod.get("spec") or {}).get("serviceAccountName") or "default")
        account = self.store.peek(BY_PLURAL[("", "serviceaccounts")], namespace, name)
        if account is None and name != "default":
            pod_name = pod["metadata"].get("name", "")
            quoted = f' "{pod_name}"' if pod_name else ""
            raise ApiError(
                403,
                "Forbidden",
                f"pods{quoted} is forbidden: error looking up service account {namespace}/{name}: "
                f'serviceaccount "{name}" not found',
                {"name": pod_name, "kind": "pods"} if pod_name else {"kind": "pods"},
            )
        if automounts(pod, account):
            mount_service_account_token(pod, self.store.random_suffix())

    def _eviction(self, req: Request, target: Target) -> Response:
        body = self._body(req)
        if not isinstance(body, dict):
            raise errors.bad_request("the body of the request must be an Eviction object")
        if (body.get("metadata") or {}).get("name") != target.name:  # an Eviction without a name too
            raise errors.bad_request("name in URL does not match name in Eviction object")
        opts = body.get("deleteOptions") or {}
        dry = self._dry_run(req) or opts.get("dryRun") == ["All"]
        self.evict(self.store, target.namespace, target.name, body, dry)
        return _json(
            201, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}
        )

    def _scale(self, req: Request, target: Target, user: User) -> Response:
        rt = target.resource
        obj = self.store.get(rt, target.namespace, target.name)
        scale = _scale_of(obj)
        if req.method == "GET":
            return _json(200, scale)
        if req.method == "PUT":
            new_scale = self._body(req)
        elif req.method == "PATCH":
            new_scale = apply_patch(scale, req.body, req.header("content-type"), "Scale")
        else:
            raise errors.method_not_allowed()
        if not isinstance(new_scale, dict):
            raise errors.bad_request("the body of the request must be a Scale object")
        rv = (new_scale.get("metadata") or {}).get("resourceVersion")
        if rv and rv != obj["metadata"]["resourceVersion"]:
            raise errors.stale_write(rt.group_resource, rt.group, rt.plural, target.name)
        replicas = (new_scale.get("spec") or {}).get("replicas")
        if isinstance(replicas, bool) or not isinstance(replicas, int) or replicas < 0:
            raise errors.invalid(
                "Scale",
                "autoscaling",
                target.name,
                [
                    (
                        "spec.replicas",
                        "FieldValueInvalid",
                        f"Invalid value: {replicas!r}: must be greater than or equal to 0",
                    )
                ],
            )
        new = copy.deepcopy(obj)
        new["spec"]["replicas"] = replicas
        # written as the Deployment itself, attributed to the subresource (managedFields' `subresource: scale`)
        sub_target = Target(rt, target.namespace, target.name, "scale")
        resp = self._write(req, sub_target, obj, new)
        return _json(200, _scale_of(json.loads(resp.body))) if resp.status == 200 else resp

    def _log(self, req: Request, target: Target) -> Response:
        pod = self.store.get(target.resource, target.namespace, target.name)
        lines = []
        for cs in (pod.get("status") or {}).get("containerStatuses") or []:
            term = (cs.get("lastState") or {}).get("terminated") or (cs.get("state") or {}).get("terminated")
            if term:
                lines.append(
                    f"sandbox: container {cs.get('name')} exited with code {term.get('exitCode')} "
                    f"({term.get('reason')})"
                )
        return Response(200, ("\n".join(lines) + "\n" if lines else "").encode(), "text/plain")

    # -- watch --------------------------------------------------------------------------------
    def _watch(self, req: Request, target: Target) -> Response:
        rt = target.resource
        lm = label_matcher(req.query.get("labelSelector"))
        fm = field_matcher(req.query.get("fieldSelector"), rt.kind)
        if target.name:
            by_name = field_matcher(f"metadata.name={target.name}", rt.kind)
            fm = by_name if fm is None else (lambda o, a=fm, b=by_name: a(o) and b(o))
        timeout = float(req.query.get("timeoutSeconds") or 1800)
        rv_param = req.query.get("resourceVersion", "")
        namespace = target.namespace

        def visible(o: Obj) -> bool:
            meta = o.get("metadata", {})
            if namespace and meta.get("namespace") != namespace:
                return False
            return (lm is None or lm(meta.get("labels") or {})) and (fm is None or fm(o))

        send_initial = req.query.get("sendInitialEvents") == "true"
        with self.store.lock:
            if rv_param in ("", "0") or send_initial:
                start = self.store.resource_version
                initial = [o for o in self.store.iter_live(rt, namespace or None) if visible(o)]
                first = [dumps({"type": "ADDED", "object": o}) + b"\n" for o in initial]
                if (
                    send_initial
                ):  # a watch-list (client-go 1.35+): a bookmark marks the end of the initial events
                    first.append(
                        dumps({"type": "BOOKMARK", "object": _initial_events_end(rt, start)}) + b"\n"
                    )
            else:
                start = int(rv_param)
                if self.store.events_since(start) is None:
                    raise errors.gone(f"too old resource version: {start} ({self.store.resource_version})")
                first = []

        def stream() -> Iterator[bytes]:
            yield from first
            last = start
            deadline = time.monotonic() + timeout
            while not self.stopping and time.monotonic() < deadline:
                with self.store.lock:
                    events = self.store.events_since(last)
                    if events is None:
                        yield dumps(
                            {"type": "ERROR", "object": errors.gone("too old resource version").status()}
                        )
                        return
                    if not events:
                        self.store.changed.wait(timeout=0.5)
                        continue
                    last = events[-1].rv
                    chunk = [
                        dumps({"type": e.type, "object": e.obj}) + b"\n"
                        for e in events
                        if e.resource == rt and visible(e.obj)
                    ]
                yield from chunk

        return Response(200, b"", JSON, {}, stream())


def _initial_events_end(rt: Any, rv: int) -> dict[str, Any]:
    return {
        "kind": rt.kind,
        "apiVersion": rt.api_version,
        "metadata": {"resourceVersion": str(rv), "annotations": {"k8s.io/initial-events-end": "true"}},
    }


def _scale_of(obj: Obj) -> dict[str, Any]:
    meta = obj["metadata"]
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            k: meta[k]
            for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
            if k in meta
        },
        "spec": {"replicas": obj.get("spec", {}).get("replicas", 0)},
        "status": {
            "replicas": (obj.get("status") or {}).get("replicas", 0),
            "selector": selector_to_string(obj.get("spec", {}).get("selector")),
        },
    }


def _add_finalizer(name: str) -> Callable[[Obj], None]:
    def fn(o: Obj) -> None:
        fins = o["metadata"].setdefault("finalizers", [])
        if name not in fins:
            fins.append(name)

    return fn


def _query_string(q: Mapping[str, str]) -> str:
    return "&".join(f"{k}={v}" for k, v in q.items())
