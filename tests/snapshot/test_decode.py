"""Decoding list pages: raw bytes straight into the model's Structs, every problem one line."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from selfheal.kube.model import Pod, PodList
from selfheal.snapshot import SnapshotError, decode, decode_page

TEMPLATE = {
    "metadata": {"labels": {"app": "web"}, "creationTimestamp": None},
    "spec": {
        "containers": [
            {
                "name": "web",
                "image": "web:1",
                "imagePullPolicy": "IfNotPresent",
                "livenessProbe": {"httpGet": {"path": "/", "port": 80}},
            }
        ],
        "restartPolicy": "Always",
    },
}


def pod_json(name: str, restarts: int = 0) -> dict[str, Any]:
    return {
        "metadata": {
            "name": name,
            "namespace": "shop",
            "uid": f"uid-{name}",
            "resourceVersion": "7",
            "creationTimestamp": "2024-05-01T10:00:00Z",
            "managedFields": [{"manager": "kubelet"}],
        },
        "spec": {"containers": [{"name": "web", "image": "web:1"}], "nodeName": "node-1"},
        "status": {
            "phase": "Running",
            "containerStatuses": [
                {
                    "name": "web",
                    "restartCount": restarts,
                    "ready": True,
                    "image": "web:1",
                    "state": {"running": {"startedAt": "2024-05-01T10:00:01Z"}},
                    "containerID": "containerd://x",
                }
            ],
        },
    }


def test_unknown_fields_are_ignored_and_absent_ones_take_the_apis_zero_values():
    page = decode_page(
        "pods",
        json.dumps(
            {
                "kind": "PodList",
                "metadata": {"continue": "abc"},
                "items": [pod_json("web-1", 4), {"metadata": {"name": "bare"}}],
            }
        ).encode(),
    )

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


@pytest.mark.parametrize(
    ("kind", "body", "line"),
    [
        (
            "pods",
            {
                "items": [
                    pod_json("a"),
                    {
                        **pod_json("web-7d9f"),
                        "status": {"containerStatuses": [{"name": "web", "restartCount": "many"}]},
                    },
                ]
            },
            "pods page 2: item 1 (web-7d9f): status.containerStatuses[0].restartCount: Expected int, got str",
        ),
        (
            "deployments",
            {"items": [{"metadata": {"name": "web"}, "spec": {"replicas": None}}]},
            "deployments page 2: item 0 (web): spec.replicas: Expected int, got null",
        ),
        (
            "pods",
            {"items": [{"metadata": {"name": "p", "creationTimestamp": "2024-05-01T10:00:00"}}]},
            "pods page 2: item 0 (p): metadata.creationTimestamp: Expected datetime with a timezone component",
        ),
        ("pods", {"items": [pod_json("a"), 5]}, "pods page 2: item 1: (root): Expected object, got int"),
        (
            "hpas",
            {"items": [{"metadata": {"name": 7}, "spec": {"maxReplicas": "ten"}}]},
            "hpas page 2: item 0: metadata.name: Expected str, got int",
        ),
    ],
)
def test_a_malformed_object_is_one_line_naming_the_resource_object_and_field(kind, body, line):
    page = decode_page(kind, json.dumps(body).encode(), where=" page 2")

    [problem] = page.problems
    assert problem.line == line


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"items": {"not": "a list"}}, "configmaps page 2: items: Expected array, got object"),
        ({"items": None}, "configmaps page 2: items: Expected array, got null"),
        (
            {"metadata": {"continue": 5}, "items": []},
            "configmaps page 2: metadata.continue: Expected str, got int",
        ),
        ([{"metadata": {"name": "a"}}], "configmaps page 2: Expected object, got array"),
    ],
)
def test_a_broken_list_envelope_is_still_a_snapshot_error(body, message):
    with pytest.raises(SnapshotError) as err:
        decode_page("configmaps", json.dumps(body).encode(), where=" page 2")

    assert str(err.value) == message


def test_one_bad_pod_among_good_ones_is_left_out_and_named_and_the_rest_decoded():
    bad = pod_json("web-bad", 1)
    bad["status"]["containerStatuses"][0]["restartCount"] = 2.5
    bad["metadata"]["ownerReferences"] = [
        {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-7d9f", "uid": "rs-1", "controller": True}
    ]
    bad["metadata"]["labels"] = {"app": "web"}
    body = {
        "metadata": {"continue": "next"},
        "items": [pod_json("web-0"), pod_json("web-1", 3), bad, pod_json("web-3")],
    }

    page = decode_page("pods", json.dumps(body).encode(), where=" page 4")

    assert [p.metadata.name for p in page.items] == ["web-0", "web-1", "web-3"]
    assert page.items[1].status.container_statuses[0].restart_count == 3
    assert page.continue_token == "next"
    [problem] = page.problems
    assert (problem.kind, problem.name, problem.uid) == ("Pod", "web-bad", "uid-web-bad")
    assert (problem.path, problem.problem) == (
        "status.containerStatuses[0].restartCount",
        "Expected int, got float",
    )
    assert problem.where == "pods page 4: item 2"
    assert problem.controller is not None and (problem.controller.kind, problem.controller.uid) == (
        "ReplicaSet",
        "rs-1",
    )
    assert problem.labels == {"app": "web"}


def test_a_deployment_with_a_bad_field_is_left_out_and_the_others_keep_their_templates():
    good = {"metadata": {"name": "web", "uid": "d1"}, "spec": {"replicas": 2, "template": TEMPLATE}}
    bad = {"metadata": {"name": "api", "uid": "d2"}, "spec": {"replicas": "2", "template": TEMPLATE}}

    page = decode_page("deployments", json.dumps({"items": [bad, good]}).encode())

    [decoded] = page.items
    assert decoded.metadata.name == "web" and decoded.template_doc() == TEMPLATE
    [problem] = page.problems
    assert (problem.kind, problem.name, problem.uid, problem.path) == (
        "Deployment",
        "api",
        "d2",
        "spec.replicas",
    )
    assert problem.owners == ()  # readable, and none: not the same as unreadable


def test_what_cannot_be_read_of_a_bad_object_is_none_not_empty():
    bad = {
        "metadata": {"name": "web-x", "ownerReferences": "garbage", "labels": {"app": 5}},
        "status": {"phase": 7},
    }

    [problem] = decode_page("pods", json.dumps({"items": [bad]}).encode()).problems

    assert problem.owners is None and problem.labels is None and problem.controller is None


def test_an_hpa_that_does_not_decode_still_names_its_target_when_it_can():
    bad = {
        "metadata": {"name": "web"},
        "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "maxReplicas": "10"},
    }

    [problem] = decode_page("hpas", json.dumps({"items": [bad]}).encode()).problems

    assert problem.kind == "HorizontalPodAutoscaler" and problem.scale_target == ("Deployment", "web")


def test_a_clean_page_takes_the_whole_page_fast_path(monkeypatch):
    def item_by_item(*args):
        raise AssertionError("the item-by-item path was taken for a clean page")

    monkeypatch.setattr(decode, "_decode_item_by_item", item_by_item)
    body = {"items": [pod_json(f"web-{i}", i) for i in range(50)]}

    page = decode_page("pods", json.dumps(body).encode())

    assert len(page.items) == 50 and page.problems == ()
    deployments = {"items": [{"metadata": {"name": "web"}, "spec": {"template": TEMPLATE}}]}
    assert decode_page("deployments", json.dumps(deployments).encode()).items[0].template_doc() == TEMPLATE


def test_a_page_with_a_bad_item_is_decoded_whole_once_then_item_by_item(monkeypatch):
    calls: list[object] = []
    real = msgspec.json.decode

    def counting(data, *args, **kwargs):
        calls.append(kwargs.get("type"))
        return real(data, *args, **kwargs)

    monkeypatch.setattr(decode.msgspec.json, "decode", counting)
    clean = json.dumps({"items": [pod_json(f"web-{i}") for i in range(3)]}).encode()
    decode_page("pods", clean)
    assert calls == [PodList]  # one decode for the whole page
    calls.clear()

    dirty = json.loads(clean)
    dirty["items"][1]["status"]["containerStatuses"][0]["restartCount"] = "x"
    decode_page("pods", json.dumps(dirty).encode())

    assert calls[:2] == [PodList, decode._Envelope]
    assert calls.count(Pod) == 3


def test_a_non_json_answer_is_a_snapshot_error():
    with pytest.raises(SnapshotError, match=r"^pods: the answer is not valid JSON"):
        decode_page("pods", b"<html>502 Bad Gateway</html>")
