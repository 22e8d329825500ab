"""`--from-dump`: what would the job have done with last night's namespace, without a cluster.

    selfheal plan --from-dump dump.yaml      # the plan, with every reason (dry-run)
    selfheal run  --from-dump dump.yaml      # apply it to a sandbox replaying the dump, then show the result

The dump is what `kubectl get deploy,rs,pods,hpa,pdb,cm,cronjob,lease -n NS -o yaml` prints (a `List`),
or a multi-document YAML of such objects. It is checked here first, so that a file that is not
Kubernetes YAML, has no namespace, or mixes namespaces (without `--namespace`) is one clear line; then
the sandbox (`kubesandbox serve`, a separate process: the job never imports it, and its image does not
carry it) replays it on 127.0.0.1 with its clock at the dump's capture moment, so every age and every
"older than the grace period" rule sees what the source cluster saw. History and risk files go to a
fresh directory unless given, so a what-if run never leaves cooldowns behind for real runs.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from selfheal.kube.transport import Transport, object_path
from selfheal.reporting.text import table

READY_TIMEOUT_SECONDS = 60.0
SETTLE_SECONDS = 20.0


class DumpError(ValueError):
    """A dump the job cannot replay; the message is one line naming the file and the problem."""


@dataclass(frozen=True)
class Dump:
    path: Path  # the file to replay (a filled-in copy when --namespace supplied missing namespaces)
    namespace: str
    objects: int


def _documents(path: Path) -> list[Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DumpError(f"{path}: cannot read: {exc.strerror if isinstance(exc, OSError) else exc}") from None
    try:
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise DumpError(
            f"{path}: not YAML{where}: {' '.join(str(getattr(exc, 'problem', exc)).split())}"
        ) from None
    objects: list[Any] = []
    for doc in docs:
        if isinstance(doc, dict) and doc.get("kind") == "List" and isinstance(doc.get("items"), list):
            objects.extend(doc["items"])
        else:
            objects.append(doc)
    return objects


def inspect(path: str | os.PathLike[str], namespace: str | None, workdir: Path) -> Dump:
    """Check the dump and settle its namespace; raises DumpError with one line."""
    src = Path(path)
    objects = _documents(src)
    kube = [
        o
        for o in objects
        if isinstance(o, dict)
        and o.get("apiVersion")
        and o.get("kind")
        and isinstance(o.get("metadata"), dict)
    ]
    if not kube or len(kube) != len(objects):
        bad = next((i for i, o in enumerate(objects, 1) if not any(o is k for k in kube)), None)
        detail = f"item {bad} has no apiVersion, kind and metadata" if bad else "it holds no object"
        raise DumpError(
            f"{src}: not a Kubernetes dump ({detail}); make one with "
            "`kubectl get deploy,rs,pods,hpa,pdb,cm,cronjob,lease -n NAMESPACE -o yaml`"
        )
    sandbox_docs = [o for o in kube if str(o["apiVersion"]).startswith("sandbox.selfheal.dev/")]
    namespaced = [o for o in kube if o["kind"] != "Namespace" and o not in sandbox_docs]
    found = sorted({str(o["metadata"]["namespace"]) for o in namespaced if o["metadata"].get("namespace")})
    missing = [o for o in namespaced if not o["metadata"].get("namespace")]
    declared = sorted(str(o["metadata"].get("name")) for o in kube if o["kind"] == "Namespace")
    if namespace is None:
        if len(found) > 1:
            raise DumpError(
                f"{src}: the dump mixes namespaces {', '.join(found)}: choose one with --namespace"
            )
        if missing and not found and len(declared) != 1:
            first = missing[0]
            raise DumpError(
                f"{src}: {first['kind']}/{first['metadata'].get('name')} has no metadata.namespace: "
                "say which namespace the dump was taken from with --namespace"
            )
        namespace = found[0] if found else (declared[0] if declared else None)
    elif found and namespace not in found:
        raise DumpError(f"{src}: namespace {namespace} is not in the dump (it holds {', '.join(found)})")
    if namespace is None:
        raise DumpError(f"{src}: the dump holds no namespaced object to heal")
    replay = src
    if missing:  # objects printed without their namespace: the one the user named
        for o in missing:
            o["metadata"]["namespace"] = namespace
        replay = workdir / "dump.yaml"
        replay.write_text(yaml.safe_dump_all(kube, sort_keys=False), encoding="utf-8")
    return Dump(replay, namespace, len(kube))


@contextlib.contextmanager
def sandbox(dump: Dump, workdir: Path) -> Iterator[Path]:
    """Serve the dump with `kubesandbox serve`; yields the kubeconfig. Raises DumpError when it cannot."""
    if importlib.util.find_spec("kubesandbox") is None:
        raise DumpError(
            "--from-dump needs the sandbox, which ships with the dev/test setup (`make venv`, or "
            "`pip install -e ./kubesandbox`), not with the job's image"
        )
    kubeconfig = workdir / "kubeconfig"
    env = {**os.environ, "KUBESANDBOX_PROG": f"selfheal --from-dump {dump.path.name}"}
    err_path = workdir / "sandbox.err"
    with err_path.open("w") as err:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "kubesandbox",
                "serve",
                "--scenario",
                str(dump.path),
                "--kubeconfig",
                str(kubeconfig),
            ],
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            env=env,
        )
    try:
        line = _ready_line(proc)
        if not line.startswith("sandbox ready:"):
            proc.wait(timeout=10)
            message = " ".join(err_path.read_text().split()) or f"the sandbox exited with {proc.returncode}"
            raise DumpError(message.removeprefix(f"{env['KUBESANDBOX_PROG']}: "))
        yield kubeconfig
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def _ready_line(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line or proc.poll() is not None:
            return line
    return ""


def workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="selfheal-dump-"))


# --- the healed state -------------------------------------------------------------------------------


def _items(transport: Transport, kind: str, namespace: str) -> list[dict[str, Any]]:
    doc = transport.request("GET", object_path(kind, namespace)).json() or {}
    return list(doc.get("items") or [])


def _settled(deployments: list[dict[str, Any]]) -> bool:
    for d in deployments:
        spec, status = d.get("spec") or {}, d.get("status") or {}
        if status.get("observedGeneration", 0) < d["metadata"].get("generation", 0):
            return False
        if status.get("updatedReplicas", 0) != spec.get("replicas", 1) or status.get(
            "replicas", 0
        ) != spec.get("replicas", 1):
            return False
    return True


def _pod_status(pod: dict[str, Any]) -> str:
    if pod["metadata"].get("deletionTimestamp"):
        return "Terminating"
    status = pod.get("status") or {}
    for c in (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or []):
        waiting = (c.get("state") or {}).get("waiting")
        if waiting and waiting.get("reason") not in (None, "PodInitializing", "ContainerCreating"):
            return str(waiting["reason"])
    return str(status.get("phase") or "Unknown")


def healed_state(transport: Transport, namespace: str, settle_seconds: float = SETTLE_SECONDS) -> str:
    """Deployments and pods after the pass, once the sandbox's controllers have rolled the changes out
    (or `settle_seconds` passed: a revision that keeps failing never settles)."""
    deadline = time.monotonic() + settle_seconds
    deployments = _items(transport, "Deployment", namespace)
    while not _settled(deployments) and time.monotonic() < deadline:
        time.sleep(0.5)
        deployments = _items(transport, "Deployment", namespace)
    pods = _items(transport, "Pod", namespace)
    dep_rows = []
    for d in sorted(deployments, key=lambda d: d["metadata"]["name"]):
        spec, status = d.get("spec") or {}, d.get("status") or {}
        images = ",".join(c.get("image", "") for c in spec["template"]["spec"].get("containers", []))
        dep_rows.append(
            (
                d["metadata"]["name"],
                f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 1)}",
                status.get("updatedReplicas", 0),
                status.get("availableReplicas", 0),
                d["metadata"].get("annotations", {}).get("deployment.kubernetes.io/revision", ""),
                images,
            )
        )
    pod_rows = [
        (
            p["metadata"]["name"],
            _pod_status(p),
            sum(c.get("restartCount", 0) for c in (p.get("status") or {}).get("containerStatuses") or []),
        )
        for p in sorted(pods, key=lambda p: p["metadata"]["name"])
    ]
    return (
        "deployments:\n"
        + table(["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "REVISION", "IMAGES"], dep_rows)
        + "\n\npods:\n"
        + table(["NAME", "STATUS", "RESTARTS"], pod_rows)
    )
