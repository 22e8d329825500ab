"""The one fake seam of the job's tests: `FakeTransport(handler)`, the job's own `Transport` with its
`send` answered by a function (in the spirit of httpx's `MockTransport`).

    def handler(req: Request) -> Response:
        if req.method == "GET" and req.path.endswith("/deployments/web"):
            return ok(deployment_json)
        return status(404, "NotFound")

    transport = FakeTransport(handler)
    ...                                  # hand it to the executor, the Lease, the reader, the pass
    transport.requests                   # every request the job made, in order

Everything above `send` is the real code: the URL paths, the query, the exact bodies, the mapping of
answers to `ApiFailure`. A handler raises `ApiFailure(None, ...)` to play a request that got no answer
(a timeout, a dropped connection). Tests that need a whole API server use the sandbox instead.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from selfheal.kube.exchange import Request, Response
from selfheal.kube.transport import Transport

Handler = Callable[[Request], Response]


def ok(doc: Any, code: int = 200) -> Response:
    return Response(code, json.dumps(doc).encode(), {"Content-Type": "application/json"})


def status(code: int, reason: str = "", message: str = "", retry_after: float | None = None) -> Response:
    """A `Status` answer, as the API server sends for every failure."""
    headers = {"Content-Type": "application/json"}
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    body = {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "reason": reason,
        "message": message or reason,
        "code": code,
    }
    return Response(code, json.dumps(body).encode(), headers)


class FakeTransport(Transport):
    def __init__(self, handler: Handler) -> None:
        super().__init__(self._send)
        self.handler = handler
        self.requests: list[Request] = []

    def _send(self, req: Request) -> Response:
        self.requests.append(req)
        return self.handler(req)

    def sent(self, method: str | None = None) -> list[Request]:
        return [r for r in self.requests if method is None or r.method == method]


def query_of(req: Request) -> dict[str, str]:
    return dict(req.query)


def sequence(*answers: Response | Exception) -> Handler:
    """A handler answering each request with the next answer (an exception is raised); the last repeats."""
    queue = list(answers)

    def handler(_req: Request) -> Response:
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    return handler


class Lists:
    """A handler serving namespaced lists page by page (`limit`/`continue`), and named objects by path.

    `expire_once` names resources whose first continue token is answered 410 Expired, as after an etcd
    compaction; anything else is 404.
    """

    def __init__(
        self,
        items: Mapping[str, list[dict[str, Any]]],
        named: Mapping[str, Any] | None = None,
        expire_once: Iterable[str] = (),
    ) -> None:
        self.items = dict(items)
        self.named = dict(named or {})
        self.expire_once = set(expire_once)

    def __call__(self, req: Request) -> Response:
        path, _, raw_query = req.path.partition("?")
        query = dict(req.query) | dict(parse_qsl(raw_query))
        if path in self.named:
            return ok(self.named[path])
        resource = path.rstrip("/").split("/")[-1]
        if resource not in self.items:
            return status(404, "NotFound", f"{resource} not found")
        token = query.get("continue", "")
        if token and resource in self.expire_once:
            self.expire_once.discard(resource)
            return status(410, "Expired", "The provided continue parameter is too old")
        start = int(token or 0)
        limit = int(query.get("limit", "500"))
        chunk = self.items[resource][start : start + limit]
        more = start + limit < len(self.items[resource])
        return ok(
            {"kind": "List", "metadata": {"continue": str(start + limit) if more else ""}, "items": chunk}
        )
