"""Builders for sandbox worlds: small scenarios written as stories.

    with running(namespace("shop"), deployment("web", image="shop/web:1", replicas=3)) as sb:
        sb.advance(30)   # controllers roll the Deployment out
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from kubesandbox import Sandbox

Obj = dict[str, Any]
NS = "shop"


def namespace(name: str = NS) -> Obj:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def image_behavior(image: str, behavior: str) -> Obj:
    return {"apiVersion": "sandbox.selfheal.dev/v1alpha1", "kind": "ImageBehavior",
            "metadata": {"name": image.replace("/", "-").replace(":", "-").replace(".", "-")},
            "spec": {"image": image, "behavior": behavior}}


def deployment(name: str, *, image: str = "shop/web:1", replicas: int = 3, ns: str = NS,
               annotations: dict[str, str] | None = None, labels: dict[str, str] | None = None,
               max_surge: int | str = 1, max_unavailable: int | str = 0, paused: bool = False,
               progress_deadline: int = 600) -> Obj:
    labels = labels or {"app": name}
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns, "labels": dict(labels), "annotations": annotations or {}},
        "spec": {
            "replicas": replicas, "paused": paused, "progressDeadlineSeconds": progress_deadline,
            "selector": {"matchLabels": dict(labels)},
            "strategy": {"type": "RollingUpdate",
                         "rollingUpdate": {"maxSurge": max_surge, "maxUnavailable": max_unavailable}},
            "template": {"metadata": {"labels": dict(labels)},
                         "spec": {"containers": [{"name": "app", "image": image}]}},
        },
    }


def pdb(name: str, *, selector: dict[str, str], min_available: int | str | None = None,
        max_unavailable: int | str | None = None, ns: str = NS) -> Obj:
    spec: Obj = {"selector": {"matchLabels": selector}}
    if min_available is not None:
        spec["minAvailable"] = min_available
    if max_unavailable is not None:
        spec["maxUnavailable"] = max_unavailable
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
            "metadata": {"name": name, "namespace": ns}, "spec": spec}


def cronjob(name: str = "self-heal-cpt", *, image: str = "shop/selfheal:1", ns: str = NS) -> Obj:
    return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": name, "namespace": ns},
            "spec": {"schedule": "*/5 * * * *", "concurrencyPolicy": "Forbid",
                     "jobTemplate": {"spec": {"backoffLimit": 0, "template": {"spec": {
                         "restartPolicy": "Never",
                         "containers": [{"name": "selfheal", "image": image, "args": ["run"]}]}}}}}}


def bare_pod(name: str, *, image: str = "shop/debug:1", ns: str = NS) -> Obj:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns},
            "spec": {"containers": [{"name": "main", "image": image}]}}


def write_world(*docs: Obj, path: Path | None = None) -> Path:
    if path is None:
        path = Path(tempfile.mkdtemp(prefix="world-")) / "world.yaml"
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    return path


@contextlib.contextmanager
def running(*docs: Obj, settle: float = 0, **kwargs: Any) -> Iterator[Sandbox]:
    """Start a sandbox over these objects (a Namespace is added when missing); advance `settle` s."""
    if not any(d.get("kind") == "Namespace" for d in docs):
        docs = (namespace(), *docs)
    with Sandbox.start(str(write_world(*docs)), **kwargs) as sb:
        if settle:
            sb.advance(settle)
        yield sb
