"""A realistic ~7 KB pod, as a busy production namespace has them (managedFields, env, probes, status)."""

from __future__ import annotations

from typing import Any


def realistic_pod(i: int, namespace: str = "bench", owner_uid: str = "0000", rs: str = "web-7d9c8b6f5") -> dict[str, Any]:
    name = f"{rs}-{i:05d}"
    env = [{"name": f"SETTING_{k}", "value": f"value-{k}-{i}"} for k in range(12)]
    container = {
        "name": "web", "image": "registry.example/cpt-web:5.2.0", "imagePullPolicy": "IfNotPresent",
        "ports": [{"containerPort": 8080, "name": "http", "protocol": "TCP"}],
        "env": env,
        "resources": {"limits": {"cpu": "1", "memory": "512Mi"}, "requests": {"cpu": "250m", "memory": "256Mi"}},
        "livenessProbe": {"httpGet": {"path": "/healthz", "port": 8080, "scheme": "HTTP"}, "periodSeconds": 10,
                          "timeoutSeconds": 1, "successThreshold": 1, "failureThreshold": 3},
        "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080, "scheme": "HTTP"}, "periodSeconds": 5,
                           "timeoutSeconds": 1, "successThreshold": 1, "failureThreshold": 3},
        "volumeMounts": [{"name": "config", "mountPath": "/etc/cpt"},
                         {"name": "kube-api-access", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
                          "readOnly": True}],
        "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                            "runAsNonRoot": True, "capabilities": {"drop": ["ALL"]}},
    }
    t = "2026-01-01T11:00:00Z"
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {
            "name": name, "namespace": namespace, "generateName": f"{rs}-",
            "labels": {"app": "cpt-web", "pod-template-hash": rs.rsplit("-", 1)[-1], "tier": "frontend",
                       "app.kubernetes.io/part-of": "ea-plan-v5"},
            "annotations": {"kubectl.kubernetes.io/restartedAt": t, "prometheus.io/scrape": "true",
                            "prometheus.io/port": "8080"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs, "uid": owner_uid,
                                 "controller": True, "blockOwnerDeletion": True}],
            "managedFields": [{"manager": "kube-controller-manager", "operation": "Update", "apiVersion": "v1",
                               "time": t, "fieldsType": "FieldsV1",
                               "fieldsV1": {"f:metadata": {"f:generateName": {}, "f:labels": {".": {}, "f:app": {}}},
                                            "f:spec": {"f:containers": {'k:{"name":"web"}': {
                                                ".": {}, "f:env": {f'k:{{"name":"SETTING_{k}"}}': {}
                                                                   for k in range(12)}}}}}},
                              {"manager": "kubelet", "operation": "Update", "apiVersion": "v1", "time": t,
                               "fieldsType": "FieldsV1", "subresource": "status",
                               "fieldsV1": {"f:status": {"f:conditions": {}, "f:containerStatuses": {},
                                                         "f:podIP": {}, "f:startTime": {}}}}],
        },
        "spec": {
            "containers": [container],
            "volumes": [{"name": "config", "configMap": {"name": "cpt-web-config", "defaultMode": 420}},
                        {"name": "kube-api-access", "projected": {"defaultMode": 420, "sources": [
                            {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}}]}}],
            "restartPolicy": "Always", "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst",
            "serviceAccountName": "default", "serviceAccount": "default", "nodeName": f"node-{i % 40}",
            "securityContext": {"runAsUser": 10001, "fsGroup": 10001}, "schedulerName": "default-scheduler",
            "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute",
                             "tolerationSeconds": 300}],
            "priority": 0, "enableServiceLinks": True, "preemptionPolicy": "PreemptLowerPriority",
        },
        "status": {
            "phase": "Running", "hostIP": "10.0.0.1", "podIP": f"10.244.{i // 250}.{i % 250}", "startTime": t,
            "qosClass": "Burstable",
            "conditions": [{"type": c, "status": "True", "lastProbeTime": None, "lastTransitionTime": t}
                           for c in ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady",
                                     "PodScheduled")],
            "containerStatuses": [{"name": "web", "ready": True, "restartCount": 0, "started": True,
                                   "image": "registry.example/cpt-web:5.2.0",
                                   "imageID": "registry.example/cpt-web@sha256:" + "ab" * 32,
                                   "containerID": "containerd://" + f"{i:064x}",
                                   "state": {"running": {"startedAt": t}}, "lastState": {}}],
        },
    }
