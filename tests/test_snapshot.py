"""Reading a namespace: paginated lists through the official client's raw bytes, decoded into Structs."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import msgspec
import pytest
from kubernetes import client as k8s

from selfheal.snapshot import SnapshotError, SourceState, decode_page, read_canary_signals, read_snapshot
from selfheal.transport import ApiFailure
from tests.builders import make_deployment, make_pod, make_replicaset, snapshot_of

TEMPLATE = {"metadata": {"labels": {"app": "web"}, "creationTimestamp": None},
            "spec": {"containers": [{"name": "web", "image": "web:1", "imagePullPolicy": "IfNotPresent",
                                     "livenessProbe": {"httpGet": {"path": "/", "port": 80}}}],
                     "restartPolicy": "Always"}}


def pod_json(name: str, restarts: int = 0) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": "shop", "uid": f"uid-{name}", "resourceVersion": "7",
                         "creationTimestamp": "2024-05-01T10:00:00Z", "managedFields": [{"manager": "kubelet"}]},
            "spec": {"containers": [{"name": "web", "image": "web:1"}], "nodeName": "node-1"},
            "status": {"phase": "Running", "containerStatuses": [
                {"name": "web", "restartCount": restarts, "ready": True, "image": "web:1",
                 "state": {"running": {"startedAt": "2024-05-01T10:00:01Z"}}, "containerID": "containerd://x"}]}}


# --- decode_page -----------------------------------------------------------------------------------------------


def test_unknown_fields_are_ignored_and_absent_ones_take_the_apis_zero_values():
    page = decode_page("pods", json.dumps({"kind": "PodList", "metadata": {"continue": "abc"},
                                           "items": [pod_json("web-1", 4), {"metadata": {"name": "bare"}}]}).encode())

    first, second = page.items
    assert page.continue_token == "abc"
    assert first.status.container_statuses[0].restart_count == 4
    assert second.status.container_statuses == () and second.metadata.owner_references == ()


def test_deployments_keep_their_full_template_next_to_the_typed_view():
    dep = {"metadata": {"name": "web"}, "spec": {"replicas": 2, "template": TEMPLATE}}

    [decoded] = decode_page("deployments", json.dumps({"items": [dep]}).encode()).items

    assert decoded.template_doc() == TEMPLATE
    assert decoded.spec.template.spec.containers[0].liveness_probe is not None
    assert decoded.spec.template.spec.containers[0].readiness_probe is None


@pytest.mark.parametrize(("kind", "body", "message"), [
    ("pods", {"items": [pod_json("a"), {**pod_json("web-7d9f"), "status": {"containerStatuses": [
        {"name": "web", "restartCount": "many"}]}}]},
     "pods page 2: item 1 (web-7d9f): status.containerStatuses[0].restartCount: Expected int, got str"),
    ("deployments", {"items": [{"metadata": {"name": "web"}, "spec": {"replicas": None}}]},
     "deployments page 2: item 0 (web): spec.replicas: Expected int, got null"),
    ("pods", {"items": [{"metadata": {"name": "p", "creationTimestamp": "2024-05-01T10:00:00"}}]},
     "pods page 2: item 0 (p): metadata.creationTimestamp: Expected datetime with a timezone component"),
    ("configmaps", {"items": {"not": "a list"}}, "configmaps page 2: items: Expected array, got object"),
])
def test_a_malformed_answer_is_one_line_naming_the_resource_object_and_field(kind, body, message):
    with pytest.raises(SnapshotError) as err:
        decode_page(kind, json.dumps(body).encode(), where=" page 2")

    assert str(err.value) == message


def test_a_non_json_answer_is_a_snapshot_error():
    with pytest.raises(SnapshotError, match=r"^pods: the answer is not valid JSON"):
        decode_page("pods", b"<html>502 Bad Gateway</html>")


# --- the snapshot's indexes ----------------------------------------------------------------------------------


def test_pods_are_tied_to_their_deployment_through_the_replicaset_uid():
    dep = make_deployment("web")
    rs = make_replicaset(dep, revision=1)
    other = make_deployment("api")
    pod = make_pod("web-1", owner=rs)
    stray = make_pod("stray", owner=("ReplicaSet", "web-gone"))  # its ReplicaSet is not in the namespace

    snap = snapshot_of(dep, other, rs, pod, stray)

    assert snap.replicasets_of(dep) == (rs,) and snap.replicasets_of(other) == ()
    assert snap.pods_of(dep) == (pod,)
    assert str(snap.workload_of(pod)) == "Deployment/web"
    assert str(snap.workload_of(stray)) == "ReplicaSet/web-gone"
    assert str(snap.workload_of(make_pod("bare"))) == "Pod/bare"


# --- read_snapshot against a real HTTP server ------------------------------------------------------------------


class FakeAPI:
    """Just enough of an API server: namespaced lists with limit/continue, two named objects."""

    def __init__(self, items: dict[str, list[dict[str, Any]]], named: dict[str, dict[str, Any]] | None = None):
        self.items = items
        self.named = named or {}
        self.requests: list[str] = []
        self.expire_once: set[str] = set()
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                api.requests.append(self.path)
                status, body = api.answer(self.path)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def answer(self, path: str) -> tuple[int, Any]:
        url = urlparse(path)
        query = parse_qs(url.query)
        resource = url.path.rstrip("/").split("/")[-1]
        if url.path in self.named:
            return 200, self.named[url.path]
        if resource not in self.items:
            return 404, {"kind": "Status", "status": "Failure", "reason": "NotFound", "code": 404}
        token = query.get("continue", [""])[0]
        if token and resource in self.expire_once:
            self.expire_once.discard(resource)
            return 410, {"kind": "Status", "status": "Failure", "reason": "Expired", "code": 410}
        start = int(token or 0)
        limit = int(query.get("limit", ["500"])[0])
        chunk = self.items[resource][start:start + limit]
        more = start + limit < len(self.items[resource])
        return 200, {"kind": "List", "metadata": {"continue": str(start + limit) if more else ""}, "items": chunk}

    def __enter__(self) -> k8s.ApiClient:
        self.thread.start()
        config = k8s.Configuration()
        config.host = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.client = k8s.ApiClient(config)
        return self.client

    def __exit__(self, *exc: object) -> None:
        self.client.close()
        self.server.shutdown()
        self.server.server_close()


def all_lists(pods: int = 5) -> dict[str, list[dict[str, Any]]]:
    return {
        "pods": [pod_json(f"web-{i}", i) for i in range(pods)],
        "deployments": [{"metadata": {"name": "web", "uid": "d1"}, "spec": {"replicas": 2, "template": TEMPLATE}}],
        "replicasets": [],
        "horizontalpodautoscalers": [{"metadata": {"name": "web"}, "spec": {
            "scaleTargetRef": {"kind": "Deployment", "name": "web"}, "minReplicas": 2, "maxReplicas": 5}}],
        "poddisruptionbudgets": [],
        "configmaps": [{"metadata": {"name": "web-config"}, "data": {"A": "1"}}],
    }


@pytest.fixture
def fake_api() -> Iterator[FakeAPI]:
    yield FakeAPI(all_lists(), {
        "/apis/batch/v1/namespaces/shop/cronjobs/self-heal-cpt": {
            "metadata": {"name": "self-heal-cpt", "annotations": {"cronjob.kubernetes.io/suspended": "true"}},
            "spec": {"schedule": "*/5 * * * *"}},
    })


def test_every_resource_is_read_in_pages_through_the_official_client(fake_api):
    with fake_api as api:
        snap = read_snapshot(api, "shop", page_size=2)

    assert [p.metadata.name for p in snap.pods] == [f"web-{i}" for i in range(5)]
    assert snap.deployments[0].template_doc() == TEMPLATE
    assert snap.hpas[0].spec.min_replicas == 2
    assert set(snap.configmap_checksums) == {"web-config"}
    assert snap.cronjob is not None and snap.cronjob.suspended()
    assert snap.lease is None  # 404: no lease yet
    pod_requests = [r for r in fake_api.requests if "/pods" in r]
    assert len(pod_requests) == 3 and all("limit=2" in r for r in pod_requests)
    assert "continue=2" in pod_requests[1] and "continue=4" in pod_requests[2]
    assert not any("/pods/" in r for r in fake_api.requests)  # never a GET per pod


def test_an_expired_continue_token_restarts_the_list_once(fake_api):
    fake_api.expire_once.add("pods")
    with fake_api as api:
        snap = read_snapshot(api, "shop", page_size=2)

    assert len(snap.pods) == 5  # no duplicates from the abandoned first attempt


def test_api_errors_are_not_swallowed():
    lists = all_lists()
    del lists["deployments"]  # -> 404 for the list
    with FakeAPI(lists) as api, pytest.raises(ApiFailure) as err:
        read_snapshot(api, "shop")

    assert err.value.status == 404


def test_a_malformed_page_names_its_page_number():
    lists = all_lists(pods=3)
    lists["pods"][2]["status"]["containerStatuses"][0]["restartCount"] = "x"
    with FakeAPI(lists) as api, pytest.raises(SnapshotError, match=r"^pods page 2: item 0 \(web-2\)"):
        read_snapshot(api, "shop", page_size=2)


# --- Prometheus --------------------------------------------------------------------------------------------------


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
                value = prom.results.get(name) if name else None
                result = [] if value is None else [{"metric": {}, "value": [1714564800, value]}]
                data = msgspec.json.encode({"status": "success", "data": {"resultType": "vector", "result": result}})
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


def test_canary_error_rates_come_from_prometheus_with_no_traffic_as_unknown():
    prom = FakePrometheus({"web-canary": "0.07", "api-canary": "NaN"})
    try:
        signals = read_canary_signals(prom.url, ["web-canary", "api-canary", "idle-canary"])
    finally:
        prom.close()

    assert signals.state == SourceState.AVAILABLE
    assert signals.error_rates == {"api-canary": None, "idle-canary": None, "web-canary": 0.07}
    assert any('http_requests_total{deployment="web-canary",code=~"5.."}' in q for q in prom.queries)


def test_no_prometheus_url_means_unavailable_and_a_failing_one_means_error():
    assert read_canary_signals(None, ["web-canary"]).state == SourceState.UNAVAILABLE
    prom = FakePrometheus({}, status=500)
    try:
        signals = read_canary_signals(prom.url, ["web-canary"], timeout_seconds=2)
    finally:
        prom.close()
    assert signals.state == SourceState.ERROR and "500" in signals.detail and signals.error_rates == {}
