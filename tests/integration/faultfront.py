"""A faulty front for every HTTP server the job talks to: the API server (proxied to the sandbox), Prometheus
and the Pushgateway (answered by a function). It keeps a log of every request that reached it, the faulted
ones included, and plays these faults on the next request(s) it is armed for:

| fault        | what the client sees                                  | does the request take effect? |
| ------------ | ----------------------------------------------------- | ----------------------------- |
| `500`, `503` | that status, a `Status` body                          | no                            |
| `429`        | 429 with `Retry-After: 1`                             | no                            |
| `409`        | 409 Conflict                                          | no                            |
| `410`        | 410 Expired (meant for a list's continue token)       | no                            |
| `delay`      | the answer held 2.5 s, past the client's timeout      | yes (forwarded at once)       |
| `trickle`    | the answer's body a byte at a time, cut off after 4 s  | yes                           |
| `drop`       | the connection closed, no answer                      | yes (forwarded first)         |

The three "no answer" faults forward the request first, so a write has happened when the client gives up:
the lost-answer case a retry must not turn into a second action.

    front = FaultFront(upstream=sb.url)          # or FaultFront(app=handler)
    front.arm(Fault("503"))                      # the next request gets it
    front.arm_rule("GET", r"/api/v1/query", Fault("delay"), times=10**6)   # matching requests get it
    front.log                                    # every request, with what it was answered
"""

from __future__ import annotations

import contextlib
import http.client
import json
import re
import select
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

STATUS_FAULTS = {
    "500": (500, "InternalError"),
    "503": (503, "ServiceUnavailable"),
    "429": (429, "TooManyRequests"),
    "409": (409, "Conflict"),
    "410": (410, "Expired"),
}
LOST_ANSWER_FAULTS = ("delay", "trickle", "drop")
FAULTS = (*STATUS_FAULTS, *LOST_ANSWER_FAULTS)
TRANSIENT = ("500", "503", "429", "delay", "trickle", "drop")
TRICKLE_SECONDS = 4.0  # ten times the matrix's request budget: a client that waits for it is not bounded


@dataclass(frozen=True)
class Fault:
    kind: str
    hold: float = 2.5  # delay: seconds the answer is held (far past the matrix's 0.4 s request budget)
    retry_after: int = 1

    def __post_init__(self) -> None:
        if self.kind not in FAULTS:
            raise ValueError(f"unknown fault {self.kind}")


@dataclass
class Logged:
    method: str
    path: str
    query: str
    body: bytes
    status: int | None  # None: no answer (dropped, held or trickled)
    fault: str = ""
    upstream_status: int | None = None  # what the upstream answered when the request was forwarded
    waited: float | None = (
        None  # delay/trickle: seconds the client waited before it hung up (None: it never did)
    )


@dataclass
class _Rule:
    method: str
    pattern: re.Pattern[str]
    fault: Fault
    times: int
    hits: int = 0


App = Callable[[str, str, str, bytes], tuple[int, dict[str, str], bytes]]


class FaultFront:
    def __init__(self, *, upstream: str | None = None, app: App | None = None) -> None:
        assert (upstream is None) != (app is None)
        self.upstream = urlsplit(upstream) if upstream else None
        self.app = app
        self.log: list[Logged] = []
        self._armed: list[Fault] = []
        self._rules: list[_Rule] = []
        self._lock = threading.Lock()
        front = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def setup(self) -> None:
                super().setup()
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no 40 ms Nagle stalls

            def _serve(self) -> None:
                front._handle(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FaultFront:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- arming -------------------------------------------------------------------------------------
    def arm(self, fault: Fault) -> None:
        """The next request to arrive gets `fault` (the job is one thread: its next request)."""
        with self._lock:
            self._armed.append(fault)

    def arm_rule(self, method: str, path_regex: str, fault: Fault, times: int = 1) -> None:
        with self._lock:
            self._rules.append(_Rule(method, re.compile(path_regex), fault, times))

    def disarm(self) -> None:
        with self._lock:
            self._armed.clear()
            self._rules.clear()

    def _take(self, method: str, path: str) -> Fault | None:
        with self._lock:
            if self._armed:
                return self._armed.pop(0)
            for rule in self._rules:
                if rule.hits < rule.times and rule.method in ("*", method) and rule.pattern.search(path):
                    rule.hits += 1
                    return rule.fault
        return None

    # -- serving ------------------------------------------------------------------------------------
    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        entry = Logged(h.command, parts.path, parts.query, body, None)
        with self._lock:
            self.log.append(entry)
        fault = self._take(h.command, parts.path)
        entry.fault = fault.kind if fault else ""
        if fault is not None and fault.kind in STATUS_FAULTS:
            code, reason = STATUS_FAULTS[fault.kind]
            headers = {"Retry-After": str(fault.retry_after)} if code == 429 else {}
            doc = {
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Failure",
                "reason": reason,
                "message": f"fault injected: {reason}",
                "code": code,
            }
            entry.status = code
            self._answer(h, code, {"Content-Type": "application/json", **headers}, json.dumps(doc).encode())
            return
        status, headers, answer = self._forward(h, parts, body)
        entry.upstream_status = status
        if fault is None:
            entry.status = status
            self._answer(h, status, headers, answer)
        elif fault.kind == "drop":
            h.close_connection = True
            with contextlib.suppress(OSError):
                h.connection.shutdown(socket.SHUT_RDWR)
        elif fault.kind == "delay":
            h.close_connection = True
            began = time.monotonic()
            while time.monotonic() - began < fault.hold:
                if _hung_up(h.connection):
                    entry.waited = time.monotonic() - began
                    return
                time.sleep(0.02)
            with contextlib.suppress(OSError):
                self._answer(h, status, headers, answer)
        else:  # trickle: the head at once, then a byte every 50 ms until the client gives up (or 4 s pass)
            h.close_connection = True
            began = time.monotonic()
            try:
                self._answer(h, status, {**headers, "Content-Length": str(len(answer) + 4096)}, b"")
                while time.monotonic() - began < TRICKLE_SECONDS:
                    if _hung_up(h.connection):
                        break
                    h.wfile.write(b" ")
                    h.wfile.flush()
                    time.sleep(0.05)
                else:
                    return
            except OSError:
                pass
            entry.waited = time.monotonic() - began

    def _forward(
        self, h: BaseHTTPRequestHandler, parts: Any, body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        query = f"?{parts.query}" if parts.query else ""
        if self.app is not None:
            return self.app(h.command, parts.path, parts.query, body)
        assert self.upstream is not None
        conn = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=30)
        try:
            headers = {k: v for k, v in h.headers.items() if k.lower() not in ("host", "connection")}
            conn.request(h.command, parts.path + query, body=body or None, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            kept = {
                k: v
                for k, v in resp.getheaders()
                if k.lower() not in ("content-length", "transfer-encoding", "connection")
            }
            return resp.status, kept, data
        finally:
            conn.close()

    @staticmethod
    def _answer(h: BaseHTTPRequestHandler, status: int, headers: dict[str, str], body: bytes) -> None:
        h.send_response(status)
        for k, v in headers.items():
            if k.lower() != "content-length":
                h.send_header(k, v)
        h.send_header("Content-Length", headers.get("Content-Length", str(len(body))))
        h.end_headers()
        if body:
            h.wfile.write(body)
        h.wfile.flush()


def _hung_up(conn: socket.socket) -> bool:
    """The client closed its end (it gave up waiting)."""
    readable, _, _ = select.select([conn], [], [], 0)
    if not readable:
        return False
    try:
        return conn.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


# --- Prometheus and the Pushgateway, as far as the job uses them ---------------------------------------


@dataclass
class FakePrometheus:
    """Answers instant queries of `http_requests_total` for a Deployment in `counts` (requests, 5xx errors);
    every other query, instant or range, has no data."""

    counts: dict[str, tuple[float, float]] = field(default_factory=dict)

    def __call__(self, method: str, path: str, query: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        from urllib.parse import parse_qs

        if not path.startswith("/api/v1/query"):
            return 404, {"Content-Type": "text/plain"}, b"404 page not found\n"
        params = {k: v[-1] for k, v in {**parse_qs(query), **parse_qs(body.decode() or "")}.items()}
        promql = params.get("query", "")
        at = float(params.get("time") or time.time())
        result: list[Any] = []
        if path == "/api/v1/query" and "http_requests_total" in promql:
            for name, (requests, errors) in self.counts.items():
                if f'deployment="{name}"' in promql:
                    value = errors if "5.." in promql else requests
                    result = [{"metric": {}, "value": [at, str(value)]}]
        kind = "matrix" if path.endswith("query_range") else "vector"
        doc = {"status": "success", "data": {"resultType": kind, "result": result}}
        return 200, {"Content-Type": "application/json"}, json.dumps(doc).encode()


def fake_pushgateway(method: str, path: str, query: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
    if method in ("POST", "PUT") and path.startswith("/metrics/job/"):
        return 200, {"Content-Type": "text/plain"}, b""
    return 405, {"Content-Type": "text/plain"}, b"method not allowed\n"
