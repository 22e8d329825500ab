"""Raw bytes over the official client's connection pool, TLS and credentials: the one HTTP path of the job.

Reads use it because the generated API classes are expensive to even import (kubernetes-client 37
builds hundreds of pydantic models on first use: ~0.9 s of a 20,000-pod pass, `make bench`) and the
snapshot wants the raw bytes anyway, to decode them straight into msgspec Structs.

The generated API methods re-encode bodies with `json.dumps` (and kubernetes-client 37 silently
turns a JSON patch whose body is not a list into a strategic merge patch), so the executor does
not use them for writes: it takes the URL and auth headers from `ApiClient.param_serialize` and
sends the planned bytes with the planned Content-Type itself, with urllib3's own retries off so
`selfheal.execution.retry` is the one retry policy.

`ApiFailure` carries the status, reason and message of the `Status` the server answered (None when no
answer came: timeouts, refused or broken connections).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import urllib3

# kind -> (API prefix, plural): the objects the executor and the Lease lock write
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


class ApiFailure(Exception):
    """An answer other than 2xx, or no answer. `status` is None for timeouts and broken connections."""

    def __init__(self, status: int | None, reason: str, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message
        self.retry_after = retry_after

    def __str__(self) -> str:
        code = self.status if self.status is not None else "no answer"
        return f"{code} {self.reason}: {self.message}".strip()


def object_path(kind: str, namespace: str, name: str = "", subresource: str = "") -> str:
    prefix, plural = PATHS[kind]
    path = f"{prefix}/namespaces/{namespace}/{plural}"
    if name:
        path += f"/{name}"
    if subresource:
        path += f"/{subresource}"
    return path


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def _failure(status: int, body: bytes, headers: Any) -> ApiFailure:
    reason, message = "", body[:300].decode(errors="replace")
    try:
        doc = json.loads(body)
        if isinstance(doc, dict):
            reason, message = str(doc.get("reason", "")), str(doc.get("message", message))
    except ValueError:
        pass
    retry_after: float | None = None
    raw = headers.get("Retry-After") if headers is not None else None
    if raw:
        try:
            retry_after = float(raw)
        except ValueError:
            retry_after = None
    return ApiFailure(status, reason, " ".join(message.split()), retry_after)


class Transport:
    def __init__(self, api_client: Any, timeout_seconds: float = 10.0) -> None:
        self.api = api_client
        self.timeout = urllib3.Timeout(total=timeout_seconds)

    def request(self, method: str, path: str, *, query: list[tuple[str, str]] | None = None,
                content_type: str = "", body: bytes | None = None) -> Response:
        headers = {"Accept": "application/json"}
        if content_type:
            headers["Content-Type"] = content_type
        method, url, headers, _, _ = self.api.param_serialize(
            method, path, query_params=query or [], header_params=headers, auth_settings=["BearerToken"])
        try:
            resp = self.api.rest_client.pool_manager.request(
                method, url, body=body, headers=headers, timeout=self.timeout, retries=False, preload_content=True)
        except (urllib3.exceptions.TimeoutError, urllib3.exceptions.ProtocolError,
                urllib3.exceptions.NewConnectionError, urllib3.exceptions.SSLError, OSError) as exc:
            raise ApiFailure(None, type(exc).__name__, " ".join(str(exc).split())[:300]) from None
        if resp.status >= 400:
            raise _failure(resp.status, resp.data, resp.headers)
        return Response(resp.status, resp.data)

    def get(self, kind: str, namespace: str, name: str) -> dict[str, Any]:
        doc = self.request("GET", object_path(kind, namespace, name)).json()
        if not isinstance(doc, dict):
            raise ApiFailure(200, "BadResponse", f"GET {kind}/{name}: the answer is not a JSON object")
        return doc
