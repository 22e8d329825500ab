"""The one HTTP path of the job: raw bytes in, raw bytes out.

`Transport.request` turns a method, path, query and body into a `Request`, hands it to its `send`
function, and turns any non-2xx `Response` into an `ApiFailure` (`selfheal.kube.errors`). `send` is
the seam, as httpx's transports are: `Transport.over(api_client)` sends through the official client's
connection pool, TLS and credentials; tests hand in a function of their own (`tests/fakes.py`,
`FakeTransport`) and see exactly the requests the job makes.

Why raw bytes over the official client's pool rather than its generated API classes: kubernetes-client
37 builds hundreds of pydantic models on first use (~0.9 s of a 20,000-pod pass, `make bench`), the
snapshot wants the raw bytes anyway (to decode them straight into msgspec Structs), and the generated
methods re-encode bodies with `json.dumps` (and silently turn a JSON patch whose body is not a list
into a strategic merge patch). So the executor sends the planned bytes with the planned Content-Type
itself, with urllib3's own retries off: `selfheal.kube.errors.is_transient` is the one retry policy.
"""

from __future__ import annotations

import http
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import structlog

from selfheal.kube.errors import ApiFailure, is_transient
from selfheal.kube.exchange import Request, Response, Send, send_bounded
from selfheal.kube.retry import call_with_retries

log = structlog.get_logger("selfheal.kube")

# kind -> (API prefix, plural): the objects the job reads and writes
PATHS: dict[str, tuple[str, str]] = {
    "Pod": ("/api/v1", "pods"),
    "ConfigMap": ("/api/v1", "configmaps"),
    "Deployment": ("/apis/apps/v1", "deployments"),
    "ReplicaSet": ("/apis/apps/v1", "replicasets"),
    "HorizontalPodAutoscaler": ("/apis/autoscaling/v2", "horizontalpodautoscalers"),
    "PodDisruptionBudget": ("/apis/policy/v1", "poddisruptionbudgets"),
    "Lease": ("/apis/coordination.k8s.io/v1", "leases"),
    "CronJob": ("/apis/batch/v1", "cronjobs"),
}


def object_path(kind: str, namespace: str, name: str = "", subresource: str = "") -> str:
    prefix, plural = PATHS[kind]
    path = f"{prefix}/namespaces/{namespace}/{plural}"
    if name:
        path += f"/{name}"
    if subresource:
        path += f"/{subresource}"
    return path


DEFAULT_TIMEOUT_SECONDS = 10.0
PASS_DEADLINE = "PassDeadline"  # the ApiFailure reason of a request refused because the pass ran out of time


class Transport:
    """Reads (GET) are retried here, through the one transient predicate (`selfheal.kube.retry`): a blip on
    a list page or the CronJob read is not the end of a pass. Writes are not: the executor and the Lease
    decide what a retried write means (a 409 after a lost answer may be their own write).

    `deadline` (a `time.monotonic()` value) bounds the whole pass: every request gets at most what is
    left of it, none is sent after it (`ApiFailure` with reason `PassDeadline`, never retried), and no
    back-off sleeps past it (`pause`). Every attempt that fails is logged (`request.failed`: method, path,
    status, whether it is transient), so a pass that survived a blip says so."""

    def __init__(
        self,
        send: Send,
        *,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        deadline: float | None = None,
        sleep: Callable[[float], None] | None = None,
        attempts: int = 4,
    ) -> None:
        self.send = send
        self.attempts = attempts
        self.timeout_seconds = timeout_seconds
        self.deadline = deadline
        self.sleep = sleep

    @classmethod
    def over(
        cls,
        api_client: Any,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        deadline: float | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> Transport:
        """Through a `kubernetes.client.ApiClient`: its pool, TLS settings and credentials."""
        return cls(
            _ApiClientSender(api_client), timeout_seconds=timeout_seconds, deadline=deadline, sleep=sleep
        )

    def budget(self) -> float:
        """Seconds the next request may take."""
        if self.deadline is None:
            return self.timeout_seconds
        return min(self.timeout_seconds, self.deadline - time.monotonic())

    def pause(self, seconds: float) -> None:
        """A retry's back-off, cut short at the pass deadline (the next attempt is then refused)."""
        if self.deadline is not None:
            seconds = max(0.0, min(seconds, self.deadline - time.monotonic()))
        (self.sleep or time.sleep)(seconds)

    def request(
        self,
        method: str,
        path: str,
        *,
        query: list[tuple[str, str]] | None = None,
        content_type: str = "",
        body: bytes | None = None,
    ) -> Response:
        req = Request(method, path, tuple(query or ()), content_type, body)
        if method == "GET":
            return call_with_retries(lambda: self._once(req), attempts=self.attempts, sleep=self.pause)
        return self._once(req)

    def _once(self, req: Request) -> Response:
        budget = self.budget()
        if budget <= 0:
            raise ApiFailure(
                None, PASS_DEADLINE, f"{req.method} {req.path}: not sent, the pass deadline has passed"
            )
        try:
            resp = self.send(replace(req, timeout=budget))
            if resp.status >= 400:
                raise _failure(req, resp)
        except ApiFailure as exc:
            transient = is_transient(exc)  # a 404 of the Lease or the CronJob is an answer, not a problem
            (log.warning if transient else log.info)(
                "request.failed",
                method=req.method,
                path=req.path,
                status=exc.status,
                reason=exc.reason,
                error=exc.message[:200],
                transient=transient,
            )
            raise
        return resp

    def get(self, kind: str, namespace: str, name: str) -> dict[str, Any]:
        doc = self.request("GET", object_path(kind, namespace, name)).json()
        if not isinstance(doc, dict):
            raise ApiFailure(200, "BadResponse", f"GET {kind}/{name}: the answer is not a JSON object")
        return doc


def _failure(req: Request, resp: Response) -> ApiFailure:
    """The failure an answer means; one without a `Status` body (a proxy's bare 404) still says what was
    asked and what came back, never just `404 :`."""
    exc = ApiFailure.from_answer(resp.status, resp.body, resp.headers)
    if not exc.reason:
        try:
            exc.reason = http.HTTPStatus(resp.status).phrase.replace(" ", "")
        except ValueError:
            exc.reason = f"HTTP{resp.status}"
    if not exc.message:
        exc.message = f"{req.method} {req.path}: the server answered {resp.status} with an empty body"
    return exc


class _ApiClientSender:
    """`Send` over the official client's urllib3 pool (no urllib3 retries: ours is the one policy)."""

    def __init__(self, api_client: Any) -> None:
        self.api = api_client

    def __call__(self, req: Request) -> Response:
        headers = {"Accept": "application/json"}
        if req.content_type:
            headers["Content-Type"] = req.content_type
        method, url, headers, _, _ = self.api.param_serialize(
            req.method,
            req.path,
            query_params=list(req.query),
            header_params=headers,
            auth_settings=["BearerToken"],
        )
        return send_bounded(self.api.rest_client.pool_manager, req, url, headers, method)
