"""Decoding list pages: raw bytes straight into the model's Structs, every problem one line."""

from __future__ import annotations

import json
from typing import Any

import pytest

from selfheal.snapshot import SnapshotError, decode_page

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
