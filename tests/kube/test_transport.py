"""The one HTTP path: a trickling server cannot hold a request past its budget, the pass deadline refuses
to send, and reads (only reads) are retried through the one predicate."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
from kubernetes import client as k8s

from selfheal.kube.errors import ApiFailure
from selfheal.kube.exchange import Request, Response
from selfheal.kube.transport import PASS_DEADLINE, Transport
from tests.fakes import FakeTransport, ok, sequence, status


@pytest.fixture
def trickling_server() -> Iterator[str]:
    """Answers 200 with a 200-byte body, one byte every 0.2 s."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    stop = threading.Event()

    def serve() -> None:
        conn, _ = srv.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n")
            for _ in range(200):
                if stop.is_set():
                    return
                try:
                    conn.sendall(b" ")
                except OSError:
                    return
                time.sleep(0.2)

    threading.Thread(target=serve, daemon=True).start()
    yield f"http://127.0.0.1:{srv.getsockname()[1]}"
    stop.set()
    srv.close()


def test_a_server_trickling_its_answer_is_cut_off_at_the_request_budget(trickling_server):
    config = k8s.Configuration()
    config.host = trickling_server
    transport = Transport.over(k8s.ApiClient(config), timeout_seconds=1.0)

    started = time.monotonic()
    with pytest.raises(ApiFailure) as err:
        transport.request("POST", "/api/v1/namespaces/shop/pods")  # a write: no retry, one budget

    assert err.value.status is None and err.value.reason == "Timeout"
    assert time.monotonic() - started < 5  # not the 40 s the trickle would take


def test_no_request_is_sent_once_the_pass_deadline_has_passed():
    api = FakeTransport(lambda _r: ok({}))
    api.deadline = time.monotonic() - 0.1

    with pytest.raises(ApiFailure) as err:
        api.request("GET", "/api/v1/namespaces/shop/pods")

    assert err.value.reason == PASS_DEADLINE and api.requests == []


def test_each_request_gets_at_most_what_is_left_of_the_pass():
    api = FakeTransport(lambda _r: ok({}))
    api.deadline = time.monotonic() + 2.5

    api.request("GET", "/x")

    assert 2 < api.requests[0].timeout <= 2.5


@pytest.mark.parametrize(
    "blip",
    [status(503), status(429, retry_after=0), ApiFailure(None, "ProtocolError", "reset")],
    ids=["503", "429", "dropped"],
)
def test_a_read_is_retried_through_the_one_predicate(blip):
    api = FakeTransport(sequence(blip, blip, ok({"items": []})))
    api.sleep = lambda _s: None

    assert api.request("GET", "/api/v1/namespaces/shop/pods").json() == {"items": []}
    assert len(api.requests) == 3


@pytest.mark.parametrize("method", ["PATCH", "POST", "PUT"])
def test_a_write_is_never_retried_by_the_transport(method):
    api = FakeTransport(sequence(status(503), ok({})))

    with pytest.raises(ApiFailure):
        api.request(method, "/apis/apps/v1/namespaces/shop/deployments/web")
    assert len(api.requests) == 1


def test_a_permanent_failure_on_a_read_is_not_retried():
    api = FakeTransport(sequence(status(403, "Forbidden"), ok({})))

    with pytest.raises(ApiFailure) as err:
        api.request("GET", "/x")
    assert err.value.status == 403 and len(api.requests) == 1


def test_a_request_carries_its_budget_to_the_sender():
    seen: list[Request] = []

    def send(req: Request) -> Response:
        seen.append(req)
        return ok({})

    Transport(send, timeout_seconds=3).request("GET", "/x")
    assert seen[0].timeout == 3
