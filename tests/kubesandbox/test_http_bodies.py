"""Request bodies the sandbox's HTTP server reads: `Content-Length` ones and `Transfer-Encoding: chunked` ones
(Go's client sends a body it cannot size beforehand chunked: `kubectl create --raw -f FILE`)."""

from __future__ import annotations

import json
import socket
from urllib.parse import urlsplit

import pytest

from kubesandbox.resources import BY_PLURAL
from tests.kubesandbox.worlds import running

NS = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}


@pytest.fixture(scope="module")
def sb():
    with running(NS) as sandbox:
        yield sandbox


def _raw(url: str, request: bytes) -> bytes:
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as s:
        s.sendall(request)
        out = b""
        while chunk := s.recv(65536):
            out += chunk
    return out


def _chunked(path: str, body: bytes, sizes: list[int], extra: bytes = b"") -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: sandbox\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    ).encode()
    chunks, at = b"", 0
    for n in sizes:
        chunks += b"%x;ext=1\r\n%s\r\n" % (n, body[at : at + n])
        at += n
    return head + chunks + b"0\r\n" + extra + b"\r\n"


def test_a_chunked_body_is_read_whole_with_chunk_extensions_and_trailers(sb):
    body = json.dumps(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "chunked"}, "data": {"k": "v" * 100}}
    ).encode()
    answer = _raw(
        sb.url,
        _chunked(
            "/api/v1/namespaces/shop/configmaps", body, [7, 50, len(body) - 57], extra=b"X-Trailer: 1\r\n"
        ),
    )
    assert answer.startswith(b"HTTP/1.1 201"), answer[:200]
    assert sb.store.peek(BY_PLURAL[("", "configmaps")], "shop", "chunked")["data"] == {"k": "v" * 100}


def test_a_malformed_chunk_size_is_a_400_not_a_hang(sb):
    head = (
        b"POST /api/v1/namespaces/shop/configmaps HTTP/1.1\r\nHost: sandbox\r\n"
        b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"
    )
    assert _raw(sb.url, head).startswith(b"HTTP/1.1 400")


def test_kubectl_create_raw_from_a_file_sends_it_chunked(sb, tmp_path):
    doc = tmp_path / "cm.json"
    doc.write_text(
        json.dumps(
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "raw"}, "data": {"flag": "on"}}
        )
    )
    res = sb.kubectl("create", "--raw", "/api/v1/namespaces/shop/configmaps", "-f", str(doc))
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["metadata"]["name"] == "raw"
    got = sb.kubectl("get", "configmap", "raw", "-n", "shop", "-o", "jsonpath={.data.flag}")
    assert got.returncode == 0 and got.stdout == "on", got.stderr
