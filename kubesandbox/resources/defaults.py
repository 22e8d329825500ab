"""API-server defaulting for the fields the sandbox's kinds carry.

A real API server fills in defaults on every create and update (k8s.io/kubernetes
`pkg/apis/core/v1/defaults.go`, `pkg/apis/apps/v1/defaults.go`, `pkg/apis/batch/v1/defaults.go`),
so what `kubectl get -o yaml` prints is never exactly what was applied. The sandbox does the
same, so that code comparing live objects with manifests (config-hash drift, say) meets the
same noise it will meet on a real cluster. Only absent fields are set: defaulting is idempotent.
"""

from __future__ import annotations

import base64
from typing import Any

Obj = dict[str, Any]


def _probe(p: Obj) -> None:
    p.setdefault("timeoutSeconds", 1)
    p.setdefault("periodSeconds", 10)
    p.setdefault("successThreshold", 1)
    p.setdefault("failureThreshold", 3)
    if isinstance(p.get("grpc"), dict):
        p["grpc"].setdefault("service", "")
    if "httpGet" in p:
        p["httpGet"].setdefault("scheme", "HTTP")
        p["httpGet"].setdefault("path", "/")


def _container(c: Obj) -> None:
    image = str(c.get("image", ""))
    tag = image.rsplit("/", 1)[-1]
    latest = "@" not in image and (":" not in tag or tag.endswith(":latest"))
    c.setdefault("imagePullPolicy", "Always" if latest else "IfNotPresent")
    c.setdefault("terminationMessagePath", "/dev/termination-log")
    c.setdefault("terminationMessagePolicy", "File")
    c.setdefault("resources", {})
    for port in c.get("ports") or []:
        port.setdefault("protocol", "TCP")
    for name in ("livenessProbe", "readinessProbe", "startupProbe"):
        if isinstance(c.get(name), dict):
            _probe(c[name])
    for env in c.get("env") or []:
        value_from = env.get("valueFrom") or {}
        if value_from.get("fieldRef") is not None:
            value_from["fieldRef"].setdefault("apiVersion", "v1")
        if value_from.get("resourceFieldRef") is not None:
            value_from["resourceFieldRef"].setdefault("divisor", "0")  # a nil Quantity prints as "0"


def pod_spec(spec: Obj, *, restart_policy: str = "Always") -> None:
    spec.setdefault("restartPolicy", restart_policy)
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    if spec.get("serviceAccountName"):  # the deprecated alias, kept equal by the v1 conversion
        spec.setdefault("serviceAccount", spec["serviceAccountName"])
    for c in (spec.get("initContainers") or []) + (spec.get("containers") or []):
        if isinstance(c, dict):
            _container(c)
    for v in spec.get("volumes") or []:
        for src in ("configMap", "secret", "projected", "downwardAPI"):
            if isinstance(v.get(src), dict):
                v[src].setdefault("defaultMode", 420)
        if isinstance(v.get("hostPath"), dict):
            v["hostPath"].setdefault("type", "")
        for source in (v.get("projected") or {}).get("sources") or []:
            if isinstance(source.get("serviceAccountToken"), dict):
                source["serviceAccountToken"].setdefault("expirationSeconds", 3600)


def _template(tmpl: Obj | None, *, restart_policy: str = "Always") -> None:
    """A pod template (a 1.33+ server no longer prints its zero `metadata.creationTimestamp` as null)."""
    if not isinstance(tmpl, dict):
        return
    tmpl.setdefault("metadata", {})  # a struct, not a pointer: `{}` when empty
    if isinstance(tmpl.get("spec"), dict):
        pod_spec(tmpl["spec"], restart_policy=restart_policy)


def _deployment(obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    strategy = spec.setdefault("strategy", {"type": "RollingUpdate"})
    if strategy.get("type", "RollingUpdate") == "RollingUpdate":
        strategy.setdefault("type", "RollingUpdate")
        ru = strategy.setdefault("rollingUpdate", {})
        ru.setdefault("maxUnavailable", "25%")
        ru.setdefault("maxSurge", "25%")
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    _template(spec.get("template"))


def _replicaset(obj: Obj) -> None:
    obj.setdefault("spec", {}).setdefault("replicas", 1)
    _template(obj["spec"].get("template"))


def _job_spec(spec: Obj) -> None:
    spec.setdefault("parallelism", 1)
    spec.setdefault("completions", 1)
    spec.setdefault("backoffLimit", 6)
    spec.setdefault("completionMode", "NonIndexed")
    spec.setdefault("suspend", False)
    spec.setdefault("podReplacementPolicy", "TerminatingOrFailed")
    _template(spec.get("template"))  # restartPolicy defaults to Always here too, which Job validation refuses


def _job(obj: Obj) -> None:
    _job_spec(obj.setdefault("spec", {}))


def _cronjob(obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("concurrencyPolicy", "Allow")
    spec.setdefault("suspend", False)
    spec.setdefault("successfulJobsHistoryLimit", 3)
    spec.setdefault("failedJobsHistoryLimit", 1)
    # Only the pod template inside is defaulted: SetDefaults_Job runs on Jobs, not on a CronJob's jobTemplate
    jt = spec.setdefault("jobTemplate", {})
    jt.setdefault("metadata", {})
    _template(jt.setdefault("spec", {}).get("template"))


def _pod(obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    pod_spec(spec)
    spec.setdefault("serviceAccountName", "default")
    spec.setdefault("serviceAccount", spec["serviceAccountName"])
    spec.setdefault("enableServiceLinks", True)
    spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
    spec.setdefault("priority", 0)
    spec.setdefault(
        "tolerations",
        [
            {
                "key": "node.kubernetes.io/not-ready",
                "operator": "Exists",
                "effect": "NoExecute",
                "tolerationSeconds": 300,
            },
            {
                "key": "node.kubernetes.io/unreachable",
                "operator": "Exists",
                "effect": "NoExecute",
                "tolerationSeconds": 300,
            },
        ],
    )


def _service(obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    spec.setdefault("ipFamilyPolicy", "SingleStack")
    spec.setdefault("ipFamilies", ["IPv4"])
    spec.setdefault("internalTrafficPolicy", "Cluster")
    for p in spec.get("ports") or []:
        p.setdefault("protocol", "TCP")
        p.setdefault("targetPort", p.get("port"))


def _secret(obj: Obj) -> None:
    """`type` defaults to Opaque; write-only `stringData` is merged into `data` (base64), overriding it."""
    obj.setdefault("type", "Opaque")
    string_data = obj.pop("stringData", None)
    if isinstance(string_data, dict) and string_data:
        data = obj.setdefault("data", {}) or {}
        for k, v in string_data.items():
            data[k] = base64.b64encode(str(v).encode()).decode()
        obj["data"] = data


def _event(obj: Obj) -> None:
    """Not defaults: the zero values of core/v1 Event fields Go encodes without omitempty."""
    for key, zero in (
        ("eventTime", None),
        ("firstTimestamp", None),
        ("lastTimestamp", None),
        ("reportingComponent", ""),
        ("reportingInstance", ""),
        ("source", {}),
    ):
        obj.setdefault(key, zero)


def _hpa(obj: Obj) -> None:
    obj.setdefault("spec", {}).setdefault("minReplicas", 1)


def _namespace(obj: Obj) -> None:
    labels = obj.setdefault("metadata", {}).setdefault("labels", {})
    labels.setdefault("kubernetes.io/metadata.name", obj["metadata"].get("name", ""))
    obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
    obj.setdefault("status", {}).setdefault("phase", "Active")


_BY_KIND = {
    "Deployment": _deployment,
    "ReplicaSet": _replicaset,
    "Job": _job,
    "CronJob": _cronjob,
    "Pod": _pod,
    "Service": _service,
    "Secret": _secret,
    "Event": _event,
    "HorizontalPodAutoscaler": _hpa,
    "Namespace": _namespace,
}


def apply_defaults(obj: Obj) -> Obj:
    """Fill in the defaults a real API server would, in place; returns `obj`."""
    fn = _BY_KIND.get(str(obj.get("kind", "")))
    if fn is not None:
        fn(obj)
    return obj
