"""Reading a namespace: every resource in pages, an expired continue token restarts the list once,
failures are not swallowed. Through `FakeTransport`, so the exact requests are visible."""

from __future__ import annotations

from typing import Any

import pytest

from selfheal.kube.errors import ApiFailure
from selfheal.snapshot import SnapshotError, read_snapshot
from tests.fakes import FakeTransport, Lists, ok, query_of
from tests.snapshot.test_decode import TEMPLATE, pod_json


def all_lists(pods: int = 5) -> dict[str, list[dict[str, Any]]]:
    return {
        "pods": [pod_json(f"web-{i}", i) for i in range(pods)],
        "deployments": [
            {"metadata": {"name": "web", "uid": "d1"}, "spec": {"replicas": 2, "template": TEMPLATE}}
        ],
        "replicasets": [],
        "horizontalpodautoscalers": [
            {
                "metadata": {"name": "web"},
                "spec": {
                    "scaleTargetRef": {"kind": "Deployment", "name": "web"},
                    "minReplicas": 2,
                    "maxReplicas": 5,
                },
            }
        ],
        "poddisruptionbudgets": [],
        "configmaps": [{"metadata": {"name": "web-config"}, "data": {"A": "1"}}],
    }


def test_every_resource_is_read_in_pages_and_nothing_else():
    api = FakeTransport(Lists(all_lists()))

    snap = read_snapshot(api, "shop", page_size=2)

    assert [p.metadata.name for p in snap.pods] == [f"web-{i}" for i in range(5)]
    assert snap.deployments[0].template_doc() == TEMPLATE
    assert snap.hpas[0].spec.min_replicas == 2
    assert set(snap.configmap_checksums) == {"web-config"}
    pods = [r for r in api.requests if r.path == "/api/v1/namespaces/shop/pods"]
    assert [query_of(r) for r in pods] == [
        {"limit": "2"},
        {"limit": "2", "continue": "2"},
        {"limit": "2", "continue": "4"},
    ]
    assert all(r.method == "GET" for r in api.requests)
    assert len(api.requests) == 3 + 5  # pods in 3 pages, every other list in 1: never a GET per object


def test_an_expired_continue_token_restarts_the_list_once():
    api = FakeTransport(Lists(all_lists(), expire_once=["pods"]))

    snap = read_snapshot(api, "shop", page_size=2)

    assert len(snap.pods) == 5  # no duplicates from the abandoned first attempt
    pods = [query_of(r) for r in api.requests if r.path.endswith("/pods")]
    assert pods[:3] == [{"limit": "2"}, {"limit": "2", "continue": "2"}, {"limit": "2"}]


def test_api_errors_are_not_swallowed():
    lists = all_lists()
    del lists["deployments"]  # -> 404 for the list

    with pytest.raises(ApiFailure) as err:
        read_snapshot(FakeTransport(Lists(lists)), "shop")

    assert err.value.status == 404


def test_a_bad_pod_is_left_out_named_by_page_and_the_rest_of_the_namespace_is_read():
    lists = all_lists(pods=5)
    lists["pods"][2]["status"]["containerStatuses"][0]["restartCount"] = "x"

    snap = read_snapshot(FakeTransport(Lists(lists)), "shop", page_size=2)

    assert [p.metadata.name for p in snap.pods] == ["web-0", "web-1", "web-3", "web-4"]
    assert [d.metadata.name for d in snap.deployments] == ["web"] and len(snap.hpas) == 1
    [problem] = snap.problems
    assert (
        problem.line
        == "pods page 2: item 0 (web-2): status.containerStatuses[0].restartCount: Expected int, got str"
    )


def test_problems_of_every_resource_are_kept_in_reading_order_and_a_restarted_list_forgets_its_own():
    lists = all_lists(pods=3)
    lists["pods"][0]["status"]["phase"] = 1
    lists["deployments"].append({"metadata": {"name": "api"}, "spec": {"replicas": "two"}})
    lists["configmaps"].append({"metadata": {"name": "bin"}, "data": {"k": 1}})

    snap = read_snapshot(FakeTransport(Lists(lists, expire_once=["pods"])), "shop", page_size=2)

    assert [(p.kind, p.name) for p in snap.problems] == [
        ("Pod", "web-0"),
        ("Deployment", "api"),
        ("ConfigMap", "bin"),
    ]
    assert len(snap.pods) == 2 and set(snap.configmap_checksums) == {"web-config"}


def test_a_page_that_is_not_a_list_still_stops_the_read():
    def handler(req):
        if req.path.endswith("/pods"):
            return ok({"kind": "PodList", "items": {"web-0": {}}})
        return Lists(all_lists())(req)

    with pytest.raises(SnapshotError, match=r"^pods page 1: items: Expected array, got object$"):
        read_snapshot(FakeTransport(handler), "shop")
