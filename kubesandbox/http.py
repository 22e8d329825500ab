"""Plain-HTTP transport for the API server (HTTP/1.1, keep-alive, chunked request bodies and watch streams)."""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from kubesandbox.apiserver.server import ApiServer, Request, Response, error_response

_LINE = 65537  # the longest chunk-size or trailer line read


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the ApiServer keeps a request log
        return

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; without TCP_NODELAY, Nagle's algorithm holds the
        # body back until the client's delayed ACK (~40 ms a request), as a Go server never would.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _serve(self) -> None:
        api = self.server.api
        parts = urlsplit(self.path)
        try:
            body = self._body()
        except ValueError:  # a chunk size that is not hex, a body cut short: the connection is unusable
            self.close_connection = True
            self._send(Response(400, b"malformed chunked encoding", "text/plain; charset=utf-8"))
            return
        fault = api.faults.take(self.command, parts.path)
        if fault is not None:
            if fault.delay:
                time.sleep(fault.delay)
            if fault.drop:
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)
                return
            err = fault.error()
            if err is not None:
                self._send(error_response(err))
                return
        req = Request(
            self.command,
            parts.path,
            dict(parse_qsl(parts.query, keep_blank_values=True)),
            {k.lower(): v for k, v in self.headers.items()},
            body,
            secure=self.server.secure,
        )
        self._send(api.handle(req))

    def _body(self) -> bytes:
        """The request body: `Content-Length` bytes, or the chunks of a `Transfer-Encoding: chunked` body
        (Go's client sends a body it cannot size that way: `kubectl create --raw -f FILE`)."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline(_LINE).split(b";", 1)[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline(_LINE) not in (b"\r\n", b"\n", b""):
                        pass  # trailer fields: none the API server reads
                    return b"".join(chunks)
                chunk = self.rfile.read(size)
                if len(chunk) != size or self.rfile.readline(_LINE) not in (b"\r\n", b"\n"):
                    raise ValueError("truncated chunk")
                chunks.append(chunk)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, resp: Response) -> None:
        self.send_response(resp.status)
        self.send_header("Content-Type", resp.content_type)
        self.send_header("Cache-Control", "no-cache, private")
        for k, v in resp.headers.items():
            self.send_header(k, v)
        if resp.stream is None:
            self.send_header("Content-Length", str(len(resp.body)))
            self.end_headers()
            try:
                self.wfile.write(resp.body)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
                self.close_connection = True
            return
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            for chunk in resp.stream:
                if chunk:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], api: ApiServer, tls: ssl.SSLContext | None) -> None:
        self.api = api
        self.secure = tls is not None
        super().__init__(address, _Handler)
        if tls is not None:
            self.socket = tls.wrap_socket(self.socket, server_side=True)


class HttpServer:
    """Serves `api` on 127.0.0.1:port (0 = any free port) in a background thread."""

    def __init__(self, api: ApiServer, port: int = 0, tls: ssl.SSLContext | None = None) -> None:
        self._server = _Server(("127.0.0.1", port), api, tls)
        self.port = self._server.server_address[1]
        self.scheme = "https" if tls is not None else "http"
        if tls is None:
            api.server_address = f"127.0.0.1:{self.port}"
        self._api = api
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, name="sandbox-http", daemon=True
        )

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._thread.start()
        self._started = True

    _started = False

    def stop(self) -> None:
        self._api.stopping = True
        with self._api.store.lock:
            self._api.store.changed.notify_all()
        if self._started:  # shutdown() waits for serve_forever, which never ran otherwise
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()
