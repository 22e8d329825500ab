"""Prometheus signals: request and error counts per canary and stable (the canaries' error ratios derived
from them), unknown without traffic, degraded (never fatal) on failure.

These use a small Prometheus-shaped HTTP server to play answers a real one gives rarely (NaN, 500);
tests/integration/test_canary_prometheus.py asks a real Prometheus."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import msgspec

from selfheal.signals import read_canary_signals
from selfheal.view import Counts, SourceState


class FakePrometheus:
    def __init__(self, results: dict[str, Any], status: int = 200):
        self.results, self.status, self.queries = results, status, []
        prom = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                query = parse_qs(urlparse(self.path).query)["query"][0]
                prom.queries.append(query)
                name = next((n for n in prom.results if f'deployment="{n}"' in query), None)
                answers = prom.results.get(name) if name else None  # (requests, 5xx errors)
                value = None if answers is None else answers['code=~"5.."' in query]
                result = [] if value is None else [{"metric": {}, "value": [1714564800, value]}]
                data = msgspec.json.encode(
                    {"status": "success", "data": {"resultType": "vector", "result": result}}
                )
                self.send_response(prom.status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_canary_counts_come_from_prometheus_with_no_traffic_as_unknown():
    prom = FakePrometheus(
        {"web-canary": ("2000", "140"), "web": ("20000", None), "api-canary": ("NaN", "NaN")}
    )
    try:
        signals = read_canary_signals(
            prom.url, [("web", "web-canary"), ("api", "api-canary"), ("idle", "idle-canary")]
        )
    finally:
        prom.close()

    assert signals.state == SourceState.AVAILABLE
    assert signals.error_rates == {"api-canary": None, "idle-canary": None, "web-canary": 0.07}
    assert signals.counts["web-canary"] == Counts(2000.0, 140.0)
    assert signals.counts["web"] == Counts(20000.0, 0.0)  # no 5xx series at all: 0 errors
    assert signals.counts["api-canary"] is None and signals.counts["idle"] is None
    assert 'sum(increase(http_requests_total{deployment="web-canary",code=~"5.."}[30m]))' in prom.queries
    assert 'sum(increase(http_requests_total{deployment="web"}[30m]))' in prom.queries


def test_no_prometheus_url_means_unavailable_and_a_failing_one_means_error():
    assert read_canary_signals(None, [("web", "web-canary")]).state == SourceState.UNAVAILABLE
    prom = FakePrometheus({}, status=500)
    try:
        signals = read_canary_signals(prom.url, [("web", "web-canary")], timeout_seconds=2)
    finally:
        prom.close()
    assert signals.state == SourceState.ERROR and "500" in signals.detail and signals.error_rates == {}
