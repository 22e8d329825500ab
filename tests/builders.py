"""Story builders: Kubernetes objects as the API server returns them, decoded through the real model.

    rs = make_replicaset(dep, revision=2)
    pod = make_pod("web-2-a", owner=rs, restarts=9, waiting="CrashLoopBackOff", last_terminated=("Error", 1))
    snap = snapshot_of(dep, rs, pod)

Every builder produces the API's JSON (camelCase, server defaults applied to pod templates) and decodes
it with `selfheal.snapshot.decode_page`, so tests exercise the same decoding as a real pass.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from selfheal.confighash import configmap_checksum
from selfheal.findings import HistoryEntry
from selfheal.kube.model import (
    ANN_REVISION,
    ConfigMap,
    CronJob,
    Deployment,
    HorizontalPodAutoscaler,
    Pod,
    PodDisruptionBudget,
    ReplicaSet,
)
from selfheal.snapshot.decode import decode_page
from selfheal.view import CanarySignals, Snapshot

NS = "shop"
NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
LONG_AGO = NOW - timedelta(days=3)


def ts(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def uid_of(kind: str, name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{NS}/{kind}/{name}"))


def _decode(kind: str, obj: Mapping[str, Any]) -> Any:
    return decode_page(kind, msgspec.json.encode({"items": [obj]})).items[0]


def _meta(kind: str, name: str, *, annotations: Mapping[str, str] | None = None,
          labels: Mapping[str, str] | None = None, created: datetime = LONG_AGO, generation: int | None = None,
          owner: tuple[str, str, str] | None = None, deleting: bool = False, rv: str = "1") -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": NS, "uid": uid_of(kind, name), "resourceVersion": rv,
                            "creationTimestamp": ts(created)}
    if generation is not None:
        meta["generation"] = generation
    if labels:
        meta["labels"] = dict(labels)
    if annotations:
        meta["annotations"] = dict(annotations)
    if owner is not None:
        okind, oname, ouid = owner
        api = "apps/v1" if okind in ("Deployment", "ReplicaSet", "DaemonSet", "StatefulSet") else "v1"
        meta["ownerReferences"] = [{"apiVersion": api, "kind": okind, "name": oname, "uid": ouid,
                                    "controller": True, "blockOwnerDeletion": True}]
    if deleting:
        meta["deletionTimestamp"] = ts(NOW - timedelta(seconds=5))
    return meta


# --- pod templates ---------------------------------------------------------------------------------------


def make_container(name: str = "web", image: str = "registry.example/shop/web:1.0", *, probes: bool = True,
                   env_from_configmap: str | None = None, port: int = 8080) -> dict[str, Any]:
    c: dict[str, Any] = {"name": name, "image": image, "ports": [{"containerPort": port, "name": "http"}]}
    if probes:
        c["livenessProbe"] = {"httpGet": {"path": "/healthz", "port": "http"}}
        c["readinessProbe"] = {"httpGet": {"path": "/ready", "port": "http"}, "periodSeconds": 5}
    if env_from_configmap:
        c["envFrom"] = [{"configMapRef": {"name": env_from_configmap}}]
    return c


def make_template(app: str = "web", *, image: str = "registry.example/shop/web:1.0", probes: bool = True,
                  containers: Sequence[dict[str, Any]] | None = None, annotations: Mapping[str, str] | None = None,
                  configmap_volume: str | None = None, env_from_configmap: str | None = None) -> dict[str, Any]:
    """A pod template as a user writes it in a manifest (no server defaults)."""
    spec: dict[str, Any] = {"containers": list(containers) if containers is not None else [
        make_container(app, image, probes=probes, env_from_configmap=env_from_configmap)]}
    if configmap_volume:
        spec["volumes"] = [{"name": "config", "configMap": {"name": configmap_volume}}]
        spec["containers"][0]["volumeMounts"] = [{"name": "config", "mountPath": "/etc/app"}]
    meta: dict[str, Any] = {"labels": {"app": app}}
    if annotations:
        meta["annotations"] = dict(annotations)
    return {"metadata": meta, "spec": spec}


def served(template: Mapping[str, Any]) -> dict[str, Any]:
    """The template as the API server returns it: defaults filled in (core/v1 defaults.go)."""
    t = copy.deepcopy(dict(template))
    t.setdefault("metadata", {})["creationTimestamp"] = None
    spec = t.setdefault("spec", {})
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    for c in spec.get("initContainers", []) + spec.get("containers", []):
        image = c.get("image", "")
        latest = "@" not in image and (":" not in image.rsplit("/", 1)[-1] or image.endswith(":latest"))
        c.setdefault("imagePullPolicy", "Always" if latest else "IfNotPresent")
        c.setdefault("terminationMessagePath", "/dev/termination-log")
        c.setdefault("terminationMessagePolicy", "File")
        c.setdefault("resources", {})
        for p in c.get("ports", []):
            p.setdefault("protocol", "TCP")
        for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
            if probe in c:
                for k, v in (("timeoutSeconds", 1), ("periodSeconds", 10), ("successThreshold", 1),
                             ("failureThreshold", 3)):
                    c[probe].setdefault(k, v)
                if "httpGet" in c[probe]:
                    c[probe]["httpGet"].setdefault("scheme", "HTTP")
    for v in spec.get("volumes", []):
        if "configMap" in v:
            v["configMap"].setdefault("defaultMode", 420)
    return t


# --- workloads --------------------------------------------------------------------------------------------


def make_deployment(
    name: str = "web",
    *,
    replicas: int = 3,
    image: str = "registry.example/shop/web:1.0",
    template: Mapping[str, Any] | None = None,
    revision: int | None = 1,
    annotations: Mapping[str, str] | None = None,
    paused: bool = False,
    available: int | None = None,
    updated: int | None = None,
    progressing: str = "NewReplicaSetAvailable",
    available_since: datetime | None = None,
    generation: int = 1,
    observed_generation: int | None = None,
    progress_deadline: int = 600,
    probes: bool = True,
    last_applied: Mapping[str, Any] | None = None,
    created: datetime = LONG_AGO,
) -> Deployment:
    tmpl = served(template if template is not None else make_template(name, image=image, probes=probes))
    ann = dict(annotations or {})
    if revision is not None:
        ann.setdefault(ANN_REVISION, str(revision))
    if last_applied is not None:
        ann["kubectl.kubernetes.io/last-applied-configuration"] = json.dumps(last_applied)
    avail = replicas if available is None else available
    conditions = [
        {"type": "Available", "status": "True" if avail >= replicas else "False",
         "reason": "MinimumReplicasAvailable" if avail >= replicas else "MinimumReplicasUnavailable",
         "lastUpdateTime": ts(available_since or LONG_AGO), "lastTransitionTime": ts(available_since or LONG_AGO)},
        {"type": "Progressing", "status": "False" if progressing == "ProgressDeadlineExceeded" else "True",
         "reason": progressing, "lastUpdateTime": ts(LONG_AGO), "lastTransitionTime": ts(LONG_AGO)},
    ]
    obj = {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": _meta("Deployment", name, annotations=ann, labels={"app": name}, generation=generation,
                          created=created),
        "spec": {"replicas": replicas, "paused": paused, "progressDeadlineSeconds": progress_deadline,
                 "selector": {"matchLabels": tmpl["metadata"].get("labels", {})}, "template": tmpl},
        "status": {"observedGeneration": generation if observed_generation is None else observed_generation,
                   "replicas": replicas, "updatedReplicas": replicas if updated is None else updated,
                   "readyReplicas": avail, "availableReplicas": avail,
                   "unavailableReplicas": max(0, replicas - avail), "conditions": conditions},
    }
    if not paused:
        del obj["spec"]["paused"]
    return _decode("deployments", obj)


def make_replicaset(
    deployment: Deployment,
    *,
    revision: int = 1,
    template: Mapping[str, Any] | None = None,
    image: str | None = None,
    replicas: int | None = None,
    available: int | None = None,
    created: datetime = LONG_AGO,
    extra_annotations: Mapping[str, str] | None = None,
) -> ReplicaSet:
    """A ReplicaSet of `deployment`. By default its template IS the deployment's (the current revision);
    pass `image=` or `template=` for an older/newer revision. Annotations are copied from the
    Deployment as the Deployment controller does (minus its skip list), with this revision."""
    tmpl = copy.deepcopy(served(template)) if template is not None else deployment.template_doc()
    if image is not None:
        tmpl["spec"]["containers"][0]["image"] = image
    pth = uuid.uuid5(uuid.NAMESPACE_URL, json.dumps(tmpl, sort_keys=True)).hex[:10]
    tmpl["metadata"].setdefault("labels", {})["pod-template-hash"] = pth
    name = f"{deployment.metadata.name}-{pth}"
    skip = {"kubectl.kubernetes.io/last-applied-configuration", ANN_REVISION,
            "deployment.kubernetes.io/revision-history", "deployment.kubernetes.io/desired-replicas",
            "deployment.kubernetes.io/max-replicas"}
    ann = {k: v for k, v in deployment.metadata.annotations.items() if k not in skip}
    ann.update({ANN_REVISION: str(revision), "deployment.kubernetes.io/desired-replicas": str(deployment.spec.replicas)})
    ann.update(extra_annotations or {})
    reps = deployment.spec.replicas if replicas is None else replicas
    obj = {
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": _meta("ReplicaSet", name, annotations=ann, labels=tmpl["metadata"]["labels"], created=created,
                          owner=("Deployment", deployment.metadata.name, deployment.metadata.uid)),
        "spec": {"replicas": reps, "selector": {"matchLabels": tmpl["metadata"]["labels"]}, "template": tmpl},
        "status": {"replicas": reps, "readyReplicas": reps if available is None else available,
                   "availableReplicas": reps if available is None else available},
    }
    return _decode("replicasets", obj)


def make_pod(
    name: str = "web-abc12",
    *,
    owner: ReplicaSet | tuple[str, str] | None = None,
    restarts: int = 0,
    waiting: str | None = None,
    last_terminated: tuple[str, int] | None = None,
    init: bool = False,
    container: str = "web",
    ready: bool | None = None,
    ready_since: datetime = LONG_AGO,
    created: datetime = LONG_AGO,
    deleting: bool = False,
    annotations: Mapping[str, str] | None = None,
) -> Pod:
    """A pod; `owner` is a ReplicaSet, or (kind, name) for any other controller (DaemonSet, Node, ...)."""
    owner_ref = None
    if isinstance(owner, ReplicaSet):
        owner_ref = ("ReplicaSet", owner.metadata.name, owner.metadata.uid)
    elif owner is not None:
        owner_ref = (owner[0], owner[1], uid_of(owner[0], owner[1]))
    failing = waiting is not None
    is_ready = (not failing) if ready is None else ready
    status: dict[str, Any] = {"name": container, "image": "registry.example/shop/web:1.0", "ready": is_ready,
                              "restartCount": restarts}
    status["state"] = {"waiting": {"reason": waiting, "message": "back-off"}} if waiting else \
        {"running": {"startedAt": ts(created)}}
    if last_terminated is not None:
        reason, code = last_terminated
        status["lastState"] = {"terminated": {"reason": reason, "exitCode": code, "finishedAt": ts(NOW)}}
    statuses: dict[str, Any] = {}
    if init:
        statuses["initContainerStatuses"] = [{**status, "name": f"init-{container}"}]
        statuses["containerStatuses"] = [{"name": container, "ready": False, "restartCount": 0,
                                          "state": {"waiting": {"reason": "PodInitializing"}}}]
    else:
        statuses["containerStatuses"] = [status]
    obj = {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": _meta("Pod", name, annotations=annotations, labels={"app": "web"}, created=created,
                          owner=owner_ref, deleting=deleting),
        "spec": {"containers": [{"name": container, "image": "registry.example/shop/web:1.0"}]},
        "status": {"phase": "Pending" if init else "Running",
                   "conditions": [{"type": "Ready", "status": "True" if is_ready else "False",
                                   "lastTransitionTime": ts(ready_since)}], **statuses},
    }
    return _decode("pods", obj)


def make_hpa(target: Deployment, *, min_replicas: int | None = 2, max_replicas: int = 10,
             desired: int | None = None) -> HorizontalPodAutoscaler:
    spec: dict[str, Any] = {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment",
                                               "name": target.metadata.name},
                            "maxReplicas": max_replicas}
    if min_replicas is not None:
        spec["minReplicas"] = min_replicas
    obj = {"metadata": _meta("HorizontalPodAutoscaler", target.metadata.name), "spec": spec,
           "status": {"currentReplicas": target.spec.replicas, "desiredReplicas": desired or target.spec.replicas}}
    return _decode("hpas", obj)


def make_pdb(name: str = "web", *, disruptions_allowed: int = 1) -> PodDisruptionBudget:
    obj = {"metadata": _meta("PodDisruptionBudget", name),
           "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": name}}},
           "status": {"disruptionsAllowed": disruptions_allowed, "currentHealthy": 2, "desiredHealthy": 1,
                      "expectedPods": 2}}
    return _decode("pdbs", obj)


def make_configmap(name: str = "web-config", data: Mapping[str, str] | None = None) -> ConfigMap:
    obj = {"metadata": _meta("ConfigMap", name), "data": dict(data or {"LOG_LEVEL": "info"})}
    return _decode("configmaps", obj)


def make_cronjob(name: str = "self-heal-cpt", *, suspend: bool = False,
                 annotation: str | None = None) -> CronJob:
    ann = {"cronjob.kubernetes.io/suspended": annotation} if annotation is not None else None
    return msgspec.convert({"metadata": _meta("CronJob", name, annotations=ann),
                            "spec": {"schedule": "*/5 * * * *", "suspend": suspend}}, type=CronJob)


def snapshot_of(*objects: Any, namespace: str = NS, configmaps: Iterable[ConfigMap] = (),
                canary: CanarySignals | None = None) -> Snapshot:
    """A Snapshot of the given objects, sorted by type; ConfigMaps may also be passed positionally."""
    by_type: dict[type, list[Any]] = {}
    for obj in objects:
        by_type.setdefault(type(obj), []).append(obj)
    cms = list(configmaps) + by_type.get(ConfigMap, [])
    return Snapshot(
        namespace=namespace,
        pods=tuple(by_type.get(Pod, ())),
        deployments=tuple(by_type.get(Deployment, ())),
        replicasets=tuple(by_type.get(ReplicaSet, ())),
        hpas=tuple(by_type.get(HorizontalPodAutoscaler, ())),
        pdbs=tuple(by_type.get(PodDisruptionBudget, ())),
        configmap_checksums={cm.metadata.name: configmap_checksum(cm.data, cm.binary_data) for cm in cms},
        canary=canary or CanarySignals(),
    )


def crashing_pods(rs: ReplicaSet, count: int, *, restarts: int = 9,
                  last_terminated: tuple[str, int] = ("Error", 1)) -> list[Pod]:
    return [make_pod(f"{rs.metadata.name}-p{i}", owner=rs, restarts=restarts, waiting="CrashLoopBackOff",
                     last_terminated=last_terminated) for i in range(count)]


def healthy_pods(rs: ReplicaSet, count: int) -> list[Pod]:
    return [make_pod(f"{rs.metadata.name}-h{i}", owner=rs) for i in range(count)]


def history_entry(action: str, workload: str, *, ago: float, result: str = "applied", reason: str = "app_error",
                  ladder: str = "health", namespace: str = NS, kind: str = "Deployment",
                  name: str | None = None, detector: str = "crashloop") -> HistoryEntry:
    return HistoryEntry(ts=NOW - timedelta(seconds=ago), run_id="earlier-run", namespace=namespace, action=action,
                        kind=kind, name=name or workload.split("/", 1)[1], reason=reason, result=result,
                        workload=workload, detector=detector, ladder=ladder)
