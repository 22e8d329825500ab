"""One bounded HTTP exchange: a `Request` in, a `Response` out, the whole answer within the request's
wall-clock timeout. The API server (`selfheal.kube.transport`), Prometheus (`selfheal.signals`) and the
Pushgateway (`selfheal.reporting.metrics`) are all spoken to through `send_bounded`, so none of them can
hold a pass by trickling its answer: urllib3's read timeout bounds each socket read, not the answer.
"""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import urllib3

from selfheal.kube.errors import ApiFailure

CHUNK = 256 * 1024  # bytes per socket read of an answer


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: tuple[tuple[str, str], ...] = ()
    content_type: str = ""
    body: bytes | None = None
    timeout: float = 10.0  # wall seconds for the whole exchange


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


Send = Callable[[Request], Response]
"""Sends one request and returns the answer, whatever its status; raises `ApiFailure` with status None
when no answer came (timeout, refused or broken connection). `Request.timeout` bounds it in wall time,
the whole answer included (a server trickling its body one byte at a time is cut off)."""


class UrlSender:
    """`Send` to a plain HTTP(S) base URL (Prometheus' API): the same bounded exchange as the API server's,
    over a pool of its own."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.pool = urllib3.PoolManager(retries=False)

    def __call__(self, req: Request) -> Response:
        url = self.base_url + req.path
        if req.query:
            url += "?" + urllib.parse.urlencode(req.query)
        headers = {"Accept": "application/json"}
        if req.content_type:
            headers["Content-Type"] = req.content_type
        return send_bounded(self.pool, req, url, headers)


def send_bounded(
    pool: urllib3.PoolManager, req: Request, url: str, headers: Mapping[str, str], method: str = ""
) -> Response:
    """One exchange over `pool`, the whole answer within `req.timeout` wall seconds.

    urllib3's read timeout bounds each socket read, not the answer: the body is read one socket read at a
    time against a wall-clock deadline, so a server that trickles bytes cannot hold the pass."""
    deadline = time.monotonic() + req.timeout
    try:
        resp = pool.request(
            method or req.method,
            url,
            body=req.body,
            headers=dict(headers),
            retries=False,
            preload_content=False,
            timeout=urllib3.Timeout(connect=min(req.timeout, 5.0), read=req.timeout),
        )
        try:
            chunks = []
            while chunk := resp.read1(CHUNK, decode_content=True):
                chunks.append(chunk)
                if time.monotonic() > deadline:
                    resp.close()  # never hand a half-read connection back to the pool
                    raise ApiFailure(
                        None,
                        "Timeout",
                        f"{req.method} {req.path}: no complete answer within {req.timeout:g}s",
                    )
        finally:
            resp.release_conn()
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise ApiFailure(None, type(exc).__name__, " ".join(str(exc).split())[:300]) from None
    return Response(resp.status, b"".join(chunks), resp.headers)
