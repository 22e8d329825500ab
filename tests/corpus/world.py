"""How the corpus dumps are made: a namespace lived through in the sandbox, then dumped with the real kubectl.

    w = World("shop", start="2026-01-20T09:00:00Z", seed=2)
    w.apply(deployment("checkout", "registry.example/shop/checkout:1.14.2"))
    w.advance(days(18))                                   # the controllers roll it out, it runs
    w.kubectl("set", "image", "deploy/checkout", "checkout=registry.example/shop/checkout:1.15.0")
    w.advance(minutes(4))
    text = w.capture(header="...")                        # `kubectl get deploy,rs,pods,... -o yaml`

Everything in a dump comes from the sandbox's controllers (Deployment, ReplicaSet, kubelet, HPA, PDB)
reacting to kubectl commands on a frozen clock, so uids, ownerReferences, pod-template-hash labels,
revision annotations, conditions and their timestamps agree with each other. What the sandbox cannot
do is change what a *running* container does: an image behaves one way for its whole life
(`ImageBehavior`). Incidents where a container that ran fine for days starts failing (a dependency
goes down, memory grows, one pod's local state goes bad) are made with `World.reload(edit=...)`:
the namespace is dumped with kubectl, the pods' container statuses are rewritten by
`crashing`/`unready` — computed by the sandbox's own container runtime model
(`kubesandbox.controllers.containers.view`) for a container that began failing at the onset — and
the namespace is loaded into a fresh sandbox at the onset, whose controllers then react to the
failing pods (ReplicaSet readiness, the Deployment's Available condition) until the capture moment.
The cases that needed this say so in their header.
"""

from __future__ import annotations

import contextlib
import copy
import json
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from kubesandbox import Sandbox
from kubesandbox.controllers import containers as runtime
from kubesandbox.controllers.util import fmt
from selfheal.confighash import combined_checksum, config_hash, configmap_checksum

Obj = dict[str, Any]

SANDBOX_API = "sandbox.selfheal.dev/v1alpha1"
DUMP_KINDS = "deploy,rs,pods,hpa,pdb,cm,cronjob,lease"
RELOAD_KINDS = "deploy,rs,ds,sts,pods,hpa,pdb,cm,secret,cronjob,lease,svc"
JOB_IMAGE = "ghcr.io/dese-ea/selfheal:0.1.0"


# --- time ---------------------------------------------------------------------------------------------


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def rfc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def micro(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


def days(n: float) -> timedelta:
    return timedelta(days=n)


# --- manifests ------------------------------------------------------------------------------------------


def container(
    name: str,
    image: str,
    *,
    port: int | None = 8080,
    probes: bool = True,
    readiness_delay: int = 5,
    cpu: str = "100m",
    memory: str = "128Mi",
    memory_limit: str | None = "256Mi",
    env: Sequence[Obj] | None = None,
    env_from_configmap: str | None = None,
    args: Sequence[str] | None = None,
) -> Obj:
    """A container as a team writes it: a named port, HTTP probes on it, requests and a memory limit."""
    c: Obj = {"name": name, "image": image}
    if args is not None:
        c["args"] = list(args)
    if port is not None:
        c["ports"] = [{"name": "http", "containerPort": port, "protocol": "TCP"}]
    if env:
        c["env"] = [dict(e) for e in env]
    if env_from_configmap:
        c["envFrom"] = [{"configMapRef": {"name": env_from_configmap}}]
    if probes and port is not None:
        c["readinessProbe"] = {
            "httpGet": {"path": "/ready", "port": "http"},
            "initialDelaySeconds": readiness_delay,
            "periodSeconds": 10,
        }
        c["livenessProbe"] = {
            "httpGet": {"path": "/healthz", "port": "http"},
            "initialDelaySeconds": 15,
            "periodSeconds": 20,
        }
    resources: Obj = {"requests": {"cpu": cpu, "memory": memory}}
    if memory_limit:
        resources["limits"] = {"memory": memory_limit}
    c["resources"] = resources
    return c


def deployment(
    name: str,
    image: str | None = None,
    *,
    replicas: int = 3,
    containers: Sequence[Obj] | None = None,
    init_containers: Sequence[Obj] = (),
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
    template_annotations: Mapping[str, str] | None = None,
    max_surge: int | str = "25%",
    max_unavailable: int | str = "25%",
    progress_deadline: int | None = None,
    revision_history_limit: int | None = None,
    part_of: str | None = None,
    app: str | None = None,
    ns: str | None = None,
) -> Obj:
    """A Deployment manifest: pods labelled app=<app or name> (plus `labels`), one container named after the app
    running `image` unless `containers` are given."""
    pod_labels = {"app": app or name, **(labels or {})}
    meta_labels = {"app": app or name, **(labels or {})}
    if part_of:
        meta_labels["app.kubernetes.io/part-of"] = part_of
    template: Obj = {
        "metadata": {"labels": dict(pod_labels)},
        "spec": {
            "containers": [copy.deepcopy(c) for c in containers]
            if containers
            else [container(app or name, image or f"registry.example/{name}:1.0.0")]
        },
    }
    if template_annotations:
        template["metadata"]["annotations"] = dict(template_annotations)
    if init_containers:
        template["spec"]["initContainers"] = [copy.deepcopy(c) for c in init_containers]
    spec: Obj = {
        "replicas": replicas,
        "selector": {"matchLabels": dict(pod_labels)},
        "strategy": {
            "type": "RollingUpdate",
            "rollingUpdate": {"maxSurge": max_surge, "maxUnavailable": max_unavailable},
        },
        "template": template,
    }
    if progress_deadline is not None:
        spec["progressDeadlineSeconds"] = progress_deadline
    if revision_history_limit is not None:
        spec["revisionHistoryLimit"] = revision_history_limit
    meta: Obj = {"name": name, "labels": meta_labels}
    if ns:
        meta["namespace"] = ns
    if annotations:
        meta["annotations"] = dict(annotations)
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta, "spec": spec}


def stamp(dep: Obj, configmaps: Iterable[Obj] = ()) -> Obj:
    """What CI's `selfheal hash` stamps: the template's config checksum of the ConfigMaps it reads (when
    given), then the Deployment's config hash of the template (the hash ignores the checksum)."""
    dep = copy.deepcopy(dep)
    template = dep["spec"]["template"]
    cms = list(configmaps)
    if cms:
        per = {cm["metadata"]["name"]: configmap_checksum(cm.get("data"), cm.get("binaryData")) for cm in cms}
        template["metadata"].setdefault("annotations", {})["selfheal.dev/config-checksum"] = (
            combined_checksum(per)
        )
    dep["metadata"].setdefault("annotations", {})["selfheal.dev/config-hash"] = config_hash(template)
    return dep


def configmap(name: str, data: Mapping[str, str], *, labels: Mapping[str, str] | None = None) -> Obj:
    meta: Obj = {"name": name}
    if labels:
        meta["labels"] = dict(labels)
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": dict(data)}


def hpa(
    name: str,
    *,
    min_replicas: int,
    max_replicas: int,
    target: str | None = None,
    target_api_version: str = "apps/v1",
    cpu: int = 70,
) -> Obj:
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": name},
        "spec": {
            "scaleTargetRef": {
                "apiVersion": target_api_version,
                "kind": "Deployment",
                "name": target or name,
            },
            "minReplicas": min_replicas,
            "maxReplicas": max_replicas,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": cpu}},
                }
            ],
        },
    }


def pdb(
    name: str,
    *,
    min_available: int | str | None = None,
    max_unavailable: int | str | None = None,
    selector: Mapping[str, str] | None = None,
) -> Obj:
    spec: Obj = {"selector": {"matchLabels": dict(selector or {"app": name})}}
    if min_available is not None:
        spec["minAvailable"] = min_available
    if max_unavailable is not None:
        spec["maxUnavailable"] = max_unavailable
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": name},
        "spec": spec,
    }


def selfheal_cronjob(*, suspend: bool = False, annotations: Mapping[str, str] | None = None) -> Obj:
    """The job's CronJob as aiops/self-heal-job.yaml declares it (trimmed to what a dump shows)."""
    meta: Obj = {"name": "self-heal-cpt", "labels": {"app.kubernetes.io/name": "self-heal-cpt"}}
    if annotations:
        meta["annotations"] = dict(annotations)
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": meta,
        "spec": {
            "schedule": "*/2 * * * *",
            "timeZone": "Etc/UTC",
            "concurrencyPolicy": "Forbid",
            "startingDeadlineSeconds": 30,
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 3,
            "suspend": suspend,
            "jobTemplate": {
                "metadata": {"labels": {"app.kubernetes.io/name": "self-heal-cpt"}},
                "spec": {
                    "backoffLimit": 0,
                    "activeDeadlineSeconds": 90,
                    "template": {
                        "metadata": {"labels": {"app.kubernetes.io/name": "self-heal-cpt"}},
                        "spec": {
                            "serviceAccountName": "self-heal-cpt",
                            "restartPolicy": "Never",
                            "securityContext": {
                                "runAsNonRoot": True,
                                "runAsUser": 10001,
                                "runAsGroup": 10001,
                                "fsGroup": 10001,
                                "seccompProfile": {"type": "RuntimeDefault"},
                            },
                            "containers": [
                                {
                                    "name": "selfheal",
                                    "image": JOB_IMAGE,
                                    "args": ["run"],
                                    "envFrom": [{"configMapRef": {"name": "self-heal-cpt-config"}}],
                                    "resources": {
                                        "requests": {"cpu": "50m", "memory": "128Mi"},
                                        "limits": {"memory": "256Mi"},
                                    },
                                    "volumeMounts": [{"name": "data", "mountPath": "/var/lib/selfheal"}],
                                }
                            ],
                            "volumes": [
                                {"name": "data", "persistentVolumeClaim": {"claimName": "self-heal-cpt-data"}}
                            ],
                        },
                    },
                },
            },
        },
    }


def selfheal_settings(namespace: str) -> Obj:
    return configmap(
        "self-heal-cpt-config",
        {
            "SELFHEAL_NAMESPACE": namespace,
            "SELFHEAL_LOG_FORMAT": "json",
            "SELFHEAL_HISTORY_FILE": "/var/lib/selfheal/logs/rollback-history.log",
            "SELFHEAL_RISK_FILE": "/var/lib/selfheal/aiops/risk-prediction.json",
            "SELFHEAL_PUSHGATEWAY_URL": "http://pushgateway.monitoring.svc:9091",
        },
        labels={"app.kubernetes.io/name": "self-heal-cpt"},
    )


def lease() -> Obj:
    return {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": "self-heal-cpt"},
        "spec": {"leaseDurationSeconds": 60},
    }


def image_behavior(image: str, behavior: str) -> Obj:
    name = "".join(ch if ch.isalnum() else "-" for ch in image.lower()).strip("-")
    return {
        "apiVersion": SANDBOX_API,
        "kind": "ImageBehavior",
        "metadata": {"name": name},
        "spec": {"image": image, "behavior": behavior},
    }


# --- editing a dump: failures that begin while a container runs -------------------------------------------


def _item(items: list[Obj], kind: str, name: str) -> Obj:
    return next(i for i in items if i["kind"] == kind and i["metadata"]["name"] == name)


def _set_unready(pod: Obj, containers: Sequence[str], since: datetime) -> None:
    message = f"containers with unready status: [{' '.join(containers)}]"
    for cond in pod["status"]["conditions"]:
        if cond["type"] in ("Ready", "ContainersReady"):
            cond.update(
                status="False", reason="ContainersNotReady", message=message, lastTransitionTime=rfc(since)
            )


def crashing(
    pods: Sequence[str],
    container: str,
    *,
    onset: datetime,
    until: datetime,
    behavior: str = "CrashLoop",
    exit_zero: bool = False,
) -> Callable[[list[Obj]], None]:
    """An edit: `container` of each pod has crash-looped (`CrashLoop` exit 1, or `OOMKilled` 137) since `onset`,
    its status at `until` computed by the sandbox's container runtime model. `exit_zero`: the runs end with
    exit 0 `Completed` instead (a command that ends; the sandbox has no such behaviour, so the exit code and
    reason of the runtime model's crash are rewritten)."""

    def edit(items: list[Obj]) -> None:
        for name in pods:
            pod = _item(items, "Pod", name)
            uid, ns = pod["metadata"]["uid"], pod["metadata"]["namespace"]
            spec = next(c for c in pod["spec"]["containers"] if c["name"] == container)
            view = runtime.view(
                runtime.Spec(
                    name=container,
                    image=spec["image"],
                    behavior=behavior,
                    is_init=False,
                    restart_policy=pod["spec"].get("restartPolicy", "Always"),
                    pull_always=False,
                    readiness_delay=0.0,
                    config_error="",
                    pod_ref=f"{name}_{ns}({uid})",
                    pod_uid=uid,
                ),
                onset.timestamp(),
                until.timestamp(),
                until.timestamp(),
            )
            status = view.status
            if exit_zero:
                for state in (status.get("state") or {}, status.get("lastState") or {}):
                    if "terminated" in state:
                        state["terminated"].update(exitCode=0, reason="Completed")
            statuses = pod["status"]["containerStatuses"]
            statuses[[s["name"] for s in statuses].index(container)] = status
            _set_unready(pod, [container], onset)

    return edit


def unready(pods: Sequence[str], container: str, *, since: datetime) -> Callable[[list[Obj]], None]:
    """An edit: `container` keeps running but has failed its readiness probe since `since`."""

    def edit(items: list[Obj]) -> None:
        for name in pods:
            pod = _item(items, "Pod", name)
            for s in pod["status"]["containerStatuses"]:
                if s["name"] == container:
                    s["ready"] = False
            _set_unready(pod, [container], since)

    return edit


def unschedulable(pods: Sequence[str], message: str) -> Callable[[list[Obj]], None]:
    """An edit: the scheduler found no node for each pod (the sandbox's one node takes every pod): unbound,
    Pending, PodScheduled False/Unschedulable since its creation, no container status."""

    def edit(items: list[Obj]) -> None:
        for name in pods:
            pod = _item(items, "Pod", name)
            pod["spec"].pop("nodeName", None)
            created = pod["metadata"]["creationTimestamp"]
            pod["status"] = {
                "phase": "Pending",
                "conditions": [
                    {
                        "type": "PodScheduled",
                        "status": "False",
                        "lastProbeTime": None,
                        "lastTransitionTime": created,
                        "reason": "Unschedulable",
                        "message": message,
                    }
                ],
                "qosClass": pod["status"].get("qosClass", "Burstable"),
            }

    return edit


def both(*edits: Callable[[list[Obj]], None]) -> Callable[[list[Obj]], None]:
    def edit(items: list[Obj]) -> None:
        for e in edits:
            e(items)

    return edit


# --- the world ------------------------------------------------------------------------------------------


class World:
    """One namespace in a sandbox with a frozen clock, driven with the real kubectl."""

    def __init__(
        self,
        namespace: str,
        *,
        start: str | datetime,
        seed: int,
        behaviors: Mapping[str, str] | None = None,
        selfheal: bool = True,
        cronjob: Obj | None = None,
    ) -> None:
        self.ns = namespace
        self.seed = seed
        self.behaviors: dict[str, str] = dict(behaviors or {})
        self._tmp = Path(tempfile.mkdtemp(prefix="corpus-world-"))
        self._stack = contextlib.ExitStack()
        self._loads = 0
        moment = at(start) if isinstance(start, str) else start
        ns_obj = {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": namespace, "labels": {"kubernetes.io/metadata.name": namespace}},
        }
        self._load([ns_obj], moment)
        if selfheal:
            self.create(cronjob or selfheal_cronjob(), lease())

    # -- lifecycle --
    def _load(self, objects: list[Obj], moment: datetime) -> None:
        docs = [
            {
                "apiVersion": SANDBOX_API,
                "kind": "Scenario",
                "metadata": {"name": self.ns},
                "spec": {"capturedAt": rfc(moment)},
            },
            *(image_behavior(i, b) for i, b in sorted(self.behaviors.items())),
            *objects,
        ]
        path = self._tmp / f"load-{self._loads}.yaml"
        path.write_text(yaml.safe_dump_all(docs, sort_keys=False))
        self._stack.close()
        self._stack = contextlib.ExitStack()
        # a seed of its own per load: names and uids never repeat an earlier load's (or the replay's, seed 0)
        self.sb = self._stack.enter_context(Sandbox.start(str(path), seed=1000 * self.seed + self._loads + 1))
        self._loads += 1

    def close(self) -> None:
        self._stack.close()

    def __enter__(self) -> World:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- time --
    @property
    def now(self) -> datetime:
        return self.sb.clock.now()

    def advance(self, delta: timedelta | float) -> None:
        seconds = delta.total_seconds() if isinstance(delta, timedelta) else float(delta)
        self.sb.advance(seconds)

    def advance_to(self, moment: datetime) -> None:
        seconds = (moment - self.now).total_seconds()
        if seconds < 0:
            raise ValueError(f"{rfc(moment)} is before the world's clock {rfc(self.now)}")
        self.sb.advance(seconds)

    # -- kubectl --
    def kubectl(self, *args: str, input: str | None = None) -> str:
        res = self.sb.kubectl("-n", self.ns, *args, input=input)
        if res.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(args)}: {res.stderr.strip()}")
        return res.stdout

    def create(self, *docs: Obj) -> None:
        self.kubectl("create", "--validate=false", "-f", "-", input=yaml.safe_dump_all(docs, sort_keys=False))

    def apply(self, *docs: Obj) -> None:
        self.kubectl("apply", "--validate=false", "-f", "-", input=yaml.safe_dump_all(docs, sort_keys=False))

    def json(self, *args: str) -> Any:
        return json.loads(self.kubectl("get", *args, "-o", "json"))

    def pods(self, selector: str) -> list[str]:
        """Names of the pods matching `selector`, oldest first."""
        items = self.json("pods", "-l", selector)["items"]
        items.sort(key=lambda p: (p["metadata"]["creationTimestamp"], p["metadata"]["name"]))
        return [p["metadata"]["name"] for p in items]

    def get(self, kind: str, name: str) -> Obj:
        return self.sb.get(kind, name, self.ns)

    def put(self, obj: Obj) -> None:
        self.sb.put(obj)

    def evict(self, pod: str) -> None:
        """What the job's restart does: the Eviction API, through the official client (`kubectl create --raw`
        would send the body chunked, which the sandbox's HTTP server does not read)."""
        from kubernetes import client

        body = client.V1Eviction(metadata=client.V1ObjectMeta(name=pod, namespace=self.ns))
        with self.sb.api_client() as api:
            client.CoreV1Api(api).create_namespaced_pod_eviction(pod, self.ns, body)

    # -- the environment changes --
    def reload(
        self,
        *,
        behaviors: Mapping[str, str] | None = None,
        edit: Callable[[list[Obj]], None] | None = None,
        add: Sequence[tuple[Obj, datetime]] = (),
    ) -> None:
        """Dump the namespace with kubectl, apply `edit` to its objects, and load it into a fresh sandbox at
        the current moment with the image behaviours updated. Pods loaded from a dump keep their status
        as written (so an edited pod stays failing); pods created afterwards follow their images.
        `add`: objects created back then (an HPA resyncs every 15 s: living through weeks of that is slow,
        so an HPA joins the world shortly before the capture with its real creation time)."""
        items = yaml.safe_load(self.kubectl("get", RELOAD_KINDS, "-o", "yaml"))["items"]
        for obj, created in add:
            obj = copy.deepcopy(obj)
            obj["metadata"].update(namespace=self.ns, creationTimestamp=rfc(created))
            items.append(obj)
        namespace = yaml.safe_load(
            self.sb.kubectl("get", "namespace", self.ns, "-o", "yaml", check=True).stdout
        )
        if edit is not None:
            edit(items)
        self.behaviors.update(behaviors or {})
        self._load([namespace, *items], self.now)

    # -- the self-heal job's own objects --
    def job_ran(self, at_: datetime, *, transitions: int = 1) -> None:
        """The scheduled run at `at_` (a two-minute boundary) took the Lease and released it."""
        lease_obj = self.get("Lease", "self-heal-cpt")
        lease_obj["spec"] = {
            "leaseDurationSeconds": 1,
            "acquireTime": micro(at_ + timedelta(seconds=2.311)),
            "renewTime": micro(at_ + timedelta(seconds=3.874)),
            "leaseTransitions": transitions,
        }
        self.put(lease_obj)
        cj = self.get("CronJob", "self-heal-cpt")
        cj["status"] = {"lastScheduleTime": rfc(at_), "lastSuccessfulTime": rfc(at_ + timedelta(seconds=6))}
        self.put(cj)

    # -- the dump --
    def capture(
        self, *, header: str, behaviors: Mapping[str, str] | None = None, kinds: str = DUMP_KINDS
    ) -> str:
        """`kubectl get <kinds> -o yaml` now, preceded by the capture moment and the image behaviours a replay
        needs (what pods created after the capture do: `behaviors` over the world's own)."""
        last_run = self.now.replace(second=0, microsecond=0)
        last_run -= timedelta(minutes=last_run.minute % 2)
        if (self.now - last_run).total_seconds() < 10:
            last_run -= timedelta(minutes=2)
        with contextlib.suppress(Exception):
            self.job_ran(last_run, transitions=self.seed % 7 + 3)
        dump = self.kubectl("get", kinds, "-o", "yaml")
        table = {**self.behaviors, **(behaviors or {})}
        docs = [
            {
                "apiVersion": SANDBOX_API,
                "kind": "Scenario",
                "metadata": {"name": "capture"},
                "spec": {"capturedAt": rfc(self.now)},
            },
            *(image_behavior(i, b) for i, b in sorted(table.items())),
        ]
        lines = [f"# {line}".rstrip() for line in header.strip().splitlines()]
        return "\n".join(
            [*lines, "---", yaml.safe_dump_all(docs, sort_keys=False).rstrip(), "---", dump.rstrip(), ""]
        )


def checksum_of(*configmaps: Obj) -> str:
    return combined_checksum(
        {
            cm["metadata"]["name"]: configmap_checksum(cm.get("data"), cm.get("binaryData"))
            for cm in configmaps
        }
    )


def fmt_ts(moment: datetime) -> str:
    return fmt(moment.timestamp())
