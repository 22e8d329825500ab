"""The PATCH engine against what a 1.32 kube-apiserver does with the same bodies.

Examples are the bodies real clients send (kubectl patch / annotate / rollout restart / rollout undo,
kubectl apply's directives); expected results follow the Go implementations (apimachinery strategicpatch,
evanphx/json-patch v4) including their surprises, which are called out where they matter.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubesandbox.apiserver.patching import (
    JSON_PATCH,
    MERGE_PATCH,
    PATCH_STRATEGIES,
    STRATEGIC_MERGE_PATCH,
    apply_patch,
)
from kubesandbox.resources.errors import ApiError

FAST = settings(max_examples=100, deadline=None)
REJECTED = "the server rejected our request due to an error in our request"


# ---------------------------------------------------------------------------------------------------------
# Builders


def container(name: str, image: str = "nginx:1.27", **fields: Any) -> dict[str, Any]:
    return {"name": name, "image": image, **fields}


def pod_template(*containers: dict[str, Any], labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "metadata": {"labels": labels or {"app": "web"}},
        "spec": {"containers": list(containers), "restartPolicy": "Always"},
    }


def deployment(*containers: dict[str, Any], **spec: Any) -> dict[str, Any]:
    containers = containers or (container("app"),)
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "web",
            "namespace": "shop",
            "uid": "u-1",
            "annotations": {"deployment.kubernetes.io/revision": "2"},
        },
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
            },
            "template": pod_template(*containers),
            **spec,
        },
        "status": {
            "conditions": [{"type": "Available", "status": "True"}, {"type": "Progressing", "status": "True"}]
        },
    }


def two_container_deployment() -> dict[str, Any]:
    return deployment(
        container(
            "app",
            "shop/app:1.0",
            env=[{"name": "MODE", "value": "prod"}, {"name": "LOG", "value": "info"}],
            ports=[{"containerPort": 8080, "protocol": "TCP"}],
        ),
        container("proxy", "envoy:1.30", args=["--config", "/etc/envoy.yaml"]),
    )


def pod(*containers: dict[str, Any], **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web-1", "namespace": "shop", "finalizers": ["a.example/x"]},
        "spec": {"containers": list(containers or (container("app"),)), **spec},
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "False"}]},
    }


def smp(obj: dict[str, Any], patch: Any, kind: str | None = None) -> dict[str, Any]:
    return apply_patch(obj, json.dumps(patch).encode(), STRATEGIC_MERGE_PATCH, kind or obj.get("kind", ""))


def merge(obj: dict[str, Any], patch: Any) -> dict[str, Any]:
    return apply_patch(obj, json.dumps(patch).encode(), MERGE_PATCH, obj.get("kind", ""))


def jsonpatch(obj: dict[str, Any], ops: Any) -> dict[str, Any]:
    return apply_patch(obj, json.dumps(ops).encode(), JSON_PATCH, obj.get("kind", ""))


def containers_of(obj: dict[str, Any]) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = obj["spec"]["template"]["spec"]["containers"]
    return result


def names(items: list[dict[str, Any]], key: str = "name") -> list[Any]:
    return [item[key] for item in items]


# ---------------------------------------------------------------------------------------------------------
# Content types


@pytest.mark.parametrize(
    "content_type",
    [
        "application/merge-patch+json",
        "application/merge-patch+json; charset=utf-8",
        "application/merge-patch+json;charset=UTF-8",
    ],
)
def test_parameters_after_the_media_type_are_ignored(content_type: str) -> None:
    result = apply_patch(deployment(), b'{"spec":{"replicas":1}}', content_type, "Deployment")
    assert result["spec"]["replicas"] == 1


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/apply-patch+yaml",  # server-side apply is not served by this engine
        "text/plain",
        "",
    ],
)
def test_other_content_types_are_unsupported_media_types(content_type: str) -> None:
    with pytest.raises(ApiError) as err:
        apply_patch(deployment(), b"{}", content_type, "Deployment")
    assert err.value.code == 415
    assert err.value.reason == "UnsupportedMediaType"


@pytest.mark.parametrize("content_type", [JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH])
def test_the_original_object_is_never_modified(content_type: str) -> None:
    original = two_container_deployment()
    before = copy.deepcopy(original)
    body = {
        JSON_PATCH: [
            {"op": "remove", "path": "/spec/template/spec/containers/0/env/0"},
            {"op": "replace", "path": "/spec/replicas", "value": 0},
        ],
        MERGE_PATCH: {"spec": {"replicas": 0, "template": {"spec": {"containers": []}}}},
        STRATEGIC_MERGE_PATCH: {
            "spec": {
                "template": {
                    "spec": {"containers": [{"name": "app", "env": [{"name": "MODE", "$patch": "delete"}]}]}
                }
            }
        },
    }[content_type]
    result = apply_patch(original, json.dumps(body).encode(), content_type, "Deployment")
    assert original == before
    assert result != before


# ---------------------------------------------------------------------------------------------------------
# Bodies that do not decode: 400 BadRequest with Go's encoding/json wording


# Not JSON at all: a v1.37 server checks that first, whatever the patch type (tests/realk8s/test_differential_patches)
@pytest.mark.parametrize(
    ("content_type", "body", "message"),
    [
        *[
            (ctype, body, "invalid JSON patch")
            for ctype in (MERGE_PATCH, JSON_PATCH, STRATEGIC_MERGE_PATCH)
            for body in (
                b"",
                b'{"spec":',
                b'{"spec":}',
                b"{'a':1}",
                b'{"a":1,}',
                b'{"a" 1}',
                b'{"a":1 "b":2}',
                b'{"a":[1 2]}',
                b'{"a":tru}',
                b'{"a":NaN}',
                b'{"a":1.}',
                b'{"a":"\x01"}',
                b"{} x",
                b"[",
            )
        ],
        # JSON of the wrong shape: Go's decoder's words
        (
            MERGE_PATCH,
            b"[1]",
            "error decoding patch: json: cannot unmarshal array into Go value of type "
            "map[string]interface {}",
        ),
        (MERGE_PATCH, b"null", "Invalid JSON Patch"),
        (
            JSON_PATCH,
            b'{"op":"add"}',
            "error decoding patch: json: cannot unmarshal object into Go value of type "
            "[]handlers.jsonPatchOp",
        ),
        (
            JSON_PATCH,
            b'["add"]',
            "error decoding patch: json: cannot unmarshal string into Go value of type handlers.jsonPatchOp",
        ),
        (
            JSON_PATCH,
            b'[{"op":"add","path":5}]',
            "error decoding patch: json: cannot unmarshal number into Go "
            "struct field jsonPatchOp.path of type string",
        ),
        (
            STRATEGIC_MERGE_PATCH,
            b'"replicas"',
            "json: cannot unmarshal string into Go value of type map[string]interface {}",
        ),
    ],
)
def test_undecodable_bodies_are_bad_requests(content_type: str, body: bytes, message: str) -> None:
    with pytest.raises(ApiError) as err:
        apply_patch(deployment(), body, content_type, "Deployment")
    assert (err.value.code, err.value.reason, err.value.message) == (400, "BadRequest", message)


@pytest.mark.parametrize("content_type", [JSON_PATCH, STRATEGIC_MERGE_PATCH])
def test_a_null_body_changes_nothing_for_json_and_strategic_patches(content_type: str) -> None:
    assert apply_patch(deployment(), b"null", content_type, "Deployment") == deployment()


# ---------------------------------------------------------------------------------------------------------
# What kubectl and the Python client send


def test_kubectl_patch_sets_replicas() -> None:
    result = smp(deployment(), {"spec": {"replicas": 1}})
    assert result["spec"]["replicas"] == 1
    assert result["spec"]["template"] == deployment()["spec"]["template"]


def test_kubectl_rollout_restart_adds_the_restarted_at_annotation_to_the_template() -> None:
    patch = {
        "spec": {
            "template": {
                "metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "2026-03-01T10:00:00Z"}}
            }
        }
    }
    result = smp(two_container_deployment(), patch)
    template = result["spec"]["template"]
    assert template["metadata"] == {
        "labels": {"app": "web"},
        "annotations": {"kubectl.kubernetes.io/restartedAt": "2026-03-01T10:00:00Z"},
    }
    assert template["spec"] == two_container_deployment()["spec"]["template"]["spec"]


@pytest.mark.parametrize(
    ("patch", "annotations"),
    [
        (
            {"metadata": {"annotations": {"team": "payments"}}},
            {"deployment.kubernetes.io/revision": "2", "team": "payments"},
        ),
        ({"metadata": {"annotations": {"deployment.kubernetes.io/revision": None}}}, {}),
        (
            {"metadata": {"annotations": {"deployment.kubernetes.io/revision": "3", "a/b": "c"}}},
            {"deployment.kubernetes.io/revision": "3", "a/b": "c"},
        ),
    ],
)
def test_kubectl_annotate_is_a_merge_patch(patch: dict[str, Any], annotations: dict[str, str]) -> None:
    assert merge(deployment(), patch)["metadata"]["annotations"] == annotations


def test_kubectl_rollout_undo_replaces_the_template_and_the_annotations() -> None:
    old_template = {
        "metadata": {"creationTimestamp": None, "labels": {"app": "web"}},
        "spec": {
            "containers": [{"name": "app", "image": "shop/app:0.9", "resources": {}}],
            "restartPolicy": "Always",
        },
    }
    ops = [
        {"op": "replace", "path": "/spec/template", "value": old_template},
        {
            "op": "replace",
            "path": "/metadata/annotations",
            "value": {"deployment.kubernetes.io/revision": "2", "note": "from rs"},
        },
    ]
    result = jsonpatch(two_container_deployment(), ops)
    assert result["spec"]["template"] == old_template
    assert result["metadata"]["annotations"] == {"deployment.kubernetes.io/revision": "2", "note": "from rs"}
    assert result["spec"]["replicas"] == 3


def test_strategic_patch_changes_one_container_image_by_name() -> None:
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "proxy", "image": "envoy:1.31"}]}}}}
    result = containers_of(smp(two_container_deployment(), patch))
    expected = containers_of(two_container_deployment())
    expected[1]["image"] = "envoy:1.31"
    assert result == expected


def test_strategic_patch_updates_an_env_var_by_name_and_keeps_the_others() -> None:
    patch = {
        "spec": {
            "template": {
                "spec": {"containers": [{"name": "app", "env": [{"name": "LOG", "value": "debug"}]}]}
            }
        }
    }
    env = containers_of(smp(two_container_deployment(), patch))[0]["env"]
    assert env == [{"name": "MODE", "value": "prod"}, {"name": "LOG", "value": "debug"}]


def test_a_new_env_var_goes_first_unless_set_element_order_places_it() -> None:
    """strategicpatch's mergeSortedSlice puts items it cannot order against the live list first."""
    add = {"name": "TRACE", "value": "1"}
    plain = {"spec": {"template": {"spec": {"containers": [{"name": "app", "env": [add]}]}}}}
    assert names(containers_of(smp(two_container_deployment(), plain))[0]["env"]) == ["TRACE", "MODE", "LOG"]

    ordered = {
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "$setElementOrder/env": [{"name": "MODE"}, {"name": "LOG"}, {"name": "TRACE"}],
                            "env": [add],
                        }
                    ]
                }
            }
        }
    }
    assert names(containers_of(smp(two_container_deployment(), ordered))[0]["env"]) == [
        "MODE",
        "LOG",
        "TRACE",
    ]


def test_patch_order_wins_over_live_order_for_listed_items() -> None:
    live = deployment(container("a"), container("b"), container("c"))
    patch = {
        "spec": {
            "template": {"spec": {"containers": [{"name": "c", "image": "x"}, {"name": "a", "image": "y"}]}}
        }
    }
    assert names(containers_of(smp(live, patch))) == ["b", "c", "a"]


@pytest.mark.parametrize(
    ("patch_containers", "expected"),
    [
        ([{"name": "proxy", "$patch": "delete"}], ["app"]),
        ([{"name": "missing", "$patch": "delete"}], ["app", "proxy"]),
        ([{"$patch": "replace"}, {"name": "solo", "image": "busybox"}], ["solo"]),
        ([{"name": "proxy", "$patch": "delete"}, {"name": "debug", "image": "busybox"}], ["debug", "app"]),
    ],
)
def test_list_directives(patch_containers: list[dict[str, Any]], expected: list[str]) -> None:
    patch = {"spec": {"template": {"spec": {"containers": patch_containers}}}}
    assert names(containers_of(smp(two_container_deployment(), patch))) == expected


def test_set_element_order_reorders_containers() -> None:
    patch = {
        "spec": {"template": {"spec": {"$setElementOrder/containers": [{"name": "proxy"}, {"name": "app"}]}}}
    }
    result = containers_of(smp(two_container_deployment(), patch))
    assert result == list(reversed(containers_of(two_container_deployment())))


def test_kubectl_apply_style_patch_deletes_and_orders_in_one_go() -> None:
    live = deployment(container("a"), container("b"), container("c"))
    patch = {
        "spec": {
            "template": {
                "spec": {
                    "$setElementOrder/containers": [{"name": "c"}, {"name": "d"}, {"name": "a"}],
                    "containers": [{"name": "d", "image": "new"}, {"name": "b", "$patch": "delete"}],
                }
            }
        }
    }
    assert names(containers_of(smp(live, patch))) == ["c", "d", "a"]


def test_retain_keys_switches_the_deployment_strategy() -> None:
    patch = {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}
    assert smp(deployment(), patch)["spec"]["strategy"] == {"type": "Recreate"}


def test_retain_keys_switches_a_volume_source() -> None:
    live = pod(container("app"), volumes=[{"name": "data", "emptyDir": {}}, {"name": "tmp", "emptyDir": {}}])
    patch = {
        "spec": {
            "volumes": [
                {"$retainKeys": ["configMap", "name"], "name": "data", "configMap": {"name": "settings"}}
            ]
        }
    }
    assert smp(live, patch)["spec"]["volumes"] == [
        {"name": "data", "configMap": {"name": "settings"}},
        {"name": "tmp", "emptyDir": {}},
    ]


@pytest.mark.parametrize(
    ("patch", "finalizers"),
    [
        ({"metadata": {"finalizers": ["b.example/y"]}}, ["b.example/y", "a.example/x"]),
        ({"metadata": {"finalizers": ["a.example/x"]}}, ["a.example/x"]),
        ({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a.example/x"]}}, []),
        ({"metadata": {"$deleteFromPrimitiveList/finalizers": ["nope"]}}, ["a.example/x"]),
    ],
)
def test_finalizers_merge_as_a_set(patch: dict[str, Any], finalizers: list[str]) -> None:
    assert smp(pod(), patch)["metadata"]["finalizers"] == finalizers


def test_finalizers_null_removes_them() -> None:
    assert "finalizers" not in smp(pod(), {"metadata": {"finalizers": None}})["metadata"]


@pytest.mark.parametrize(
    ("kind", "obj", "patch", "path", "expected"),
    [
        pytest.param(
            "Pod",
            pod(container("app"), tolerations=[{"key": "a", "operator": "Exists"}]),
            {"spec": {"tolerations": [{"key": "b", "operator": "Exists"}]}},
            ("spec", "tolerations"),
            [{"key": "b", "operator": "Exists"}],
            id="tolerations-replace",
        ),
        pytest.param(
            "Pod",
            pod(container("app", args=["a", "b"])),
            {"spec": {"containers": [{"name": "app", "args": ["c"]}]}},
            ("spec", "containers", 0, "args"),
            ["c"],
            id="container-args-replace",
        ),
        pytest.param(
            "Pod",
            pod(container("app", ports=[{"containerPort": 80}])),
            {"spec": {"containers": [{"name": "app", "ports": [{"containerPort": 9090, "name": "m"}]}]}},
            ("spec", "containers", 0, "ports"),
            [{"containerPort": 9090, "name": "m"}, {"containerPort": 80}],
            id="ports-by-containerPort",
        ),
        pytest.param(
            "Pod",
            pod(container("app", volumeMounts=[{"name": "d", "mountPath": "/d"}])),
            {
                "spec": {
                    "containers": [{"name": "app", "volumeMounts": [{"mountPath": "/d", "readOnly": True}]}]
                }
            },
            ("spec", "containers", 0, "volumeMounts"),
            [{"name": "d", "mountPath": "/d", "readOnly": True}],
            id="volumeMounts-by-mountPath",
        ),
        pytest.param(
            "Pod",
            pod(container("app"), initContainers=[container("init", "busybox")]),
            {"spec": {"initContainers": [{"name": "init", "image": "alpine"}]}},
            ("spec", "initContainers"),
            [container("init", "alpine")],
            id="initContainers-by-name",
        ),
        pytest.param(
            "Pod",
            pod(),
            {"status": {"conditions": [{"type": "Ready", "status": "True"}]}},
            ("status", "conditions"),
            [{"type": "Ready", "status": "True"}],
            id="pod-conditions-by-type",
        ),
        pytest.param(
            "Deployment",
            deployment(),
            {"status": {"conditions": [{"type": "Progressing", "reason": "x"}]}},
            ("status", "conditions"),
            [
                {"type": "Available", "status": "True"},
                {"type": "Progressing", "status": "True", "reason": "x"},
            ],
            id="deployment-conditions-by-type",
        ),
        pytest.param(
            "Service",
            {
                "kind": "Service",
                "spec": {"ports": [{"port": 80, "targetPort": 8080}, {"port": 443, "targetPort": 8443}]},
            },
            {"spec": {"ports": [{"port": 443, "targetPort": 9443}]}},
            ("spec", "ports"),
            [{"port": 80, "targetPort": 8080}, {"port": 443, "targetPort": 9443}],
            id="service-ports-by-port",
        ),
        pytest.param(
            "PodDisruptionBudget",
            {
                "kind": "PodDisruptionBudget",
                "spec": {"selector": {"matchLabels": {"app": "web", "tier": "x"}}},
            },
            {"spec": {"selector": {"matchLabels": {"app": "api"}}}},
            ("spec", "selector"),
            {"matchLabels": {"app": "api"}},
            id="pdb-selector-replace",
        ),
        pytest.param(
            "ReplicaSet",
            {
                "kind": "ReplicaSet",
                "metadata": {"ownerReferences": [{"uid": "1", "name": "web", "controller": True}]},
            },
            {"metadata": {"ownerReferences": [{"uid": "1", "controller": False}]}},
            ("metadata", "ownerReferences"),
            [{"uid": "1", "name": "web", "controller": False}],
            id="ownerReferences-by-uid",
        ),
        pytest.param(
            "CronJob",
            {
                "kind": "CronJob",
                "spec": {
                    "jobTemplate": {
                        "spec": {
                            "template": pod_template(
                                container("job", "batch:1"), container("log", "fluent:1")
                            )
                        }
                    }
                },
            },
            {
                "spec": {
                    "jobTemplate": {
                        "spec": {"template": {"spec": {"containers": [{"name": "log", "image": "fluent:2"}]}}}
                    }
                }
            },
            ("spec", "jobTemplate", "spec", "template", "spec", "containers"),
            [container("job", "batch:1"), container("log", "fluent:2")],
            id="cronjob-nested-pod-template",
        ),
        pytest.param(
            "Widget",
            {"kind": "Widget", "spec": {"containers": [container("a"), container("b")]}},
            {"spec": {"containers": [{"name": "b", "image": "x"}]}},
            ("spec", "containers"),
            [{"name": "b", "image": "x"}],
            id="unknown-kind-replaces-lists",
        ),
    ],
)
def test_merge_keys_and_strategies_per_field(
    kind: str, obj: dict[str, Any], patch: dict[str, Any], path: tuple[Any, ...], expected: Any
) -> None:
    value: Any = smp(obj, patch, kind)
    for step in path:
        value = value[step]
    assert value == expected


@pytest.mark.parametrize(
    ("patch", "labels"),
    [
        ({"metadata": {"labels": {"$patch": "replace", "only": "this"}}}, {"only": "this"}),
        ({"metadata": {"labels": {"$patch": "delete"}}}, {}),
        ({"metadata": {"labels": {"app": None, "new": "1"}}}, {"tier": "web", "new": "1"}),
    ],
)
def test_map_directives_and_null(patch: dict[str, Any], labels: dict[str, str]) -> None:
    obj = {"kind": "ConfigMap", "metadata": {"name": "c", "labels": {"app": "x", "tier": "web"}}}
    assert smp(obj, patch)["metadata"]["labels"] == labels


def test_values_set_wholesale_lose_nulls_and_directives_like_the_typed_decode_drops_them() -> None:
    patch = {
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {
                            "name": "new",
                            "image": "busybox",
                            "resources": None,
                            "$setElementOrder/env": [{"name": "A"}],
                            "env": [{"name": "A", "value": "1"}],
                        }
                    ]
                }
            }
        }
    }
    added = containers_of(smp(deployment(), patch))[0]
    assert added == {"name": "new", "image": "busybox", "env": [{"name": "A", "value": "1"}]}


@pytest.mark.parametrize(
    ("patch", "code", "reason", "message"),
    [
        (
            {"spec": {"template": {"spec": {"containers": [{"image": "nginx:2"}]}}}},
            500,
            "",
            "map: map[image:nginx:2] does not contain declared merge key: name",
        ),
        (
            {"spec": {"template": {"$patch": "merge", "metadata": {}}}},
            500,
            "",
            "unknown patch type: merge in map: map[$patch:merge metadata:map[]]",
        ),
        (
            {"spec": {"template": {"spec": {"containers": [{"$patch": "merge"}]}}}},
            500,
            "",
            "merging lists cannot yet be specified in the patch",
        ),
        (
            {"spec": {"strategy": {"$retainKeys": ["type"], "rollingUpdate": {}}}},
            400,
            "BadRequest",
            "invalid patch format of retainKeys",
        ),
        (
            {"spec": {"strategy": {"$retainKeys": "type"}}},
            400,
            "BadRequest",
            "invalid patch format of retainKeys",
        ),
        (
            {"metadata": {"$deleteFromPrimitiveListfinalizers": ["x"]}},
            400,
            "BadRequest",
            "invalid patch format of primitive list",
        ),
        (
            {"spec": {"template": {"spec": {"$setElementOrder": []}}}},
            400,
            "BadRequest",
            "invalid patch format of setElementOrder list",
        ),
        (
            {
                "spec": {
                    "template": {
                        "spec": {
                            "$setElementOrder/containers": [{"name": "app"}],
                            "containers": [{"name": "proxy", "image": "x"}],
                        }
                    }
                }
            },
            500,
            "",
            "The order in patch list:\n[map[image:x name:proxy]]\n doesn't match $setElementOrder list:\n"
            "[map[name:app]]\n",
        ),
        (
            {"metadata": {"finalizers": [["nested"]]}},
            500,
            "",
            "list element types are not identical: [[a.example/x] [[nested]]]",
        ),
        (
            {"metadata": {"finalizers": [1]}},
            500,
            "",
            "list element types are not identical: [[a.example/x] [1]]",
        ),
    ],
)
def test_strategic_patch_errors(patch: dict[str, Any], code: int, reason: str, message: str) -> None:
    live = two_container_deployment()
    live["metadata"]["finalizers"] = ["a.example/x"]
    with pytest.raises(ApiError) as err:
        smp(live, patch)
    assert (err.value.code, err.value.reason, err.value.message) == (code, reason, message)


def test_lists_of_lists_are_422() -> None:
    live = {"kind": "Pod", "metadata": {"name": "p", "finalizers": []}}
    with pytest.raises(ApiError) as err:
        smp(live, {"metadata": {"finalizers": [["nested"]]}})
    assert (err.value.code, err.value.reason, err.value.message) == (422, "Invalid", REJECTED)


# ---------------------------------------------------------------------------------------------------------
# JSON patch (RFC 6902 as evanphx/json-patch v4 applies it)


@pytest.mark.parametrize(
    ("ops", "path", "expected"),
    [
        pytest.param(
            [{"op": "add", "path": "/metadata/annotations/kubectl.kubernetes.io~1restartedAt", "value": "t"}],
            ("metadata", "annotations", "kubectl.kubernetes.io/restartedAt"),
            "t",
            id="escape-~1",
        ),
        pytest.param(
            [
                {"op": "add", "path": "/metadata/labels", "value": {"a~b": "1"}},
                {"op": "replace", "path": "/metadata/labels/a~0b", "value": "2"},
            ],
            ("metadata", "labels"),
            {"a~b": "2"},
            id="escape-~0",
        ),
        pytest.param(
            [{"op": "add", "path": "/spec/template/spec/containers/-", "value": container("side")}],
            ("spec", "template", "spec", "containers", -1, "name"),
            "side",
            id="dash-appends",
        ),
        pytest.param(
            [{"op": "add", "path": "/spec/template/spec/containers/0", "value": container("first")}],
            ("spec", "template", "spec", "containers", 0, "name"),
            "first",
            id="index-inserts",
        ),
        pytest.param(
            [{"op": "remove", "path": "/spec/template/spec/containers/-1"}],
            ("spec", "template", "spec", "containers"),
            [],
            id="remove-negative-index",
        ),
        pytest.param(
            [{"op": "add", "path": "/spec/template/spec/containers/-1", "value": container("side")}],
            ("spec", "template", "spec", "containers"),
            [container("app"), container("side")],
            id="add-negative-index-counts-from-the-end",
        ),
        pytest.param(
            [{"op": "replace", "path": "/spec/paused", "value": True}],
            ("spec", "paused"),
            True,
            id="replace-missing-object-key-adds",
        ),
        pytest.param(
            [{"op": "move", "from": "/spec/replicas", "path": "/spec/minReadySeconds"}],
            ("spec",),
            None,
            id="move",
        ),
        pytest.param(
            [
                {
                    "op": "copy",
                    "from": "/spec/template/spec/containers/0",
                    "path": "/spec/template/spec/containers/-",
                }
            ],
            ("spec", "template", "spec", "containers"),
            [container("app"), container("app")],
            id="copy",
        ),
        pytest.param(
            [{"op": "copy", "from": "/spec/nothing", "path": "/spec/copied"}],
            ("spec", "copied"),
            None,
            id="copy-from-missing-object-key-copies-null",
        ),
        pytest.param(
            [
                {"op": "test", "path": "/spec/replicas", "value": 3},
                {"op": "replace", "path": "/spec/replicas", "value": 5},
            ],
            ("spec", "replicas"),
            5,
            id="test-then-replace",
        ),
        pytest.param(
            [{"op": "test", "path": "/spec/nothing", "value": None}],
            ("spec", "replicas"),
            3,
            id="test-null-matches-missing",
        ),
        pytest.param(
            [{"op": "add", "path": "spec/replicas", "value": 7}],
            ("replicas",),
            7,
            id="first-segment-is-ignored",
        ),
    ],
)
def test_json_patch_operations(ops: list[dict[str, Any]], path: tuple[Any, ...], expected: Any) -> None:
    result: Any = jsonpatch(deployment(), ops)
    if expected is None and path == ("spec",):  # the move case: the value travelled
        assert "replicas" not in result["spec"] and result["spec"]["minReadySeconds"] == 3
        return
    for step in path:
        result = result[step]
    assert result == expected


@pytest.mark.parametrize(
    "ops",
    [
        pytest.param([{"op": "test", "path": "/spec/replicas", "value": 4}], id="test-fails"),
        pytest.param([{"op": "test", "path": "/spec/replicas", "value": 3.0}], id="test-float-text-differs"),
        pytest.param([{"op": "test", "path": "/spec/replicas", "value": "3"}], id="test-type-differs"),
        pytest.param([{"op": "test", "path": "/spec/nothing", "value": 1}], id="test-missing"),
        pytest.param([{"op": "remove", "path": "/spec/nothing"}], id="remove-missing-key"),
        pytest.param(
            [{"op": "replace", "path": "/spec/nothing/deeper", "value": 1}], id="replace-missing-parent"
        ),
        pytest.param(
            [{"op": "replace", "path": "/spec/template/spec/containers/1", "value": {}}],
            id="replace-index-out-of-range",
        ),
        pytest.param(
            [{"op": "add", "path": "/spec/template/spec/containers/5", "value": {}}], id="add-index-past-end"
        ),
        pytest.param(
            [{"op": "add", "path": "/spec/template/spec/containers/x", "value": {}}], id="add-bad-index"
        ),
        pytest.param([{"op": "add", "path": "", "value": {}}], id="add-root"),
        pytest.param([{"op": "add", "value": 1}], id="missing-path"),
        pytest.param([{"op": "move", "from": "/spec/nothing", "path": "/spec/x"}], id="move-missing"),
        pytest.param([{"op": "jump", "path": "/spec"}], id="unknown-op"),
        pytest.param([None], id="null-op"),
        pytest.param([{"op": "replace", "path": "", "value": [1]}], id="root-becomes-array"),
    ],
)
def test_json_patch_failures_are_422_with_the_generic_message(ops: list[Any]) -> None:
    with pytest.raises(ApiError) as err:
        jsonpatch(deployment(), ops)
    assert (err.value.code, err.value.reason, err.value.message) == (422, "Invalid", REJECTED)
    assert err.value.__cause__ is not None  # the library's own explanation, for logs


def test_a_failing_test_op_leaves_no_partial_changes_behind() -> None:
    original = deployment()
    with pytest.raises(ApiError):
        jsonpatch(
            original,
            [
                {"op": "replace", "path": "/spec/replicas", "value": 0},
                {"op": "test", "path": "/spec/replicas", "value": 3},
            ],
        )
    assert original == deployment()


def test_json_patch_operation_limit() -> None:
    ops = [{"op": "test", "path": "/spec/replicas", "value": 3}] * 10001
    with pytest.raises(ApiError) as err:
        jsonpatch(deployment(), ops)
    assert err.value.code == 413
    assert err.value.message == (
        "Request entity too large: The allowed maximum operations in a JSON patch is 10000, got 10001"
    )


# ---------------------------------------------------------------------------------------------------------
# JSON merge patch (RFC 7386 appendix A, and the library's null pruning)


@pytest.mark.parametrize(
    ("target", "patch", "expected"),
    [
        ({"a": "b"}, {"a": "c"}, {"a": "c"}),
        ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
        ({"a": "b"}, {"a": None}, {}),
        ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
        ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
        ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
        ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
        ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
        ({"e": None}, {"a": 1}, {"a": 1, "e": None}),
        ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
        # evanphx prunes nulls from objects inside arrays it sets (not the RFC's behaviour) ...
        ({"a": [1]}, {"a": [{"x": None, "y": 1}, None]}, {"a": [{"y": 1}, None]}),
        # ... except when the array replaces an object.
        ({"a": {}}, {"a": [{"x": None}]}, {"a": [{"x": None}]}),
    ],
)
def test_merge_patch_cases(target: dict[str, Any], patch: dict[str, Any], expected: dict[str, Any]) -> None:
    assert merge(target, patch) == expected


# ---------------------------------------------------------------------------------------------------------
# Properties

KEYS = st.text(alphabet="abc/~-", min_size=1, max_size=3)
SCALARS = st.none() | st.booleans() | st.integers(-5, 5) | st.text(alphabet="xyz", max_size=3)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3),
    max_leaves=12,
)
DOCS = st.dictionaries(KEYS, JSON, max_size=4)


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value if v is not None]
    return value


def _merge_diff(doc: dict[str, Any], target: dict[str, Any]) -> dict[str, Any]:
    """The RFC 7386 patch turning `doc` into `target` (computed independently of the engine)."""
    patch: dict[str, Any] = {k: None for k in doc if k not in target}
    for key, value in target.items():
        if isinstance(doc.get(key), dict) and isinstance(value, dict):
            sub = _merge_diff(doc[key], value)
            if sub:
                patch[key] = sub
        elif key not in doc or doc[key] != value or type(doc[key]) is not type(value):
            patch[key] = value
    return patch


@FAST
@given(DOCS, DOCS.map(_without_nulls))
def test_merge_patch_of_the_diff_reaches_the_target(doc: dict[str, Any], target: dict[str, Any]) -> None:
    assert merge(doc, _merge_diff(doc, target)) == target


NULL_FREE_LISTS = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner.map(_without_nulls), max_size=3) | st.dictionaries(KEYS, inner, max_size=3),
    max_leaves=12,
)


@FAST
@given(DOCS, st.dictionaries(KEYS, NULL_FREE_LISTS, max_size=4))
def test_merge_patch_is_idempotent(doc: dict[str, Any], patch: dict[str, Any]) -> None:
    once = merge(doc, patch)
    assert merge(once, patch) == once


def _pointer(tokens: list[str | int]) -> str:
    return "".join("/" + str(t).replace("~", "~0").replace("/", "~1") for t in tokens)


def _resolve(doc: Any, tokens: list[str | int]) -> Any:
    for token in tokens:
        doc = doc[token]
    return doc


@st.composite
def existing_location(draw: st.DrawFn, min_depth: int = 1) -> tuple[dict[str, Any], list[str | int]]:
    """A document and the tokens of a value inside it (at least `min_depth` deep)."""
    doc = draw(st.dictionaries(KEYS, JSON, min_size=1, max_size=4))
    tokens: list[str | int] = []
    node: Any = doc
    while isinstance(node, dict | list) and node and (len(tokens) < min_depth or draw(st.booleans())):
        if isinstance(node, dict):
            key = draw(st.sampled_from(sorted(node)))
            tokens.append(key)
            node = node[key]
        else:
            index = draw(st.integers(0, len(node) - 1))
            tokens.append(index)
            node = node[index]
    return doc, tokens


@FAST
@given(existing_location(), JSON)
def test_json_patch_replace_puts_the_value_at_the_path(
    location: tuple[dict[str, Any], list[str | int]], value: Any
) -> None:
    doc, tokens = location
    result = jsonpatch(doc, [{"op": "replace", "path": _pointer(tokens), "value": value}])
    assert _resolve(result, tokens) == value
    restored = jsonpatch(
        result, [{"op": "replace", "path": _pointer(tokens), "value": _resolve(doc, tokens)}]
    )
    assert restored == doc


@st.composite
def insertion_point(draw: st.DrawFn) -> tuple[dict[str, Any], list[str | int]]:
    """A document and the tokens of a place where `add` creates a new member or array item."""
    doc, tokens = draw(existing_location(min_depth=0))
    container = _resolve(doc, tokens)
    while not isinstance(container, dict | list):
        tokens = tokens[:-1]
        container = _resolve(doc, tokens)
    if isinstance(container, dict):
        key = draw(KEYS.filter(lambda k: k not in container))
        return doc, [*tokens, key]
    return doc, [*tokens, draw(st.integers(0, len(container)))]


@FAST
@given(insertion_point(), JSON)
def test_json_patch_add_then_remove_restores_the_document(
    point: tuple[dict[str, Any], list[str | int]], value: Any
) -> None:
    doc, tokens = point
    path = _pointer(tokens)
    added = jsonpatch(doc, [{"op": "add", "path": path, "value": value}])
    assert _resolve(added, tokens) == value
    assert jsonpatch(added, [{"op": "remove", "path": path}]) == doc
    assert (
        jsonpatch(doc, [{"op": "add", "path": path, "value": value}, {"op": "remove", "path": path}]) == doc
    )


CONTAINER_NAMES = st.lists(
    st.text(alphabet="abcdef", min_size=1, max_size=4), min_size=1, max_size=6, unique=True
)
EXTRA_FIELDS = st.dictionaries(st.sampled_from(["args", "command", "workingDir", "tty"]), JSON, max_size=2)


@st.composite
def pod_and_image_changes(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, str]]:
    live = pod(*[container(n, f"img-{n}:1", **draw(EXTRA_FIELDS)) for n in draw(CONTAINER_NAMES)])
    chosen = draw(st.lists(st.sampled_from(names(live["spec"]["containers"])), unique=True))
    return live, {n: draw(st.text(alphabet="xyz:0123", min_size=1, max_size=5)) for n in chosen}


@FAST
@given(pod_and_image_changes())
def test_strategic_image_change_touches_exactly_the_named_containers(
    case: tuple[dict[str, Any], dict[str, str]],
) -> None:
    live, images = case
    in_live_order = [n for n in names(live["spec"]["containers"]) if n in images]
    patch = {"spec": {"containers": [{"name": n, "image": images[n]} for n in in_live_order]}}
    result = smp(live, patch)
    expected = [{**c, "image": images.get(c["name"], c["image"])} for c in live["spec"]["containers"]]
    assert result["spec"]["containers"] == expected
    assert {k: v for k, v in result.items() if k != "spec"} == {k: v for k, v in live.items() if k != "spec"}


MAP_KEYS = st.text(alphabet="abc-", min_size=1, max_size=3)
MAP_ONLY = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.text(alphabet="xy", max_size=2),
    lambda inner: st.dictionaries(MAP_KEYS, inner, max_size=3),
    max_leaves=10,
)
MAP_DOCS = st.dictionaries(MAP_KEYS, MAP_ONLY, max_size=4)


@FAST
@given(MAP_DOCS, MAP_DOCS, st.sampled_from([*sorted(PATCH_STRATEGIES), "Widget"]))
def test_strategic_patch_without_lists_is_a_merge_patch(
    doc: dict[str, Any], patch: dict[str, Any], kind: str
) -> None:
    assert smp(doc, patch, kind) == merge(doc, patch)


ANY_BODY = st.one_of(
    st.binary(max_size=30),
    st.text(alphabet='{}[]":,0123456789-+.eEtrufalsn \\/ux', max_size=30).map(str.encode),
    JSON.map(lambda v: json.dumps(v).encode()),
    st.lists(
        st.fixed_dictionaries(
            {"op": st.sampled_from(["add", "remove", "replace", "move", "copy", "test"])},
            optional={
                "path": st.sampled_from(
                    [
                        "",
                        "/",
                        "/spec",
                        "/spec/template/spec/containers/0",
                        "/spec/template/spec/containers/-",
                        "/x/y",
                    ]
                ),
                "from": st.sampled_from(["/spec", "/metadata/name", "/nope"]),
                "value": JSON,
            },
        ),
        max_size=4,
    ).map(lambda v: json.dumps(v).encode()),
)


@FAST
@given(ANY_BODY, st.sampled_from([JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH]))
def test_any_body_yields_an_object_or_an_api_error(body: bytes, content_type: str) -> None:
    original = two_container_deployment()
    try:
        result = apply_patch(original, body, content_type, "Deployment")
    except ApiError as err:
        assert err.code in (400, 413, 422, 500)
    else:
        assert isinstance(result, dict)
    assert original == two_container_deployment()


JSONISH_TEXT = st.text(alphabet='{}[]":,0123456789-+.eEtrufalsnNI \\/ubx\t\n', max_size=25)


def _python_accepts(text: str) -> bool:
    def reject_constant(name: str) -> Any:
        raise ValueError(name)

    try:
        json.loads(text, parse_constant=reject_constant)
    except ValueError:
        return False
    return True


@FAST
@given(JSONISH_TEXT | JSON.map(json.dumps))
def test_bodies_are_rejected_exactly_when_they_are_not_json(text: str) -> None:
    accepted = True
    try:
        apply_patch({}, text.encode(), STRATEGIC_MERGE_PATCH, "ConfigMap")
    except ApiError as err:
        accepted = "cannot unmarshal" in err.message  # valid JSON, just not an object
    assert accepted == _python_accepts(text)
