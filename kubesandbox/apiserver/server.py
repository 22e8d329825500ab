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

from kubesandbox.apiserver import discovery, managed_fields
from kubesandbox.apiserver.faults import Faults
from kubesandbox.apiserver.patching import apply_patch
from kubesandbox.apiserver.protobuf import decode_job
from kubesandbox.apiserver.rbac import ADMIN, Authenticator, Authorizer, RequestAttributes, User, request_verb
from kubesandbox.apiserver.routing import Target, Unknown, parse_resource_path
from kubesandbox.apiserver.tables import to_table
from kubesandbox.apiserver.validation import validate
from kubesandbox.resources import BY_PLURAL, errors
from kubesandbox.resources.defaults import apply_defaults
from kubesandbox.resources.errors import ApiError
from kubesandbox.resources.selectors import field_matcher, label_matcher, selector_to_string
from kubesandbox.resources.strategy import generate_selector
from kubesandbox.resources.strategy import grace_period as pod_grace_period
from kubesandbox.store import Obj, Store, dumps

JSON = "application/json"
TABLE_MARK = "as=Table"
PROTOBUF = "application/vnd.kubernetes.protobuf"

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
            raise ApiError(404, "NotFound", "the server could not find the requested resource", {})
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
        if found is None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource", {})
        return _json(200, found)

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
            objs = [json.loads(b) for b in page.items]
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
        value = req.query.get("dryRun", "")
        if value and value != "All":
            raise errors.bad_request(f'Invalid dryRun value "{value}": only "All" is supported')
        return value == "All"

    def _manager(self, req: Request) -> str:
        return managed_fields.manager_from(req.query.get("fieldManager", ""), req.header("user-agent"))

    def _decode_create_body(self, req: Request, target: Target) -> Obj:
        ctype = req.header("content-type").split(";")[0].strip()
        if ctype == PROTOBUF:
            if target.resource.kind != "Job":
                raise ApiError(
                    415,
                    "UnsupportedMediaType",
                    f"the sandbox reads protobuf bodies only for Jobs, not {target.resource.kind}",
                )
            return self._job_from_protobuf(req.body, target)
        body = self._body(req)
        if not isinstance(body, dict):
            raise errors.bad_request("the body of the request must be a JSON object")
        return body

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
        if obj.get("kind") not in (None, rt.kind) or obj.get("apiVersion") not in (None, rt.api_version):
            raise errors.bad_request(
                f"the API version in the data ({obj.get('apiVersion')}) does not match the expected API "
                f"version ({rt.api_version})"
                if obj.get("apiVersion") != rt.api_version
                else f"the kind in the data ({obj.get('kind')}) does not match the expected kind ({rt.kind})"
            )
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

    def _create(self, req: Request, target: Target, user: User) -> Response:
        rt = target.resource
        if rt.namespaced and not target.namespace:
            raise errors.method_not_allowed("the server does not allow this method on the requested resource")
        obj = self._decode_create_body(req, target)
        self._check_identity(obj, target)
        for k in ("uid", "resourceVersion", "creationTimestamp", "deletionTimestamp", "managedFields"):
            obj["metadata"].pop(k, None)
        obj["apiVersion"], obj["kind"] = rt.api_version, rt.kind
        apply_defaults(obj)
        if not obj["metadata"].get("name") and obj["metadata"].get("generateName"):
            obj["metadata"]["name"] = obj["metadata"]["generateName"] + "x"  # for validation only
            validate(rt, obj)
            obj["metadata"]["name"] = ""
        else:
            validate(rt, obj)
        managed_fields.record(
            obj,
            self._manager(req),
            "Update",
            self._body_for_fields(req, obj),
            "",
            rt.api_version,
            self.store.clock.now(),
        )
        prepare = generate_selector if rt.kind == "Job" else None
        created = self.store.create(rt, obj, dry_run=self._dry_run(req), prepare=prepare)
        return _json(201, created)

    @staticmethod
    def _body_for_fields(req: Request, obj: Obj) -> Any:
        ctype = req.header("content-type")
        if ctype.startswith(PROTOBUF):
            return obj
        try:
            return json.loads(req.body)
        except ValueError:
            return obj

    def _write(self, req: Request, target: Target, old: Obj, new: Obj, operation_body: Any) -> Response:
        rt = target.resource
        sub = target.subresource
        apply_defaults(new)
        validate(rt, new, old)
        manager, now = self._manager(req), self.store.clock.now()

        def attribute(changed: Obj) -> None:  # only a write that changes something is attributed
            managed_fields.record(changed, manager, "Update", operation_body, sub, rt.api_version, now)

        return _json(
            200, self.store.update(rt, new, subresource=sub, dry_run=self._dry_run(req), on_change=attribute)
        )

    def _update(self, req: Request, target: Target, user: User) -> Response:
        body = self._body(req)
        if not isinstance(body, dict):
            raise errors.bad_request("the body of the request must be a JSON object")
        self._check_identity(body, target)
        old = self.store.get(target.resource, target.namespace, target.name)
        # managedFields are the server's: a PUT cannot rewrite them (`_write` records this writer)
        body["metadata"]["managedFields"] = old["metadata"].get("managedFields") or []
        return self._write(req, target, old, body, body)

    def _patch(self, req: Request, target: Target, user: User) -> Response:
        rt = target.resource
        old = self.store.get(rt, target.namespace, target.name)
        patched = apply_patch(old, req.body, req.header("content-type"), rt.kind)
        meta = patched.get("metadata") or {}
        if meta.get("name") != target.name or (rt.namespaced and meta.get("namespace") != target.namespace):
            raise errors.bad_request("the patch may not change metadata.name or metadata.namespace")
        try:
            op_body: Any = json.loads(req.body)
        except ValueError:
            op_body = {}
        return self._write(req, target, old, patched, op_body if isinstance(op_body, dict) else patched)

    def _delete(self, req: Request, target: Target) -> Response:
        rt = target.resource
        opts = self._body(req) if req.body else {}
        if not isinstance(opts, dict):
            raise errors.bad_request("DeleteOptions must be a JSON object")
        dry = self._dry_run(req) or opts.get("dryRun") == ["All"]
        policy = opts.get("propagationPolicy") or req.query.get("propagationPolicy", "")
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
        still_there = self.store.peek(rt, target.namespace, target.name) is not None
        if dry or still_there or rt.returns_deleted:
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
                "items": objs,
            },
        )

    def _eviction(self, req: Request, target: Target) -> Response:
        body = self._body(req)
        if not isinstance(body, dict):
            raise errors.bad_request("the body of the request must be an Eviction object")
        name = (body.get("metadata") or {}).get("name")
        if name and name != target.name:
            raise errors.bad_request(
                f"name in URL does not match name in Eviction object: {target.name} != {name}"
            )
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
        sub_target = Target(rt, target.namespace, target.name, "")
        resp = self._write(req, sub_target, obj, new, {"spec": {"replicas": replicas}})
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

        with self.store.lock:
            if rv_param in ("", "0"):
                start = self.store.resource_version
                initial = [o for o in self.store.iter_live(rt, namespace or None) if visible(o)]
                first = [dumps({"type": "ADDED", "object": o}) + b"\n" for o in initial]
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
