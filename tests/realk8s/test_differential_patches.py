"""All three patch types on a corpus of objects: list merge keys, `$patch` directives, nulls, and the JSON
patch failures (test, move, copy, bad paths), each answered by both worlds from the same starting object."""

from __future__ import annotations

import pytest

from tests.realk8s.differential import corpus as C
from tests.realk8s.differential.fixtures import differential, known, real_cluster

__all__ = ["differential", "known", "real_cluster"]

SMP = "application/strategic-merge-patch+json"
MERGE = "application/merge-patch+json"
JSONP = "application/json-patch+json"

# (object, patch type, patch): each applied to a fresh copy of the object (dry-run), then for real
CASES: dict[str, tuple[dict, str, object]] = {
    # Deployments: containers merge by name, ports by containerPort, env by name, volumes by name
    "deploy smp replicas": (C.deployment(rich=True), SMP, {"spec": {"replicas": 4}}),
    "deploy smp image by name": (
        C.deployment(rich=True),
        SMP,
        {
            "spec": {
                "template": {
                    "spec": {"containers": [{"name": "app", "image": "registry.example/shop/web:2"}]}
                }
            }
        },
    ),
    "deploy smp new container": (
        C.deployment(rich=True),
        SMP,
        {
            "spec": {
                "template": {"spec": {"containers": [{"name": "extra", "image": "registry.example/x:1"}]}}
            }
        },
    ),
    "deploy smp delete container": (
        C.deployment(rich=True),
        SMP,
        {"spec": {"template": {"spec": {"containers": [{"name": "sidecar", "$patch": "delete"}]}}}},
    ),
    "deploy smp env add and null": (
        C.deployment(rich=True),
        SMP,
        {
            "spec": {
                "template": {
                    "spec": {
                        "containers": [
                            {
                                "name": "app",
                                "env": [{"name": "NEW", "value": "1"}, {"name": "MODE", "$patch": "delete"}],
                            }
                        ]
                    }
                }
            }
        },
    ),
    "deploy smp port merge": (
        C.deployment(rich=True),
        SMP,
        {
            "spec": {
                "template": {
                    "spec": {
                        "containers": [{"name": "app", "ports": [{"containerPort": 8080, "name": "web"}]}]
                    }
                }
            }
        },
    ),
    "deploy smp volume replace": (
        C.deployment(rich=True),
        SMP,
        {
            "spec": {
                "template": {"spec": {"volumes": [{"name": "scratch", "emptyDir": {"medium": "Memory"}}]}}
            }
        },
    ),
    "deploy smp null label": (C.deployment(rich=True), SMP, {"metadata": {"labels": {"app": None}}}),
    "deploy smp restartedAt": (
        C.deployment(),
        SMP,
        {
            "spec": {
                "template": {
                    "metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "2026-01-01T12:00:00Z"}}
                }
            }
        },
    ),
    "deploy smp patch replace map": (
        C.deployment(rich=True),
        SMP,
        {"spec": {"template": {"spec": {"nodeSelector": {"$patch": "replace", "disk": "ssd"}}}}},
    ),
    "deploy smp retainKeys strategy": (
        C.deployment(),
        SMP,
        {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}},
    ),
    "deploy smp strategy recreate": (C.deployment(), SMP, {"spec": {"strategy": {"type": "Recreate"}}}),
    "deploy smp setElementOrder": (
        C.deployment(rich=True),
        SMP,
        {
            "spec": {
                "template": {
                    "spec": {
                        "$setElementOrder/containers": [{"name": "sidecar"}, {"name": "app"}],
                        "containers": [{"name": "app", "image": "registry.example/shop/web:3"}],
                    }
                }
            }
        },
    ),
    "deploy smp unknown directive": (C.deployment(), SMP, {"spec": {"$patch": "frobnicate"}}),
    "deploy smp list for map": (C.deployment(), SMP, {"spec": {"template": []}}),
    "deploy smp not json": (C.deployment(), SMP, b"{not json"),
    "deploy smp selector change": (
        C.deployment(),
        SMP,
        {"spec": {"selector": {"matchLabels": {"app": "other"}}}},
    ),
    "deploy smp bad replicas": (C.deployment(), SMP, {"spec": {"replicas": "three"}}),
    "deploy smp negative replicas": (C.deployment(), SMP, {"spec": {"replicas": -1}}),
    "deploy smp name change": (C.deployment(), SMP, {"metadata": {"name": "other"}}),
    "deploy smp uid precondition wrong": (
        C.deployment(),
        SMP,
        {"metadata": {"uid": "00000000-0000-0000-0000-000000000000"}},
    ),
    "deploy smp rv precondition stale": (C.deployment(), SMP, {"metadata": {"resourceVersion": "1"}}),
    "deploy smp status ignored": (C.deployment(), SMP, {"status": {"replicas": 9}}),
    "deploy merge replicas": (C.deployment(rich=True), MERGE, {"spec": {"replicas": 0}}),
    "deploy merge containers replace": (
        C.deployment(rich=True),
        MERGE,
        {
            "spec": {
                "template": {
                    "spec": {"containers": [{"name": "app", "image": "registry.example/shop/web:2"}]}
                }
            }
        },
    ),
    "deploy merge null annotation": (
        C.deployment(),
        MERGE,
        {"metadata": {"annotations": {"a": "1", "b": None}}},
    ),
    "deploy merge null spec field": (C.deployment(), MERGE, {"spec": {"revisionHistoryLimit": None}}),
    "deploy merge not object": (C.deployment(), MERGE, [1, 2]),
    "deploy merge traffic split": (
        C.deployment(),
        MERGE,
        {"metadata": {"annotations": {"selfheal.dev/traffic-split": '{"canary":0,"stable":100}'}}},
    ),
    "deploy json replace template": (
        C.deployment(),
        JSONP,
        [
            {
                "op": "replace",
                "path": "/spec/template",
                "value": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "app", "image": "registry.example/shop/web:0"}]},
                },
            }
        ],
    ),
    "deploy json replace annotations": (
        C.deployment(),
        JSONP,
        [{"op": "replace", "path": "/metadata/annotations", "value": {"x": "y"}}],
    ),
    "deploy json add annotation to missing map": (
        C.deployment(),
        JSONP,
        [{"op": "add", "path": "/metadata/annotations/x", "value": "y"}],
    ),
    "deploy json test ok": (
        C.deployment(),
        JSONP,
        [
            {"op": "test", "path": "/spec/template/spec/containers/0/name", "value": "app"},
            {
                "op": "replace",
                "path": "/spec/template/spec/containers/0/image",
                "value": "registry.example/shop/web:9",
            },
        ],
    ),
    "deploy json test fails": (
        C.deployment(),
        JSONP,
        [
            {"op": "test", "path": "/spec/template/spec/containers/0/name", "value": "nope"},
            {"op": "replace", "path": "/spec/replicas", "value": 7},
        ],
    ),
    "deploy json test missing path": (
        C.deployment(),
        JSONP,
        [{"op": "test", "path": "/spec/nope", "value": 1}],
    ),
    "deploy json move": (
        C.deployment(),
        JSONP,
        [{"op": "move", "from": "/metadata/labels/app", "path": "/metadata/labels/moved"}],
    ),
    "deploy json move missing": (
        C.deployment(),
        JSONP,
        [{"op": "move", "from": "/metadata/nope", "path": "/metadata/labels/x"}],
    ),
    "deploy json copy": (
        C.deployment(),
        JSONP,
        [{"op": "copy", "from": "/metadata/labels", "path": "/spec/template/metadata/annotations"}],
    ),
    "deploy json copy missing": (
        C.deployment(),
        JSONP,
        [{"op": "copy", "from": "/spec/nope", "path": "/spec/x"}],
    ),
    "deploy json remove missing": (
        C.deployment(),
        JSONP,
        [{"op": "remove", "path": "/metadata/annotations/zz"}],
    ),
    "deploy json replace missing": (
        C.deployment(),
        JSONP,
        [{"op": "replace", "path": "/spec/nope", "value": 1}],
    ),
    "deploy json add index past end": (
        C.deployment(),
        JSONP,
        [{"op": "add", "path": "/spec/template/spec/containers/5", "value": {"name": "x", "image": "y"}}],
    ),
    "deploy json add dash": (
        C.deployment(),
        JSONP,
        [
            {
                "op": "add",
                "path": "/spec/template/spec/containers/-",
                "value": {"name": "x", "image": "registry.example/x:1"},
            }
        ],
    ),
    "deploy json bad op": (C.deployment(), JSONP, [{"op": "frob", "path": "/spec"}]),
    "deploy json not list": (C.deployment(), JSONP, {"op": "replace", "path": "/spec/replicas", "value": 2}),
    "deploy json guard uid rv": (
        C.deployment(),
        JSONP,
        [
            {"op": "replace", "path": "/metadata/uid", "value": "<uid>"},
            {"op": "replace", "path": "/metadata/resourceVersion", "value": "<rv>"},
            {"op": "replace", "path": "/spec/replicas", "value": 3},
        ],
    ),
    "deploy json guard stale rv": (
        C.deployment(),
        JSONP,
        [
            {"op": "replace", "path": "/metadata/resourceVersion", "value": "1"},
            {"op": "replace", "path": "/spec/replicas", "value": 3},
        ],
    ),
    "deploy json remove containers": (
        C.deployment(),
        JSONP,
        [{"op": "remove", "path": "/spec/template/spec/containers"}],
    ),
    # Pods: only some fields are mutable
    "pod smp image": (
        C.pod(),
        SMP,
        {"spec": {"containers": [{"name": "app", "image": "registry.example/x:2"}]}},
    ),
    "pod smp forbidden field": (C.pod(), SMP, {"spec": {"restartPolicy": "Never"}}),
    "pod merge labels": (C.pod(), MERGE, {"metadata": {"labels": {"a": "b"}}}),
    "pod json add toleration": (
        C.pod(),
        JSONP,
        [
            {
                "op": "add",
                "path": "/spec/tolerations/-",
                "value": {"key": "k", "operator": "Exists", "effect": "NoSchedule"},
            }
        ],
    ),
    # ConfigMaps: no strategy keys
    "cm smp data": (C.configmap(), SMP, {"data": {"flag": "off", "mode": None, "new": "1"}}),
    "cm merge data": (C.configmap(), MERGE, {"data": {"flag": "off", "mode": None}}),
    "cm json remove data key": (C.configmap(), JSONP, [{"op": "remove", "path": "/data/flag"}]),
    "cm json non-string value": (C.configmap(), JSONP, [{"op": "add", "path": "/data/n", "value": 1}]),
    "cm smp non-string value": (C.configmap(), SMP, {"data": {"n": 1}}),
    "cm merge labels int": (C.configmap(), MERGE, {"metadata": {"labels": {"n": 1}}}),
    "cm merge bad label": (C.configmap(), MERGE, {"metadata": {"labels": {"a b": "c"}}}),
    # CronJobs
    "cronjob merge suspend": (C.cronjob(), MERGE, {"spec": {"suspend": True}}),
    "cronjob smp job image": (
        C.cronjob(),
        SMP,
        {
            "spec": {
                "jobTemplate": {
                    "spec": {
                        "template": {
                            "spec": {
                                "containers": [{"name": "job", "image": "registry.example/shop/selfheal:2"}]
                            }
                        }
                    }
                }
            }
        },
    ),
    "cronjob merge bad schedule": (C.cronjob(), MERGE, {"spec": {"schedule": "every minute"}}),
    # Services: ports merge by port
    "svc smp port": (C.service(), SMP, {"spec": {"ports": [{"port": 80, "targetPort": 8081}]}}),
    "svc smp new port": (C.service(), SMP, {"spec": {"ports": [{"port": 81, "name": "alt"}]}}),
    # HPA and PDB
    "hpa merge bounds": (C.hpa(), MERGE, {"spec": {"minReplicas": 2, "maxReplicas": 10}}),
    "hpa merge min above max": (C.hpa(), MERGE, {"spec": {"minReplicas": 20}}),
    "pdb merge minAvailable": (C.pdb(min_available=1), MERGE, {"spec": {"minAvailable": "50%"}}),
    "pdb smp both": (C.pdb(min_available=1), SMP, {"spec": {"maxUnavailable": 1}}),
    # Lease (the job's lock)
    "lease merge holder": (C.lease(), MERGE, {"spec": {"holderIdentity": "run-2", "leaseTransitions": 1}}),
    "lease smp null holder": (C.lease(), SMP, {"spec": {"holderIdentity": None}}),
    "lease unknown content type": (C.lease(), "application/apply-patch+yaml", b"spec: {}"),
    "lease bad content type": (C.lease(), "text/plain", b"{}"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_patch(differential, case):
    obj, ctype, patch = CASES[case]
    d = differential()
    name = obj["metadata"]["name"]
    d.both(lambda w: w.http("POST", C.path_of(obj).format(ns=w.namespace), body=obj))
    if C.settled(obj) is not None:
        d.settle("settled", C.settled(obj))
    path = C.path_of(obj, name)

    def body(w):
        if isinstance(patch, bytes):
            return patch
        if isinstance(patch, list) and ctype == JSONP:
            current = w.get(path.format(ns=w.namespace))["metadata"]
            return [
                {
                    **op,
                    "value": current["uid"]
                    if op.get("value") == "<uid>"
                    else current["resourceVersion"]
                    if op.get("value") == "<rv>"
                    else op.get("value"),
                }
                if "value" in op
                else op
                for op in patch
            ]
        return patch

    d.http("dry-run", "PATCH", path, body=body, content_type=ctype, query={"dryRun": "All"})
    d.http("patch", "PATCH", path, body=body, content_type=ctype, query={"fieldManager": "differential"})
