"""The objects the differential tests create in both worlds: what the job's namespaces hold, written as a
user writes them (no defaults), so the server's defaulting shows.

Images are `registry.example/...`: the real cluster's kwok stages and the sandbox's kubelet both run them
as Healthy containers (tools/k8s/stages/README.md).
"""

from __future__ import annotations

import copy
from typing import Any

from tests.corpus import world as corpus_world

Obj = dict[str, Any]


def container(name: str = "app", image: str = "registry.example/shop/web:1", **extra: Any) -> Obj:
    return {"name": name, "image": image, **extra}


def rich_container(image: str = "registry.example/shop/web:1") -> Obj:
    """Every container field the job's workloads use: ports, probes, env (value, fieldRef, resourceFieldRef,
    configMapKeyRef), envFrom, resources, volume mounts, a security context."""
    return {
        "name": "app",
        "image": image,
        "args": ["--port=8080"],
        "ports": [{"name": "http", "containerPort": 8080}, {"name": "metrics", "containerPort": 9090}],
        "env": [
            {"name": "MODE", "value": "prod"},
            {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "CPU_LIMIT", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu"}}},
            {"name": "FLAG", "valueFrom": {"configMapKeyRef": {"name": "web-config", "key": "flag"}}},
        ],
        "envFrom": [{"configMapRef": {"name": "web-config"}}],
        "resources": {
            "requests": {"cpu": "250m", "memory": "512Mi"},
            "limits": {"cpu": "1", "memory": "1Gi"},
        },
        "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http"}, "initialDelaySeconds": 10},
        "readinessProbe": {"httpGet": {"port": 8080}, "periodSeconds": 5},
        "startupProbe": {"tcpSocket": {"port": 8080}, "failureThreshold": 30},
        "volumeMounts": [
            {"name": "config", "mountPath": "/etc/web"},
            {"name": "scratch", "mountPath": "/tmp"},
        ],
        "securityContext": {"runAsNonRoot": True, "allowPrivilegeEscalation": False},
    }


def pod_spec(*containers: Obj, **extra: Any) -> Obj:
    return {"containers": list(containers) or [container()], **extra}


def rich_pod_spec() -> Obj:
    return {
        "containers": [rich_container(), container("sidecar", "registry.example/shop/proxy:2")],
        "initContainers": [container("init", "registry.example/shop/init:1", command=["sh", "-c", "true"])],
        "volumes": [
            {"name": "config", "configMap": {"name": "web-config"}},
            {"name": "scratch", "emptyDir": {}},
            {"name": "token", "secret": {"secretName": "web-token", "optional": True}},
        ],
        "serviceAccountName": "default",
        "nodeSelector": {"kubernetes.io/os": "linux"},
    }


def configmap(name: str = "web-config", **data: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name},
        "data": data or {"flag": "on", "mode": "prod"},
    }


def secret(name: str = "web-token") -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name},
        "stringData": {"token": "s3cr3t"},
    }


def deployment(
    name: str = "web",
    *,
    replicas: int | None = 2,
    image: str = "registry.example/shop/web:1",
    rich: bool = False,
    labels: Obj | None = None,
    **spec: Any,
) -> Obj:
    sel = labels or {"app": name}
    pod = rich_pod_spec() if rich else pod_spec(container(image=image))
    if rich:
        pod["containers"][0]["image"] = image
    d: Obj = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "selector": {"matchLabels": sel},
            "template": {"metadata": {"labels": dict(sel)}, "spec": pod},
            **spec,
        },
    }
    if replicas is not None:
        d["spec"]["replicas"] = replicas
    return d


def pod(name: str = "debug", *, rich: bool = False, **meta: Any) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, **meta},
        "spec": rich_pod_spec() if rich else pod_spec(),
    }


def service(name: str = "web") -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {
            "selector": {"app": name},
            "ports": [{"name": "http", "port": 80, "targetPort": "http"}, {"name": "metrics", "port": 9090}],
        },
    }


def job_template(image: str = "registry.example/shop/selfheal:1") -> Obj:
    return {"template": {"spec": {"restartPolicy": "Never", "containers": [container("job", image)]}}}


def job(name: str = "once") -> Obj:
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name}, "spec": job_template()}


def cronjob(name: str = "self-heal") -> Obj:
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": name},
        # yearly: a real CronJob controller must not start a run during a test (the sandbox's clock is frozen)
        "spec": {"schedule": "0 3 1 1 *", "jobTemplate": {"spec": job_template()}},
    }


def hpa(name: str = "web") -> Obj:
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": name},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
            "maxReplicas": 6,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}},
                }
            ],
        },
    }


def pdb(
    name: str = "web", *, min_available: int | str | None = None, max_unavailable: int | str | None = None
) -> Obj:
    """A PodDisruptionBudget over app=<name>, as the incident corpus writes one."""
    return corpus_world.pdb(name, min_available=min_available, max_unavailable=max_unavailable)


def lease(name: str = "selfheal", holder: str = "run-1") -> Obj:
    return {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/managed-by": "selfheal"}},
        "spec": {
            "holderIdentity": holder,
            "leaseDurationSeconds": 60,
            "acquireTime": "2026-01-01T12:00:00.000000Z",
            "renewTime": "2026-01-01T12:00:00.000000Z",
            "leaseTransitions": 0,
        },
    }


PATHS = {
    "ConfigMap": "/api/v1/namespaces/{ns}/configmaps",
    "Secret": "/api/v1/namespaces/{ns}/secrets",
    "Pod": "/api/v1/namespaces/{ns}/pods",
    "Service": "/api/v1/namespaces/{ns}/services",
    "ServiceAccount": "/api/v1/namespaces/{ns}/serviceaccounts",
    "Event": "/api/v1/namespaces/{ns}/events",
    "Deployment": "/apis/apps/v1/namespaces/{ns}/deployments",
    "ReplicaSet": "/apis/apps/v1/namespaces/{ns}/replicasets",
    "Job": "/apis/batch/v1/namespaces/{ns}/jobs",
    "CronJob": "/apis/batch/v1/namespaces/{ns}/cronjobs",
    "HorizontalPodAutoscaler": "/apis/autoscaling/v2/namespaces/{ns}/horizontalpodautoscalers",
    "PodDisruptionBudget": "/apis/policy/v1/namespaces/{ns}/poddisruptionbudgets",
    "Lease": "/apis/coordination.k8s.io/v1/namespaces/{ns}/leases",
    "Role": "/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/roles",
    "RoleBinding": "/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/rolebindings",
}


def path_of(obj: Obj, name: str = "") -> str:
    p = PATHS[obj["kind"]]
    return f"{p}/{name}" if name else p


def copy_of(obj: Obj) -> Obj:
    return copy.deepcopy(obj)


# -- when a world's controllers are done with an object (World.settle predicates) ---------------------------


def rolled_out(name: str, replicas: int | None = None) -> Any:
    """The Deployment's rollout is complete: observed, every replica updated and available, no old pods."""

    def check(w: Any) -> bool:
        d = w.get(f"/apis/apps/v1/namespaces/{w.namespace}/deployments/{name}")
        st, want = d.get("status") or {}, d["spec"].get("replicas", 1) if replicas is None else replicas
        if st.get("observedGeneration", 0) < d["metadata"]["generation"]:
            return False
        if (st.get("updatedReplicas", 0), st.get("availableReplicas", 0), st.get("replicas", 0)) != (
            want,
        ) * 3:
            return False
        sel = ",".join(f"{k}={v}" for k, v in d["spec"]["selector"]["matchLabels"].items())
        pods = w.get(f"/api/v1/namespaces/{w.namespace}/pods", labelSelector=sel)["items"]
        return len(pods) == want and all(not p["metadata"].get("deletionTimestamp") for p in pods)

    return check


def pod_running(name: str) -> Any:
    def check(w: Any) -> bool:
        p = w.get(f"/api/v1/namespaces/{w.namespace}/pods/{name}")
        conds = {c["type"]: c["status"] for c in p.get("status", {}).get("conditions") or []}
        return p.get("status", {}).get("phase") == "Running" and conds.get("Ready") == "True"

    return check


def observed(kind: str, name: str) -> Any:
    """The object's controller has seen its current generation (status.observedGeneration)."""

    def check(w: Any) -> bool:
        o = w.get(f"{PATHS[kind].format(ns=w.namespace)}/{name}")
        return (o.get("status") or {}).get("observedGeneration", 0) >= o["metadata"].get("generation", 1)

    return check


def settled(obj: Obj) -> Any:
    """What to wait for after creating `obj` before its next write, so no controller races the comparison."""
    name = obj["metadata"]["name"]
    if obj["kind"] == "Deployment":
        return rolled_out(name)
    if obj["kind"] == "Pod":
        return pod_running(name)
    if obj["kind"] == "PodDisruptionBudget":
        return observed("PodDisruptionBudget", name)
    if obj["kind"] == "HorizontalPodAutoscaler":  # its controller reports a missing target in conditions
        return lambda w: (
            w.get(f"{PATHS['HorizontalPodAutoscaler'].format(ns=w.namespace)}/{name}").get("status") or {}
        ).get("conditions")
    return None
