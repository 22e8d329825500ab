"""Test builders: every Kubernetes object a test needs, each kind written once.

Two layers, one naming rule:

* Manifests (bare nouns: `deployment`, `pod`, `pdb`, `cronjob`, ...) are plain dicts as a user, `kubectl` or a
  controller creates them, without status unless asked. Sandbox stories create or load them; integration
  worlds write them to a scenario file.

      world.create(deployment("web", image="shop/web:2", replicas=3, max_unavailable=0))
      with running(deployment("web", replicas=2), pdb("web", min_available=1), settle=30) as sb: ...

* As read (`make_*`): the same objects as a pass reads them from a cluster (uid, resourceVersion, status),
  decoded into the job's msgspec Structs by `selfheal.snapshot.decode.decode_page`, as a real pass does.

      rs = make_replicaset(make_deployment("web", available=2), revision=2)
      snap = snapshot_of(rs, make_pod("web-2-a", owner=rs, restarts=9, waiting="CrashLoopBackOff"))

The `make_*` builders build their dicts through the manifests, then add what the API server adds and
decode. `make_container` and `make_template` are the job tests' pod templates (the registry.example app,
probes on its named port) over `container` and `pod_template`. Templates get the server's defaults
through `served`; the objects a controller made (`replicaset`, `pod`) come as the server stores them.

Two clocks: the job's unit tests live at NOW (2024); the sandbox's epoch is 2026-01-01T12:00:00Z.
"""

from __future__ import annotations

import copy
import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import msgspec

from kubesandbox.resources.defaults import apply_defaults
from selfheal.detectors.base import propose
from selfheal.findings import ActionKind, HistoryEntry, Ladder, PlannedAction, Severity
from selfheal.kube import requests
from selfheal.kube.model import (
    ANN_REVISION,
    ConfigMap,
    CronJob,
    Deployment,
    HorizontalPodAutoscaler,
    ManagedFieldsEntry,
    Pod,
    PodDisruptionBudget,
    ReplicaSet,
)
from selfheal.kube.refs import ref_of
from selfheal.snapshot.decode import checksums_of, content_written_of, decode_page
from selfheal.view import CanarySignals, Snapshot

Obj = dict[str, Any]

NS = "shop"
NODE = "sandbox-node-1"
STARTED = "2026-01-01T11:00:00Z"  # an hour before the sandbox's epoch: when scenario pods started
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
LONG_AGO = NOW - timedelta(days=3)
JOB_IMAGE = "registry.example/shop/web:1.0"  # the image of the job tests' workloads


def ts(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def uid_of(kind: str, name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{NS}/{kind}/{name}"))


def pod_template_hash(template: Mapping[str, Any]) -> str:
    """A stable pod-template-hash look-alike (the real one is FNV of the template; any stable value does)."""
    digest = hashlib.sha256(json.dumps(template, sort_keys=True).encode()).digest()
    alphabet = "bcdfghjklmnpqrstvwxz2456789"
    return "".join(alphabet[b % len(alphabet)] for b in digest[:10])


def owner_reference(owner: Mapping[str, Any]) -> Obj:
    """The controller reference to `owner`, with its uid when it has one (a scenario file may leave it out:
    the sandbox resolves owners by name when it loads the file)."""
    meta = owner["metadata"]
    ref: Obj = {"apiVersion": owner["apiVersion"], "kind": owner["kind"], "name": meta["name"]}
    if meta.get("uid"):
        ref["uid"] = meta["uid"]
    ref.update(controller=True, blockOwnerDeletion=True)
    return ref


# --- manifests: namespaces, sandbox settings ---------------------------------------------------------------


def namespace(name: str = NS) -> Obj:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def image_behavior(image: str, behavior: str) -> Obj:
    """How the sandbox runs `image`: Healthy, CrashLoop, CrashUntilRestarted, ... (README, sandbox section)."""
    return {
        "apiVersion": "sandbox.selfheal.dev/v1alpha1",
        "kind": "ImageBehavior",
        "metadata": {"name": image.replace("/", "-").replace(":", "-").replace(".", "-")},
        "spec": {"image": image, "behavior": behavior},
    }


# --- manifests: containers and pod templates ----------------------------------------------------------------


def container(
    image: str,
    *,
    name: str = "app",
    args: Sequence[str] | None = None,
    port: int | None = None,
    probes: bool = False,
    readiness_delay: int | None = None,
    env: Sequence[Obj] | None = None,
    env_from_configmap: str | None = None,
) -> Obj:
    """A container. `port` declares the named port `http` (the probes use it, else port 8080); `probes` adds an
    HTTP liveness probe (/healthz) and readiness probe (/ready); `readiness_delay` is the readiness probe's
    initialDelaySeconds (the sandbox marks the container ready that long after it starts)."""
    c: Obj = {"name": name, "image": image}
    if args is not None:
        c["args"] = list(args)
    if port is not None:
        c["ports"] = [{"containerPort": port, "name": "http"}]
    probe_port: int | str = "http" if port is not None else 8080
    if probes:
        c["livenessProbe"] = {"httpGet": {"path": "/healthz", "port": probe_port}}
        c["readinessProbe"] = {"httpGet": {"path": "/ready", "port": probe_port}, "periodSeconds": 5}
    if readiness_delay is not None:
        probe = c.setdefault("readinessProbe", {"httpGet": {"path": "/ready", "port": probe_port}})
        probe["initialDelaySeconds"] = readiness_delay
    if env:
        c["env"] = [dict(e) for e in env]
    if env_from_configmap:
        c["envFrom"] = [{"configMapRef": {"name": env_from_configmap}}]
    return c


def pod_template(
    *containers: Mapping[str, Any],
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
    init_containers: Sequence[Mapping[str, Any]] = (),
    restart_policy: str | None = None,
    configmap_volume: str | None = None,
) -> Obj:
    """A pod template as a manifest holds it (no server defaults: see `served`). `configmap_volume` mounts that
    ConfigMap at /etc/app in the first container."""
    spec: Obj = {}
    if restart_policy is not None:
        spec["restartPolicy"] = restart_policy
    spec["containers"] = [copy.deepcopy(dict(c)) for c in containers]
    if init_containers:
        spec["initContainers"] = [copy.deepcopy(dict(c)) for c in init_containers]
    if configmap_volume:
        spec["volumes"] = [{"name": "config", "configMap": {"name": configmap_volume}}]
        spec["containers"][0]["volumeMounts"] = [{"name": "config", "mountPath": "/etc/app"}]
    meta: Obj = {}
    if labels:
        meta["labels"] = dict(labels)
    if annotations:
        meta["annotations"] = dict(annotations)
    return {"metadata": meta, "spec": spec} if meta else {"spec": spec}


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
                for k, v in (
                    ("timeoutSeconds", 1),
                    ("periodSeconds", 10),
                    ("successThreshold", 1),
                    ("failureThreshold", 3),
                ):
                    c[probe].setdefault(k, v)
                if "httpGet" in c[probe]:
                    c[probe]["httpGet"].setdefault("scheme", "HTTP")
    for v in spec.get("volumes", []):
        if "configMap" in v:
            v["configMap"].setdefault("defaultMode", 420)
    return t


# --- manifests: workloads --------------------------------------------------------------------------------------


def deployment(
    name: str,
    *,
    image: str = "shop/web:1",
    replicas: int = 3,
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
    template: Mapping[str, Any] | None = None,
    probes: bool = False,
    readiness_delay: int | None = None,
    init_image: str | None = None,
    env_from_configmap: str | None = None,
    max_surge: int | str | None = None,
    max_unavailable: int | str | None = None,
    recreate: bool = False,
    paused: bool = False,
    min_ready_seconds: int | None = None,
    progress_deadline: int | None = None,
    revision_history_limit: int | None = None,
    ns: str = NS,
) -> Obj:
    """A Deployment as a user writes it: one container `app` running `image` (with `probes`, a
    `readiness_delay`, an `init_image` init container, env from a ConfigMap), its pods labelled and selected
    by `labels` (default app=<name>). Knobs left unset are the server's to default (RollingUpdate with
    25% surge and unavailability, progressDeadlineSeconds 600, ...). `template` replaces the generated pod
    template; its labels are then the selector. metadata.annotations is always there, so a story can stamp
    one on."""
    labels = dict(labels or {"app": name})
    if template is None:
        app = container(
            image, probes=probes, readiness_delay=readiness_delay, env_from_configmap=env_from_configmap
        )
        init = [container(init_image, name="init")] if init_image is not None else []
        template = pod_template(app, labels=labels, init_containers=init)
    else:
        template = copy.deepcopy(dict(template))
    spec: Obj = {
        "replicas": replicas,
        "selector": {"matchLabels": dict(template.get("metadata", {}).get("labels", {}))},
        "template": template,
    }
    if recreate:
        spec["strategy"] = {"type": "Recreate"}
    elif max_surge is not None or max_unavailable is not None:
        rolling: Obj = {}
        if max_surge is not None:
            rolling["maxSurge"] = max_surge
        if max_unavailable is not None:
            rolling["maxUnavailable"] = max_unavailable
        spec["strategy"] = {"type": "RollingUpdate", "rollingUpdate": rolling}
    if paused:
        spec["paused"] = True
    if min_ready_seconds is not None:
        spec["minReadySeconds"] = min_ready_seconds
    if progress_deadline is not None:
        spec["progressDeadlineSeconds"] = progress_deadline
    if revision_history_limit is not None:
        spec["revisionHistoryLimit"] = revision_history_limit
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns, "labels": labels, "annotations": dict(annotations or {})},
        "spec": spec,
    }


def applied_with_kubectl(manifest: Mapping[str, Any]) -> Obj:
    """The object as `kubectl apply` leaves it: the manifest recorded in last-applied-configuration."""
    out = copy.deepcopy(dict(manifest))
    out["metadata"].setdefault("annotations", {})[LAST_APPLIED] = (
        json.dumps(manifest, separators=(",", ":"), sort_keys=True) + "\n"
    )
    return out


def replicaset(
    name: str,
    *,
    image: str = "shop/web:1",
    replicas: int = 1,
    labels: Mapping[str, str] | None = None,
    template: Mapping[str, Any] | None = None,
    owner: Mapping[str, Any] | None = None,
    uid: str | None = None,
    revision: int | str | None = None,
    annotations: Mapping[str, str] | None = None,
    created: str | None = None,
    ns: str = NS,
) -> Obj:
    """A ReplicaSet as a Deployment controller made it (a scenario object): pods labelled and selected by `labels`
    (default app=web), running `image`, or `template` as given; the generated template comes as the server
    stores it (`served`). A fixed `uid` lets scenario pods name it as their owner."""
    labels = dict(labels or {"app": "web"})
    if template is None:
        template = served(pod_template(container(image), labels=labels))
    else:
        template = copy.deepcopy(dict(template))
    meta: Obj = {"name": name, "namespace": ns}
    if uid is not None:
        meta["uid"] = uid
    meta["labels"] = labels
    if created is not None:
        meta["creationTimestamp"] = created
    ann = dict(annotations or {})
    if revision is not None:
        ann[ANN_REVISION] = str(revision)
    if ann:
        meta["annotations"] = ann
    if owner is not None:
        meta["ownerReferences"] = [owner_reference(owner)]
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": meta,
        "spec": {"replicas": replicas, "selector": {"matchLabels": dict(labels)}, "template": template},
    }


def _condition(type_: str, ok: bool, at: str, container_name: str) -> Obj:
    if ok:
        return {"type": type_, "status": "True", "lastProbeTime": None, "lastTransitionTime": at}
    return {
        "type": type_,
        "status": "False",
        "reason": "ContainersNotReady",
        "message": f"containers with unready status: [{container_name}]",
        "lastProbeTime": None,
        "lastTransitionTime": at,
    }


def pod_status(
    image: str = "shop/web:1",
    *,
    container_name: str = "app",
    phase: str = "Running",
    started_at: str = STARTED,
    ready: bool = True,
    unready_since: str | None = None,
    restart_count: int = 0,
    waiting: tuple[str, str] | None = None,
    last_state: Mapping[str, Any] | None = None,
) -> Obj:
    """What the kubelet reports for a one-container pod started at `started_at`: running and ready, running
    but not ready (since `unready_since`), or `waiting=(reason, message)` (CrashLoopBackOff, ...) after
    `last_state` (e.g. {"terminated": {...}})."""
    since = unready_since or started_at
    state = (
        {"waiting": {"reason": waiting[0], "message": waiting[1]}}
        if waiting is not None
        else {"running": {"startedAt": started_at}}
    )
    return {
        "phase": phase,
        "conditions": [
            _condition("Initialized", True, started_at, container_name),
            _condition("Ready", ready, started_at if ready else since, container_name),
            _condition("ContainersReady", ready, started_at if ready else since, container_name),
            _condition("PodScheduled", True, started_at, container_name),
        ],
        "hostIP": "172.18.0.2",
        "podIP": "10.244.9.9",
        "startTime": started_at,
        "containerStatuses": [
            {
                "name": container_name,
                "image": image,
                "imageID": "",
                "ready": ready,
                "restartCount": restart_count,
                "started": waiting is None,
                "state": state,
                "lastState": dict(last_state or {}),
            }
        ],
        "qosClass": "BestEffort",
    }


def pod(
    name: str,
    *,
    image: str = "shop/web:1",
    container_name: str = "app",
    template: Mapping[str, Any] | None = None,
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
    owner: Mapping[str, Any] | None = None,
    node: str | None = NODE,
    started_at: str = STARTED,
    ready: bool = True,
    phase: str = "Running",
    restart_count: int = 0,
    waiting: tuple[str, str] | None = None,
    status: Obj | None = None,
    ns: str = NS,
) -> Obj:
    """A pod as a scenario gives it: scheduled on `node`, with a status the sandbox's kubelet leaves as written
    (frozen) until the pod is deleted, and the server's defaults. Its spec runs `image`, or comes from
    `template` (a ReplicaSet's pod: labels too); `status` replaces the one built from the status knobs
    (see `pod_status`). Owned by a ReplicaSet, it has the generateName that ReplicaSet gave it."""
    if template is not None:
        spec = copy.deepcopy(dict(template["spec"]))
        image, container_name = spec["containers"][0]["image"], spec["containers"][0]["name"]
        if labels is None:
            labels = template.get("metadata", {}).get("labels")
    else:
        spec = pod_template(container(image, name=container_name))["spec"]
    meta: Obj = {"name": name, "namespace": ns}
    if owner is not None and owner["kind"] == "ReplicaSet":
        meta["generateName"] = f"{owner['metadata']['name']}-"
    meta["labels"] = dict(labels if labels is not None else {"app": "web"})
    if annotations:
        meta["annotations"] = dict(annotations)
    meta["creationTimestamp"] = started_at
    if owner is not None:
        meta["ownerReferences"] = [owner_reference(owner)]
    if node:
        spec["nodeName"] = node
    if status is None:
        status = pod_status(
            image,
            container_name=container_name,
            phase=phase,
            started_at=started_at,
            ready=ready,
            restart_count=restart_count,
            waiting=waiting,
        )
    return apply_defaults(
        {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec, "status": status}
    )


def bare_pod(
    name: str,
    *,
    image: str = "shop/debug:1",
    restart_policy: str = "Always",
    env: Sequence[Obj] | None = None,
    init_image: str | None = None,
    readiness_delay: int | None = None,
    ns: str = NS,
) -> Obj:
    """A pod as `kubectl run` creates it: labelled run=<name>, no node, no status; the kubelet takes it from there."""
    init = [container(init_image, name="init")] if init_image is not None else []
    template = pod_template(
        container(image, env=env, readiness_delay=readiness_delay),
        init_containers=init,
        restart_policy=restart_policy,
    )
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "labels": {"run": name}},
        "spec": template["spec"],
    }


# --- manifests: budgets, autoscalers, config, cron jobs ----------------------------------------------------------


def pdb(
    name: str,
    *,
    selector: Mapping[str, str] | None = None,
    min_available: int | str | None = None,
    max_unavailable: int | str | None = None,
    policy: str | None = None,
    ns: str = NS,
) -> Obj:
    """A PodDisruptionBudget over the pods labelled `selector` (default app=<name>); `policy` is its
    unhealthyPodEvictionPolicy."""
    spec: Obj = {"selector": {"matchLabels": dict(selector or {"app": name})}}
    if min_available is not None:
        spec["minAvailable"] = min_available
    if max_unavailable is not None:
        spec["maxUnavailable"] = max_unavailable
    if policy is not None:
        spec["unhealthyPodEvictionPolicy"] = policy
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": name, "namespace": ns},
        "spec": spec,
    }


def hpa(
    name: str,
    *,
    target: str | None = None,
    min_replicas: int | None = 1,
    max_replicas: int = 5,
    cpu_utilization: int = 80,
    ns: str = NS,
) -> Obj:
    """A HorizontalPodAutoscaler of Deployment `target` (default: <name>) on CPU utilization; with
    `min_replicas=None` the field is left to the server's default (1)."""
    spec: Obj = {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": target or name}}
    if min_replicas is not None:
        spec["minReplicas"] = min_replicas
    spec["maxReplicas"] = max_replicas
    spec["metrics"] = [
        {
            "type": "Resource",
            "resource": {
                "name": "cpu",
                "target": {"type": "Utilization", "averageUtilization": cpu_utilization},
            },
        }
    ]
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": name, "namespace": ns},
        "spec": spec,
    }


def configmap(name: str, data: Mapping[str, str], *, ns: str = NS) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": ns},
        "data": dict(data),
    }


def cronjob(
    name: str = "self-heal-cpt",
    *,
    image: str = "shop/selfheal:1",
    container_name: str = "task",
    schedule: str = "*/5 * * * *",
    args: Sequence[str] | None = None,
    restart_policy: str = "Never",
    backoff_limit: int | None = None,
    concurrency_policy: str | None = None,
    suspend: bool = False,
    annotations: Mapping[str, str] | None = None,
    ns: str = NS,
) -> Obj:
    """A CronJob whose jobs run one container `task`; by default the self-heal job's own, every five minutes."""
    job_spec: Obj = {
        "template": pod_template(
            container(image, name=container_name, args=args), restart_policy=restart_policy
        )
    }
    if backoff_limit is not None:
        job_spec["backoffLimit"] = backoff_limit
    spec: Obj = {"schedule": schedule}
    if concurrency_policy is not None:
        spec["concurrencyPolicy"] = concurrency_policy
    if suspend:
        spec["suspend"] = True
    spec["jobTemplate"] = {"spec": job_spec}
    meta: Obj = {"name": name, "namespace": ns}
    if annotations:
        meta["annotations"] = dict(annotations)
    return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": meta, "spec": spec}


def job_from_cronjob(cronjob: Mapping[str, Any], name: str) -> Obj:
    """What `kubectl create job <name> --from=cronjob/<cj>` posts (spec from the jobTemplate)."""
    cj_meta = cronjob["metadata"]
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": name,
            "namespace": cj_meta["namespace"],
            "annotations": {"cronjob.kubernetes.io/instantiate": "manual"},
            "ownerReferences": [
                {
                    "apiVersion": "batch/v1",
                    "kind": "CronJob",
                    "name": cj_meta["name"],
                    "uid": cj_meta["uid"],
                    "controller": True,
                }
            ],
        },
        "spec": copy.deepcopy(cronjob["spec"]["jobTemplate"]["spec"]),
    }


# --- as read: what the API server adds, decoded into the job's Structs ------------------------------------------


def _decode(kind: str, obj: Mapping[str, Any]) -> Any:
    return decode_page(kind, msgspec.json.encode({"items": [obj]})).items[0]


def _as_read(
    obj: Obj,
    *,
    created: datetime = LONG_AGO,
    generation: int | None = None,
    owner: tuple[str, str, str] | None = None,
    deleting: bool = False,
) -> Obj:
    """The manifest's metadata as the API server returns it: uid, resourceVersion, creationTimestamp, and
    (given) generation, the controller reference (kind, name, uid) and a deletionTimestamp."""
    meta = obj["metadata"]
    meta.update(uid=uid_of(obj["kind"], meta["name"]), resourceVersion="1", creationTimestamp=ts(created))
    if generation is not None:
        meta["generation"] = generation
    if owner is not None:
        kind, name, uid = owner
        api = "apps/v1" if kind in ("Deployment", "ReplicaSet", "DaemonSet", "StatefulSet") else "v1"
        meta["ownerReferences"] = [
            owner_reference({"apiVersion": api, "kind": kind, "metadata": {"name": name, "uid": uid}})
        ]
    if deleting:
        meta["deletionTimestamp"] = ts(NOW - timedelta(seconds=5))
    return obj


def make_container(
    name: str = "web",
    image: str = JOB_IMAGE,
    *,
    probes: bool = True,
    env_from_configmap: str | None = None,
    port: int = 8080,
) -> dict[str, Any]:
    """The job tests' container: port `http`, probed on it unless `probes=False`."""
    return container(image, name=name, port=port, probes=probes, env_from_configmap=env_from_configmap)


def make_template(
    app: str = "web",
    *,
    image: str = JOB_IMAGE,
    probes: bool = True,
    containers: Sequence[dict[str, Any]] | None = None,
    annotations: Mapping[str, str] | None = None,
    configmap_volume: str | None = None,
    env_from_configmap: str | None = None,
) -> dict[str, Any]:
    """A pod template as a user writes it in a manifest (no server defaults)."""
    if containers is None:
        containers = [make_container(app, image, probes=probes, env_from_configmap=env_from_configmap)]
    return pod_template(
        *containers, labels={"app": app}, annotations=annotations, configmap_volume=configmap_volume
    )


def make_deployment(
    name: str = "web",
    *,
    replicas: int = 3,
    image: str = JOB_IMAGE,
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
        ann[LAST_APPLIED] = json.dumps(last_applied)
    obj = _as_read(
        deployment(
            name,
            replicas=replicas,
            template=tmpl,
            annotations=ann,
            paused=paused,
            progress_deadline=progress_deadline,
        ),
        created=created,
        generation=generation,
    )
    avail = replicas if available is None else available
    conditions = [
        {
            "type": "Available",
            "status": "True" if avail >= replicas else "False",
            "reason": "MinimumReplicasAvailable" if avail >= replicas else "MinimumReplicasUnavailable",
            "lastUpdateTime": ts(available_since or LONG_AGO),
            "lastTransitionTime": ts(available_since or LONG_AGO),
        },
        {
            "type": "Progressing",
            "status": "False" if progressing == "ProgressDeadlineExceeded" else "True",
            "reason": progressing,
            "lastUpdateTime": ts(LONG_AGO),
            "lastTransitionTime": ts(LONG_AGO),
        },
    ]
    obj["status"] = {
        "observedGeneration": generation if observed_generation is None else observed_generation,
        "replicas": replicas,
        "updatedReplicas": replicas if updated is None else updated,
        "readyReplicas": avail,
        "availableReplicas": avail,
        "unavailableReplicas": max(0, replicas - avail),
        "conditions": conditions,
    }
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
    tmpl["metadata"].setdefault("labels", {})["pod-template-hash"] = pod_template_hash(tmpl)
    skip = {
        LAST_APPLIED,
        ANN_REVISION,
        "deployment.kubernetes.io/revision-history",
        "deployment.kubernetes.io/desired-replicas",
        "deployment.kubernetes.io/max-replicas",
    }
    ann = {k: v for k, v in deployment.metadata.annotations.items() if k not in skip}
    ann.update(
        {
            ANN_REVISION: str(revision),
            "deployment.kubernetes.io/desired-replicas": str(deployment.spec.replicas),
        }
    )
    ann.update(extra_annotations or {})
    reps = deployment.spec.replicas if replicas is None else replicas
    name = f"{deployment.metadata.name}-{tmpl['metadata']['labels']['pod-template-hash']}"
    obj = _as_read(
        replicaset(name, template=tmpl, replicas=reps, labels=tmpl["metadata"]["labels"], annotations=ann),
        created=created,
        owner=("Deployment", deployment.metadata.name, deployment.metadata.uid),
    )
    obj["status"] = {
        "replicas": reps,
        "readyReplicas": reps if available is None else available,
        "availableReplicas": reps if available is None else available,
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
    status: dict[str, Any] = {
        "name": container,
        "image": JOB_IMAGE,
        "ready": is_ready,
        "restartCount": restarts,
    }
    status["state"] = (
        {"waiting": {"reason": waiting, "message": "back-off"}}
        if waiting
        else {"running": {"startedAt": ts(created)}}
    )
    if last_terminated is not None:
        reason, code = last_terminated
        status["lastState"] = {"terminated": {"reason": reason, "exitCode": code, "finishedAt": ts(NOW)}}
    statuses: dict[str, Any] = {}
    if init:
        statuses["initContainerStatuses"] = [{**status, "name": f"init-{container}"}]
        statuses["containerStatuses"] = [
            {
                "name": container,
                "ready": False,
                "restartCount": 0,
                "state": {"waiting": {"reason": "PodInitializing"}},
            }
        ]
    else:
        statuses["containerStatuses"] = [status]
    pod_status_as_read = {
        "phase": "Pending" if init else "Running",
        "conditions": [
            {
                "type": "Ready",
                "status": "True" if is_ready else "False",
                "lastTransitionTime": ts(ready_since),
            }
        ],
        **statuses,
    }
    obj = pod(
        name,
        image=JOB_IMAGE,
        container_name=container,
        annotations=annotations,
        node=None,
        status=pod_status_as_read,
    )
    return _decode("pods", _as_read(obj, created=created, owner=owner_ref, deleting=deleting))


def make_hpa(
    target: Deployment, *, min_replicas: int | None = 2, max_replicas: int = 10, desired: int | None = None
) -> HorizontalPodAutoscaler:
    name = target.metadata.name
    obj = _as_read(hpa(name, target=name, min_replicas=min_replicas, max_replicas=max_replicas))
    obj["status"] = {
        "currentReplicas": target.spec.replicas,
        "desiredReplicas": desired or target.spec.replicas,
    }
    return _decode("hpas", obj)


def make_pdb(name: str = "web", *, disruptions_allowed: int = 1) -> PodDisruptionBudget:
    obj = _as_read(pdb(name, min_available=1))
    obj["status"] = {
        "disruptionsAllowed": disruptions_allowed,
        "currentHealthy": 2,
        "desiredHealthy": 1,
        "expectedPods": 2,
    }
    return _decode("pdbs", obj)


def make_configmap(name: str = "web-config", data: Mapping[str, str] | None = None) -> ConfigMap:
    return _decode("configmaps", _as_read(configmap(name, data or {"LOG_LEVEL": "info"})))


def make_cronjob(
    name: str = "self-heal-cpt", *, suspend: bool = False, annotation: str | None = None
) -> CronJob:
    ann = {"cronjob.kubernetes.io/suspended": annotation} if annotation is not None else None
    return msgspec.convert(_as_read(cronjob(name, suspend=suspend, annotations=ann)), type=CronJob)


def snapshot_of(
    *objects: Any,
    namespace: str = NS,
    configmaps: Iterable[ConfigMap] = (),
    canary: CanarySignals | None = None,
) -> Snapshot:
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
        configmap_checksums=checksums_of(cms),
        configmap_written=content_written_of(cms),
        canary=canary or CanarySignals(),
    )


def crashing_pods(
    rs: ReplicaSet, count: int, *, restarts: int = 9, last_terminated: tuple[str, int] = ("Error", 1)
) -> list[Pod]:
    return [
        make_pod(
            f"{rs.metadata.name}-p{i}",
            owner=rs,
            restarts=restarts,
            waiting="CrashLoopBackOff",
            last_terminated=last_terminated,
        )
        for i in range(count)
    ]


def healthy_pods(rs: ReplicaSet, count: int) -> list[Pod]:
    return [make_pod(f"{rs.metadata.name}-h{i}", owner=rs) for i in range(count)]


def history_entry(
    action: str,
    workload: str,
    *,
    ago: float,
    result: str = "applied",
    reason: str = "app_error",
    ladder: str = "health",
    namespace: str = NS,
    kind: str = "Deployment",
    name: str | None = None,
    detector: str = "crashloop",
) -> HistoryEntry:
    return HistoryEntry(
        ts=NOW - timedelta(seconds=ago),
        run_id="earlier-run",
        namespace=namespace,
        action=action,
        kind=kind,
        name=name or workload.split("/", 1)[1],
        reason=reason,
        result=result,
        workload=workload,
        detector=detector,
        ladder=ladder,
    )


def scale_action(deployment: Deployment, to: int) -> PlannedAction:
    """The replica-drift scale of `deployment` to `to` replicas, as the planner approves it."""
    return propose(
        ActionKind.SCALE,
        ref_of("Deployment", deployment.metadata),
        (requests.replicas(deployment, to),),
        reason="replica_drift",
        summary=f"scale {deployment.metadata.name} to {to}",
        ladder=Ladder.REPLICAS,
        detector="test",
        severity=Severity.WARNING,
    )


def written(manager: str, at: datetime, *paths: Sequence[str], subresource: str = "") -> ManagedFieldsEntry:
    """A managedFields entry: `manager` owns the fields at `paths` (field names, as `last_written` takes
    them) and wrote last at `at`."""
    fields: dict[str, Any] = {}
    for path in paths:
        node = fields
        for name in path:
            node = node.setdefault(f"f:{name}", {})
    return ManagedFieldsEntry(
        manager=manager, operation="Update", subresource=subresource, time=at, fields_v1=fields
    )


Written = TypeVar("Written", Deployment, ConfigMap, HorizontalPodAutoscaler)


def with_writes(obj: Written, *entries: ManagedFieldsEntry) -> Written:
    """`obj` with `entries` added to its managedFields."""
    meta = msgspec.structs.replace(obj.metadata, managed_fields=(*obj.metadata.managed_fields, *entries))
    return msgspec.structs.replace(obj, metadata=meta)
