"""A realistic busy namespace: Deployments → ReplicaSets → ~7 KB pods, as `kubectl get -o json` shows them.

Every object is shaped like the API server stores it (defaults filled in, managedFields, status), and the
objects are consistent with one another, so the healing pass does the work it does on a real cluster:
pods point at their ReplicaSet by uid, ReplicaSets at their Deployment, labels match selectors, the
Deployment's template is its newest ReplicaSet's template minus `pod-template-hash`, the recorded
`selfheal.dev/config-hash` and `selfheal.dev/config-checksum` are the real hashes (no false drift), and
an older revision exists (so escalations have a rollback target). A handful of pods crash-loop, so the
pass detects, plans and sends (dry-run) evictions rather than finding nothing.

Pods are ~7 KB, as production pods with a sidecar are: two containers with env vars, probes, security
contexts and mounts, a projected service-account volume, tolerations, managedFields of two managers,
conditions and two container statuses.
"""

from __future__ import annotations

import functools
import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

Obj = dict[str, Any]

NAMESPACE = "bench-20k"
CRONJOB = "self-heal-cpt"
_UID_NS = uuid.UUID("8d1c5f5e-1f43-4c1e-9a55-0b6a3c3e2f10")
_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # k8s.io/apimachinery/pkg/util/rand, as real pod names use


@dataclass(frozen=True)
class App:
    """One Deployment of the namespace and how its pods are doing."""

    name: str
    pods: int
    crash_loops: int = 0  # application errors: restart candidates
    oom_kills: int = 0  # OOMKilled: findings whose restart is refused
    hpa: tuple[int, int] | None = None  # (minReplicas, maxReplicas)
    pdb: bool = False


def apps_for(total_pods: int) -> tuple[App, ...]:
    """Eight Deployments sharing `total_pods`; four crash-looping pods and one OOM-killed pod in all."""
    names = (
        "cpt-web",
        "cpt-api",
        "cpt-worker",
        "cpt-scheduler",
        "cpt-gateway",
        "cpt-search",
        "cpt-reports",
        "cpt-notify",
    )
    share, extra = divmod(total_pods, len(names))
    sizes = [share + (1 if i < extra else 0) for i in range(len(names))]
    return (
        App(names[0], sizes[0], hpa=(max(1, sizes[0] * 4 // 5), sizes[0] * 6 // 5 + 1), pdb=True),
        App(names[1], sizes[1], oom_kills=min(1, sizes[1]), pdb=True),
        App(names[2], sizes[2], crash_loops=min(4, sizes[2])),
        *(App(n, s) for n, s in zip(names[3:], sizes[3:], strict=True)),
    )


def ts(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def uid(kind: str, name: str) -> str:
    return str(uuid.uuid5(_UID_NS, f"{kind}/{name}"))


def _suffix(n: int, length: int) -> str:
    out = []
    for _ in range(length):
        n, r = divmod(n, len(_ALPHABET))
        out.append(_ALPHABET[r])
    return "".join(out)


def _image(app: str, version: str) -> str:
    return f"registry.example/{app}:{version}"


# --- templates ----------------------------------------------------------------------------------------


def _env(app: str) -> list[Obj]:
    env: list[Obj] = [
        {"name": f"{app.upper().replace('-', '_')}_SETTING_{k}", "value": f"value-{k}"} for k in range(7)
    ]
    env.append(
        {"name": "POD_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}}
    )
    env.append(
        {"name": "POD_IP", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "status.podIP"}}}
    )
    return env


def _probe(path: str, period: int) -> Obj:
    return {
        "httpGet": {"path": path, "port": 8080, "scheme": "HTTP"},
        "periodSeconds": period,
        "timeoutSeconds": 1,
        "successThreshold": 1,
        "failureThreshold": 3,
    }


# What the ServiceAccount admission plugin adds to every pod (never to the Deployment's template).
_SA_VOLUME = {
    "name": "kube-api-access",
    "projected": {
        "defaultMode": 420,
        "sources": [
            {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
            {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
            {
                "downwardAPI": {
                    "items": [
                        {
                            "path": "namespace",
                            "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"},
                        }
                    ]
                }
            },
        ],
    },
}
_SA_MOUNT = {
    "name": "kube-api-access",
    "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
    "readOnly": True,
}
_SECURITY = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "runAsNonRoot": True,
    "capabilities": {"drop": ["ALL"]},
}
_DEFAULTED = {
    "terminationMessagePath": "/dev/termination-log",
    "terminationMessagePolicy": "File",
    "imagePullPolicy": "IfNotPresent",
}


def template(app: str, version: str, checksum: str, *, restarted_at: str) -> Obj:
    """The pod template as the API server stores it in a Deployment (defaults filled in)."""
    return {
        "metadata": {
            "creationTimestamp": None,
            "labels": {
                "app": app,
                "tier": "backend",
                "app.kubernetes.io/name": app,
                "app.kubernetes.io/part-of": "ea-plan-v5",
            },
            "annotations": {
                "kubectl.kubernetes.io/restartedAt": restarted_at,
                "prometheus.io/scrape": "true",
                "prometheus.io/port": "8080",
                "kubectl.kubernetes.io/default-container": "app",
                "selfheal.dev/config-checksum": checksum,
            },
        },
        "spec": {
            "containers": [
                {
                    "name": "app",
                    "image": _image(app, version),
                    "ports": [
                        {"containerPort": 8080, "name": "http", "protocol": "TCP"},
                        {"containerPort": 9090, "name": "metrics", "protocol": "TCP"},
                    ],
                    "env": _env(app),
                    "resources": {
                        "limits": {"cpu": "1", "memory": "512Mi"},
                        "requests": {"cpu": "250m", "memory": "256Mi"},
                    },
                    "livenessProbe": _probe("/healthz", 10),
                    "readinessProbe": _probe("/ready", 5),
                    "volumeMounts": [
                        {"name": "config", "mountPath": "/etc/cpt"},
                        {"name": "work", "mountPath": "/work"},
                    ],
                    "securityContext": _SECURITY,
                    **_DEFAULTED,
                },
                {
                    "name": "log-shipper",
                    "image": "registry.example/fluent-bit:3.1.4",
                    "args": ["--config=/fluent-bit/etc/fluent-bit.conf"],
                    "env": [
                        {"name": "APP", "value": app},
                        {
                            "name": "NODE_NAME",
                            "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "spec.nodeName"}},
                        },
                    ],
                    "resources": {
                        "limits": {"cpu": "200m", "memory": "128Mi"},
                        "requests": {"cpu": "20m", "memory": "32Mi"},
                    },
                    "livenessProbe": _probe("/api/v1/health", 30),
                    "readinessProbe": _probe("/api/v1/health", 10),
                    "volumeMounts": [{"name": "work", "mountPath": "/work", "readOnly": True}],
                    "securityContext": _SECURITY,
                    **_DEFAULTED,
                },
            ],
            "volumes": [
                {"name": "config", "configMap": {"name": f"{app}-config", "defaultMode": 420}},
                {"name": "work", "emptyDir": {"sizeLimit": "64Mi"}},
            ],
            "restartPolicy": "Always",
            "terminationGracePeriodSeconds": 30,
            "dnsPolicy": "ClusterFirst",
            "serviceAccountName": "default",
            "securityContext": {"runAsUser": 10001, "fsGroup": 10001},
            "schedulerName": "default-scheduler",
            "topologySpreadConstraints": [
                {
                    "maxSkew": 1,
                    "topologyKey": "topology.kubernetes.io/zone",
                    "whenUnsatisfiable": "ScheduleAnyway",
                    "labelSelector": {"matchLabels": {"app": app}},
                }
            ],
        },
    }


def pod_template_hash(tmpl: Obj) -> str:
    """A stable 10-character hash in the alphabet real `pod-template-hash` labels use."""
    digest = int.from_bytes(hashlib.sha256(json.dumps(tmpl, sort_keys=True).encode()).digest()[:8], "big")
    return _suffix(digest, 10)


def _with_hash(tmpl: Obj, h: str) -> Obj:
    out = json.loads(json.dumps(tmpl))
    out["metadata"]["labels"]["pod-template-hash"] = h
    return out


# --- pods -----------------------------------------------------------------------------------------------


def _managed_fields(t: str, containers: list[str]) -> list[Obj]:
    spec_containers: Obj = {
        f'k:{{"name":"{c}"}}': {
            ".": {},
            "f:image": {},
            "f:imagePullPolicy": {},
            "f:name": {},
            "f:resources": {".": {}, "f:limits": {}, "f:requests": {}},
            "f:securityContext": {},
            "f:volumeMounts": {},
        }
        for c in containers
    }
    return [
        {
            "manager": "kube-controller-manager",
            "operation": "Update",
            "apiVersion": "v1",
            "time": t,
            "fieldsType": "FieldsV1",
            "fieldsV1": {
                "f:metadata": {
                    "f:annotations": {
                        ".": {},
                        "f:kubectl.kubernetes.io/restartedAt": {},
                        "f:prometheus.io/port": {},
                        "f:prometheus.io/scrape": {},
                    },
                    "f:generateName": {},
                    "f:labels": {".": {}, "f:app": {}, "f:pod-template-hash": {}, "f:tier": {}},
                    "f:ownerReferences": {".": {}},
                },
                "f:spec": {
                    "f:containers": spec_containers,
                    "f:dnsPolicy": {},
                    "f:restartPolicy": {},
                    "f:securityContext": {},
                    "f:volumes": {},
                },
            },
        },
        {
            "manager": "kubelet",
            "operation": "Update",
            "apiVersion": "v1",
            "time": t,
            "fieldsType": "FieldsV1",
            "subresource": "status",
            "fieldsV1": {
                "f:status": {
                    "f:conditions": {},
                    "f:containerStatuses": {},
                    "f:hostIP": {},
                    "f:phase": {},
                    "f:podIP": {},
                    "f:podIPs": {},
                    "f:startTime": {},
                }
            },
        },
    ]


def _failing(status: Obj, pod: str, t: str, *, reason: str, code: int) -> Obj:
    return {
        **status,
        "ready": False,
        "started": False,
        "restartCount": 7,
        "state": {
            "waiting": {
                "reason": "CrashLoopBackOff",
                "message": f"back-off 5m0s restarting failed container=app pod={pod}",
            }
        },
        "lastState": {
            "terminated": {
                "exitCode": code,
                "reason": reason,
                "startedAt": t,
                "finishedAt": t,
                "containerID": status["containerID"],
            }
        },
    }


@functools.lru_cache(maxsize=64)
def _image_id(image: str) -> str:
    return image.split(":")[0] + "@sha256:" + hashlib.sha256(image.encode()).hexdigest()


@dataclass(frozen=True)
class PodParts:
    """What every pod of one ReplicaSet shares, built once (the Store deep-copies what it loads)."""

    rs: str
    rs_uid: str
    created: str
    meta: Obj
    spec: Obj
    managed: list[Obj]
    conditions: list[list[Obj]]  # [healthy, failing]


def pod_parts(rs: str, tmpl_hashed: Obj, created: datetime) -> PodParts:
    tmpl, t = tmpl_hashed, ts(created)
    containers = [
        {**c, "volumeMounts": [*c.get("volumeMounts", []), _SA_MOUNT]} for c in tmpl["spec"]["containers"]
    ]
    spec = {
        **tmpl["spec"],
        "containers": containers,
        "volumes": [*tmpl["spec"]["volumes"], _SA_VOLUME],
        "serviceAccount": "default",
        "priority": 0,
        "enableServiceLinks": True,
        "preemptionPolicy": "PreemptLowerPriority",
        "tolerations": [
            {"key": k, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
            for k in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable")
        ],
    }
    managed = _managed_fields(t, [c["name"] for c in spec["containers"]])
    conditions = [
        [
            {
                "type": c,
                "status": ready if c in ("Ready", "ContainersReady") else "True",
                "lastProbeTime": None,
                "lastTransitionTime": t,
            }
            for c in ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled")
        ]
        for ready in ("True", "False")
    ]
    return PodParts(rs, uid("ReplicaSet", rs), t, tmpl["metadata"], spec, managed, conditions)


def pod(i: int, parts: PodParts, *, failure: str = "") -> Obj:
    """Pod `i` of ReplicaSet `parts.rs`; `failure` is "", "Error" or "OOMKilled"."""
    rs, t, spec = parts.rs, parts.created, parts.spec
    name = f"{rs}-{_suffix(i * 7919 + 12345, 5)}"
    statuses = [
        {
            "name": c["name"],
            "ready": True,
            "restartCount": 0,
            "started": True,
            "image": c["image"],
            "imageID": _image_id(c["image"]),
            "containerID": "containerd://" + hashlib.sha256(f"{c['name']}{i}".encode()).hexdigest(),
            "state": {"running": {"startedAt": t}},
            "lastState": {},
        }
        for c in spec["containers"]
    ]
    if failure:
        statuses[0] = _failing(
            statuses[0], name, t, reason=failure, code=137 if failure == "OOMKilled" else 1
        )
    node = i % 40
    pod_ip = f"10.244.{i // 250}.{i % 250 + 2}"
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "generateName": f"{rs}-",
            "namespace": NAMESPACE,
            "uid": uid("Pod", name),
            "creationTimestamp": t,
            "labels": parts.meta["labels"],
            "annotations": parts.meta["annotations"],
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "name": rs,
                    "uid": parts.rs_uid,
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
            "managedFields": parts.managed,
        },
        "spec": {**spec, "nodeName": f"node-{node:02d}"},
        "status": {
            "phase": "Running",
            "hostIP": f"10.0.{node}.1",
            "hostIPs": [{"ip": f"10.0.{node}.1"}],
            "podIP": pod_ip,
            "podIPs": [{"ip": pod_ip}],
            "startTime": t,
            "qosClass": "Burstable",
            "conditions": parts.conditions[1 if failure else 0],
            "containerStatuses": statuses,
        },
    }


def realistic_pod(i: int) -> Obj:
    """One healthy pod, standalone (its owner is not in any store): for size figures."""
    now = datetime.now(UTC)
    tmpl = template("cpt-web", "5.2.0", "sha256:" + "0" * 64, restarted_at=ts(now))
    h = pod_template_hash(tmpl)
    return pod(i, pod_parts(f"cpt-web-{h}", _with_hash(tmpl, h), now))


# --- the namespace ----------------------------------------------------------------------------------------


def _conditions(available: bool, t: str, rs: str) -> list[Obj]:
    return [
        {
            "type": "Available",
            "status": "True" if available else "False",
            "reason": "MinimumReplicasAvailable",
            "message": "Deployment has minimum availability.",
            "lastUpdateTime": t,
            "lastTransitionTime": t,
        },
        {
            "type": "Progressing",
            "status": "True",
            "reason": "NewReplicaSetAvailable",
            "message": f'ReplicaSet "{rs}" has successfully progressed.',
            "lastUpdateTime": t,
            "lastTransitionTime": t,
        },
    ]


def _configmap(app: str, t: str) -> Obj:
    data = {"app.yaml": f"name: {app}\nlog_level: info\nworkers: 8\n", "features": "search,reports,notify"}
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": f"{app}-config",
            "namespace": NAMESPACE,
            "uid": uid("ConfigMap", app),
            "creationTimestamp": t,
            "labels": {"app": app},
        },
        "data": data,
    }


def namespace_objects(total_pods: int, now: datetime | None = None) -> list[Obj]:
    """Every object of the namespace except the Namespace itself: workloads, then pods."""
    from selfheal.confighash import combined_checksum, config_hash, configmap_checksum

    now = now or datetime.now(UTC)
    long_ago, rolled, started = (
        ts(now - timedelta(days=30)),
        ts(now - timedelta(days=3)),
        now - timedelta(days=2),
    )
    objects: list[Obj] = []
    pods: list[Obj] = []
    first = 0
    for app in apps_for(total_pods):
        cm = _configmap(app.name, long_ago)
        checksum = combined_checksum({cm["metadata"]["name"]: configmap_checksum(cm["data"], None)})
        live = template(app.name, "5.2.0", checksum, restarted_at=rolled)
        old = template(app.name, "5.1.3", checksum, restarted_at=rolled)
        new_hash, old_hash = pod_template_hash(live), pod_template_hash(old)
        dep_uid = uid("Deployment", app.name)
        failing = app.crash_loops + app.oom_kills
        ready = app.pods - failing
        selector = {"matchLabels": {"app": app.name}}
        manifest = {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {
                "name": app.name,
                "namespace": NAMESPACE,
                "annotations": {"selfheal.dev/config-hash": config_hash(live)},
            },
            "spec": {"replicas": app.pods, "selector": selector, "template": live},
        }
        objects.append(cm)
        objects.append(
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {
                    "name": app.name,
                    "namespace": NAMESPACE,
                    "uid": dep_uid,
                    "generation": 3,
                    "creationTimestamp": long_ago,
                    "labels": {"app": app.name},
                    "annotations": {
                        "deployment.kubernetes.io/revision": "2",
                        "selfheal.dev/config-hash": config_hash(live),
                        "kubectl.kubernetes.io/last-applied-configuration": json.dumps(
                            manifest, separators=(",", ":")
                        )
                        + "\n",
                    },
                },
                "spec": {
                    "replicas": app.pods,
                    "selector": selector,
                    "template": live,
                    "strategy": {
                        "type": "RollingUpdate",
                        "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"},
                    },
                    "revisionHistoryLimit": 10,
                    "progressDeadlineSeconds": 600,
                },
                "status": {
                    "observedGeneration": 3,
                    "replicas": app.pods,
                    "updatedReplicas": app.pods,
                    "readyReplicas": ready,
                    "availableReplicas": ready,
                    **({"unavailableReplicas": failing} if failing else {}),
                    "conditions": _conditions(True, rolled, f"{app.name}-{new_hash}"),
                },
            }
        )
        for revision, h, tmpl, replicas in ((1, old_hash, old, 0), (2, new_hash, live, app.pods)):
            rs = f"{app.name}-{h}"
            objects.append(
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "metadata": {
                        "name": rs,
                        "namespace": NAMESPACE,
                        "uid": uid("ReplicaSet", rs),
                        "generation": 1,
                        "creationTimestamp": long_ago if revision == 1 else rolled,
                        "labels": {**tmpl["metadata"]["labels"], "pod-template-hash": h},
                        "annotations": {
                            "deployment.kubernetes.io/desired-replicas": str(app.pods),
                            "deployment.kubernetes.io/max-replicas": str(app.pods + app.pods // 4),
                            "deployment.kubernetes.io/revision": str(revision),
                        },
                        "ownerReferences": [
                            {
                                "apiVersion": "apps/v1",
                                "kind": "Deployment",
                                "name": app.name,
                                "uid": dep_uid,
                                "controller": True,
                                "blockOwnerDeletion": True,
                            }
                        ],
                    },
                    "spec": {
                        "replicas": replicas,
                        "selector": {"matchLabels": {"app": app.name, "pod-template-hash": h}},
                        "template": _with_hash(tmpl, h),
                    },
                    "status": {
                        "replicas": replicas,
                        "fullyLabeledReplicas": replicas,
                        "observedGeneration": 1,
                        **(
                            {"readyReplicas": replicas - failing, "availableReplicas": replicas - failing}
                            if replicas
                            else {}
                        ),
                    },
                }
            )
        parts = pod_parts(f"{app.name}-{new_hash}", _with_hash(live, new_hash), started)
        for k in range(app.pods):
            failure = "Error" if k < app.crash_loops else "OOMKilled" if k < failing else ""
            pods.append(pod(first + k, parts, failure=failure))
        first += app.pods
        if app.hpa is not None:
            lo, hi = app.hpa
            objects.append(
                {
                    "apiVersion": "autoscaling/v2",
                    "kind": "HorizontalPodAutoscaler",
                    "metadata": {
                        "name": app.name,
                        "namespace": NAMESPACE,
                        "uid": uid("HPA", app.name),
                        "creationTimestamp": long_ago,
                    },
                    "spec": {
                        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": app.name},
                        "minReplicas": lo,
                        "maxReplicas": hi,
                        "metrics": [
                            {
                                "type": "Resource",
                                "resource": {
                                    "name": "cpu",
                                    "target": {"type": "Utilization", "averageUtilization": 70},
                                },
                            }
                        ],
                    },
                    "status": {
                        "currentReplicas": app.pods,
                        "desiredReplicas": app.pods,
                        "currentMetrics": [
                            {
                                "type": "Resource",
                                "resource": {
                                    "name": "cpu",
                                    "current": {"averageUtilization": 41, "averageValue": "102m"},
                                },
                            }
                        ],
                        "conditions": [
                            {
                                "type": "AbleToScale",
                                "status": "True",
                                "reason": "ReadyForNewScale",
                                "lastTransitionTime": long_ago,
                            }
                        ],
                    },
                }
            )
        if app.pdb:
            objects.append(
                {
                    "apiVersion": "policy/v1",
                    "kind": "PodDisruptionBudget",
                    "metadata": {
                        "name": app.name,
                        "namespace": NAMESPACE,
                        "uid": uid("PDB", app.name),
                        "generation": 1,
                        "creationTimestamp": long_ago,
                    },
                    "spec": {"minAvailable": "90%", "selector": selector},
                    "status": {
                        "observedGeneration": 1,
                        "currentHealthy": ready,
                        "desiredHealthy": -(-app.pods * 9 // 10),
                        "disruptionsAllowed": max(0, ready - -(-app.pods * 9 // 10)),
                        "expectedPods": app.pods,
                    },
                }
            )
    objects.append(
        {  # every namespace has it (the root CA publisher); the pods' projected volume reads it
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": "kube-root-ca.crt",
                "namespace": NAMESPACE,
                "uid": uid("ConfigMap", "kube-root-ca.crt"),
                "creationTimestamp": long_ago,
                "annotations": {
                    "kubernetes.io/description": "Contains a CA bundle that can be used to verify "
                    "the kube-apiserver when using internal endpoints such as the internal service "
                    "IP or kubernetes.default.svc. No other usage is guaranteed across "
                    "distributions of Kubernetes clusters."
                },
            },
            "data": {
                "ca.crt": "-----BEGIN CERTIFICATE-----\n"
                + "MIIBdzCCAR2gAwIBAgIBADAKBggqhkjOPQQDAjAjMSEwHwYDVQQDDBhr\n" * 16
                + "-----END CERTIFICATE-----\n"
            },
        }
    )
    objects.append(
        {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": {
                "name": CRONJOB,
                "namespace": NAMESPACE,
                "uid": uid("CronJob", CRONJOB),
                "generation": 1,
                "creationTimestamp": long_ago,
            },
            "spec": {
                "schedule": "*/5 * * * *",
                "concurrencyPolicy": "Forbid",
                "suspend": False,
                "successfulJobsHistoryLimit": 3,
                "failedJobsHistoryLimit": 1,
                "jobTemplate": {
                    "metadata": {"creationTimestamp": None},
                    "spec": {
                        "backoffLimit": 0,
                        "template": {
                            "metadata": {"creationTimestamp": None},
                            "spec": {
                                "serviceAccountName": "selfheal",
                                "restartPolicy": "Never",
                                "containers": [
                                    {
                                        "name": "selfheal",
                                        "image": "registry.example/selfheal:1.0.0",
                                        "args": ["run"],
                                        **_DEFAULTED,
                                    }
                                ],
                            },
                        },
                    },
                },
            },
            "status": {},
        }
    )
    return objects + pods


def expected_findings(total_pods: int) -> dict[str, int]:
    """What a pass over `namespace_objects(total_pods)` must find (a sanity check of the benchmark)."""
    apps = apps_for(total_pods)
    return {
        "crashloop": sum(a.crash_loops + a.oom_kills for a in apps),
        "restartable": sum(a.crash_loops for a in apps),
    }
