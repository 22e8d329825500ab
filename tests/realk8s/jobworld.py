"""The self-heal job, as deployed, against the real control plane (tests/realk8s/cluster.py).

    world = JobWorld.install(kube, ns, tmp_path)   # aiops/self-heal-job.yaml's ServiceAccount, Role and
                                                    # RoleBinding, moved into `ns`; a token and a kubeconfig
    p = world.run()                                 # `.venv/bin/selfheal run --kubeconfig SA ... --log-format json`
    p.exit_code, p.events("action.applied"), p.lines  # exit code, JSON log events, this run's history lines

The job runs as a subprocess (the real CLI), as the ServiceAccount (the real RBAC authorizer decides every
request), with the settings a test gives it and nothing from the caller's environment. Namespace: the
manifest names dese-ea-plan-v5; `job_docs(ns)` rewrites every `namespace` (metadata, the RoleBinding's
subject, the settings ConfigMap's SELFHEAL_NAMESPACE) so each story gets a namespace of its own.

Also: builders for the workloads of the stories (`deployment`, `hpa`, `pdb`), and `PodWatch`, a
`kubectl get --watch` in the background that keeps every version of the pods it saw (an evicted pod lives
about a second on kwok; its last versions show how it went).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from tests.realk8s.cluster import Kube

REPO = Path(__file__).resolve().parents[2]
JOB_MANIFEST = REPO / "aiops" / "self-heal-job.yaml"
MANIFEST_NS = "dese-ea-plan-v5"
SELFHEAL = REPO / ".venv" / "bin" / "selfheal"
SA = "self-heal-cpt"
RBAC_KINDS = ("ServiceAccount", "Role", "RoleBinding")

Obj = dict[str, Any]


def load_yaml(path: Path) -> list[Obj]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def job_docs(namespace: str = MANIFEST_NS) -> list[Obj]:
    """aiops/self-heal-job.yaml's documents, every namespace in them set to `namespace`."""
    docs = load_yaml(JOB_MANIFEST)
    for d in docs:
        assert d["metadata"]["namespace"] == MANIFEST_NS, d["metadata"]
        d["metadata"]["namespace"] = namespace
        for s in d.get("subjects") or []:
            if s.get("kind") == "ServiceAccount":
                s["namespace"] = namespace
        if d["kind"] == "ConfigMap" and "SELFHEAL_NAMESPACE" in d.get("data", {}):
            d["data"]["SELFHEAL_NAMESPACE"] = namespace
    return docs


def job_doc(kind: str, namespace: str = MANIFEST_NS) -> Obj:
    return next(d for d in job_docs(namespace) if d["kind"] == kind)


ROLE_RULES: list[Obj] = job_doc("Role")["rules"]


def rule_id(rule: Obj) -> str:
    names = "/" + ",".join(rule["resourceNames"]) if rule.get("resourceNames") else ""
    return f"{','.join(rule['verbs'])} {','.join(rule['resources'])}{names}"


def is_lock_rule(rule: Obj) -> bool:
    return rule["resources"] == ["leases"]


def settings_env(namespace: str) -> dict[str, str]:
    """The settings ConfigMap of the manifest (as the CronJob's envFrom gives them to the container), minus
    what points into the pod's volume or at the monitoring namespace: files and URLs are the test's."""
    data = dict(job_doc("ConfigMap", namespace)["data"])
    for key in (
        "SELFHEAL_RISK_FILE",
        "SELFHEAL_HISTORY_FILE",
        "SELFHEAL_PUSHGATEWAY_URL",
        "SELFHEAL_PROMETHEUS_URL",
    ):
        data.pop(key, None)
    return data


# --- one run of the job ---------------------------------------------------------------------------------


@dataclass
class Pass:
    """One `selfheal run`: its exit code, its JSON log events, and the history lines it appended."""

    argv: list[str]
    exit_code: int
    stdout: str
    stderr: str
    lines: list[Obj]  # history lines of this run (by run_id)

    @property
    def all_events(self) -> list[Obj]:
        out = []
        for line in self.stdout.splitlines():
            try:
                doc = json.loads(line)
            except ValueError:
                continue  # the plan table of a dry run
            if isinstance(doc, dict) and "event" in doc:
                out.append(doc)
        return out

    def events(self, name: str) -> list[Obj]:
        return [e for e in self.all_events if e["event"] == name]

    @property
    def run_id(self) -> str | None:
        ids = {e.get("run_id") for e in self.all_events} - {None}
        assert len(ids) <= 1, ids
        return next(iter(ids), None)

    @property
    def summary(self) -> Obj:
        s = self.events("run.summary")
        assert len(s) == 1, self.describe()
        return s[0]

    def outcomes(self, result: str) -> set[tuple[str, str]]:
        """{(action, target name)} of this run's history lines with that result."""
        return {(x["action"], x["name"]) for x in self.lines if x.get("result") == result}

    @property
    def applied(self) -> set[tuple[str, str]]:
        return self.outcomes("applied")

    @property
    def skipped(self) -> dict[tuple[str, str], str]:
        return {(x["action"], x["name"]): x["reason"] for x in self.lines if x.get("result") == "skipped"}

    def forbidden(self) -> list[str]:
        """Every sign of a 403 in what the job said: failed actions, a cluster error, a lock not released."""
        out = [
            json.dumps(e)
            for e in self.all_events
            if e.get("status") in (401, 403)
            or "403" in str(e.get("error", ""))
            or "forbidden" in str(e.get("error", "")).lower()
            or e.get("code") == "forbidden"
        ]
        out += [
            x["reason"] + ": " + x.get("detail", "") for x in self.lines if x.get("reason") == "forbidden"
        ]
        if "403" in self.stderr or "forbidden" in self.stderr.lower():
            out.append(self.stderr.strip())
        return out

    def describe(self) -> str:
        return (
            f"$ {' '.join(self.argv)}\nexit {self.exit_code}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"
            f"\n--- history lines\n" + "\n".join(json.dumps(x) for x in self.lines)
        )


@dataclass
class JobWorld:
    kube: Kube
    ns: str
    workdir: Path
    kubeconfig: Path
    history_file: Path
    risk_file: Path
    env: dict[str, str] = field(default_factory=dict)  # SELFHEAL_* for every run of this world

    @classmethod
    def install(
        cls,
        kube: Kube,
        ns: str,
        workdir: Path,
        *,
        env: dict[str, str] | None = None,
        rules: list[Obj] | None = None,
    ) -> JobWorld:
        """The manifest's ServiceAccount, Role (or one with `rules`) and RoleBinding in `ns`, and a kubeconfig
        holding a token of that ServiceAccount (`kubectl create token`)."""
        workdir.mkdir(parents=True, exist_ok=True)
        world = cls(
            kube,
            ns,
            workdir,
            workdir / "sa.kubeconfig",
            workdir / "logs" / "rollback-history.log",
            workdir / "aiops" / "risk-prediction.json",
            dict(env or {}),
        )
        kube.apply(*[d for d in job_docs(ns) if d["kind"] in RBAC_KINDS])
        if rules is not None:
            world.set_role(rules)
        world.write_kubeconfig()
        return world

    def write_kubeconfig(self) -> None:
        token = self.kube.kubectl("create", "token", SA, "-n", self.ns, "--duration=2h").strip()
        admin = json.loads(self.kube.kubectl("config", "view", "--raw", "-o", "json"))
        ca = admin["clusters"][0]["cluster"]["certificate-authority-data"]
        cfg = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {"name": "realk8s", "cluster": {"server": self.kube.url, "certificate-authority-data": ca}}
            ],
            "users": [{"name": SA, "user": {"token": token}}],
            "contexts": [{"name": SA, "context": {"cluster": "realk8s", "user": SA, "namespace": self.ns}}],
            "current-context": SA,
        }
        self.kubeconfig.write_text(json.dumps(cfg))
        self.kubeconfig.chmod(0o600)

    @property
    def user(self) -> str:
        return f"system:serviceaccount:{self.ns}:{SA}"

    def set_role(self, rules: list[Obj]) -> None:
        """Replace the Role's rules, and wait until the RBAC authorizer answers with them."""
        role = job_doc("Role", self.ns)
        role["rules"] = rules
        self.kube.kubectl("replace", "-f", "-", input=json.dumps(role))
        self.kube.wait(
            "the authorizer to see the new Role", lambda: self.granted() == expand(rules), timeout=30
        )

    def granted(self) -> set[tuple[str, str, str, str]]:
        """What the authorizer grants the ServiceAccount in its namespace (a SelfSubjectRulesReview as that user,
        what `kubectl auth can-i --list` shows), as
        (group, resource, verb, name) for the resources the Role is about."""
        review = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectRulesReview",
            "spec": {"namespace": self.ns},
        }
        out = json.loads(
            self.kube.kubectl(
                "create",
                "--validate=false",
                "-f",
                "-",
                "-o",
                "json",
                "--as",
                self.user,
                input=json.dumps(review),
            )
        )
        resources = {r for rule in ROLE_RULES for r in rule["resources"]}
        grants = set()
        for rule in out["status"].get("resourceRules", []):
            for group in rule.get("apiGroups") or [""]:
                for res in rule.get("resources") or []:
                    if res not in resources:
                        continue
                    for verb in rule.get("verbs") or []:
                        for name in rule.get("resourceNames") or [""]:
                            grants.add((group, res, verb, name))
        return grants

    def runs_env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "PYTHONPATH")
        }
        env.update(self.env)
        env.update(extra or {})
        return env

    def argv(self, *flags: str, history: Path | None = None, risk: Path | None = None) -> list[str]:
        return [
            str(SELFHEAL),
            "run",
            "--kubeconfig",
            str(self.kubeconfig),
            "--namespace",
            self.ns,
            "--history-file",
            str(history or self.history_file),
            "--risk-file",
            str(risk or self.risk_file),
            "--log-format",
            "json",
            *flags,
        ]

    def start(
        self,
        *flags: str,
        env: dict[str, str] | None = None,
        history: Path | None = None,
        risk: Path | None = None,
    ) -> tuple[list[str], subprocess.Popen[str]]:
        argv = self.argv(*flags, history=history, risk=risk)
        return argv, subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.runs_env(env),
            cwd=self.workdir,
        )

    def finish(
        self, argv: list[str], proc: subprocess.Popen[str], history: Path | None = None, timeout: float = 120
    ) -> Pass:
        out, err = proc.communicate(timeout=timeout)
        p = Pass(argv, proc.returncode, out, err, [])
        if p.run_id:
            p.lines = [x for x in read_history(history or self.history_file) if x.get("run_id") == p.run_id]
        return p

    def run(
        self,
        *flags: str,
        env: dict[str, str] | None = None,
        history: Path | None = None,
        risk: Path | None = None,
        timeout: float = 120,
    ) -> Pass:
        argv, proc = self.start(*flags, env=env, history=history, risk=risk)
        return self.finish(argv, proc, history, timeout)

    def history(self, path: Path | None = None) -> list[Obj]:
        return read_history(path or self.history_file)

    def risk(self) -> Obj:
        return json.loads(self.risk_file.read_text())


def read_history(path: Path) -> list[Obj]:
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        if line.strip():
            out.append(json.loads(line))
    return out


def expand(rules: list[Obj]) -> set[tuple[str, str, str, str]]:
    return {
        (g, r, v, n)
        for rule in rules
        for g in rule["apiGroups"]
        for r in rule["resources"]
        for v in rule["verbs"]
        for n in rule.get("resourceNames") or [""]
    }


# --- workloads ---------------------------------------------------------------------------------------------


def unique_image(ns: str, name: str, tag: str) -> str:
    """An image only this story runs: ImageBehavior documents are cluster-wide."""
    return f"registry.example/{ns}/{name}:{tag}"


def deployment(
    ns: str,
    name: str,
    image: str,
    replicas: int = 1,
    *,
    annotations: dict[str, str] | None = None,
    template_annotations: dict[str, str] | None = None,
    labels: dict[str, str] | None = None,
    **container: Any,
) -> Obj:
    sel = {"app": name}
    tmeta: Obj = {"labels": {**sel, **(labels or {})}}
    if template_annotations:
        tmeta["annotations"] = template_annotations
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": name,
            "namespace": ns,
            "labels": dict(sel),
            "annotations": dict(annotations or {}),
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": sel},
            "template": {
                "metadata": tmeta,
                "spec": {"containers": [{"name": "app", "image": image, **container}]},
            },
        },
    }


def hpa(ns: str, name: str, lo: int, hi: int) -> Obj:
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
            "minReplicas": lo,
            "maxReplicas": hi,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}},
                }
            ],
        },
    }


def pdb(ns: str, name: str, **spec: Any) -> Obj:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"selector": {"matchLabels": {"app": name}}, **spec},
    }


def pods_of(kube: Kube, ns: str, app: str) -> list[Obj]:
    return [p for p in kube.get("-n", ns, "pods", "-l", f"app={app}")["items"]]


def live_pods(kube: Kube, ns: str, app: str) -> list[Obj]:
    return [p for p in pods_of(kube, ns, app) if not p["metadata"].get("deletionTimestamp")]


def container_status(p: Obj) -> Obj:
    return (p.get("status", {}).get("containerStatuses") or [{}])[0]


_BACKOFF = re.compile(r"back-off (?:(\d+)m)?(?:(\d+)s)? restarting")


def crash_looping(p: Obj, restarts: int = 1, quiet: float = 4) -> bool:
    """Waiting in CrashLoopBackOff with at least `restarts` restarts, and for at least `quiet` more seconds:
    kwok runs each restart for 1 s, during which the container is `running` and no detector sees a crash
    loop; a pass started inside the back-off sees it."""
    s = container_status(p)
    waiting = (s.get("state") or {}).get("waiting") or {}
    if waiting.get("reason") != "CrashLoopBackOff" or s.get("restartCount", 0) < restarts:
        return False
    m = _BACKOFF.search(waiting.get("message", ""))
    finished = ((s.get("lastState") or {}).get("terminated") or {}).get("finishedAt")
    if not m or not finished:
        return True
    backoff = int(m.group(1) or 0) * 60 + int(m.group(2) or 0)
    return backoff - _since(finished) >= quiet


def ready(p: Obj) -> bool:
    return any(
        c["type"] == "Ready" and c["status"] == "True" for c in p.get("status", {}).get("conditions") or []
    )


def _since(ts: str) -> float:
    return (datetime.now(UTC) - datetime.fromisoformat(ts.replace("Z", "+00:00"))).total_seconds()


def wait_pods(
    kube: Kube, ns: str, app: str, what: str, cond: Callable[[list[Obj]], Any], timeout: float = 60
) -> Any:
    """Wait until `cond(live pods of app)` is truthy."""
    return kube.wait(what, lambda: cond(live_pods(kube, ns, app)), timeout=timeout, interval=0.5)


def rolled_out(d: Obj) -> bool:
    """`kubectl rollout status`'s test for a Deployment."""
    st, spec = d.get("status") or {}, d["spec"]
    if d["metadata"].get("generation", 0) > st.get("observedGeneration", 0):
        return False
    return (
        st.get("updatedReplicas", 0) >= spec.get("replicas", 1)
        and st.get("replicas", 0) <= st.get("updatedReplicas", 0)
        and st.get("availableReplicas", 0) >= st.get("updatedReplicas", 0)
    )


def wait_rollout(kube: Kube, ns: str, name: str, timeout: float = 90) -> Obj:
    """`kubectl rollout status deployment/name`; returns the Deployment."""

    def check() -> Any:
        d = kube.get("-n", ns, "deployment", name)
        return rolled_out(d) and d

    return kube.wait(f"rollout of deployment/{name}", check, timeout=timeout, interval=0.5)


STATE_KINDS = (
    "deployments,replicasets,horizontalpodautoscalers,poddisruptionbudgets,configmaps,leases,cronjobs"
)


def world_state(kube: Kube, ns: str) -> Obj:
    """What a write by the job would change: each object's uid, resourceVersion, generation and field managers
    — except the pods', whose status kwok rewrites as they crash: for them uid, deletion, generation and the
    DisruptionTarget condition an eviction adds."""
    out: Obj = {}
    for o in kube.get("-n", ns, STATE_KINDS, "--show-managed-fields")["items"]:
        m = o["metadata"]
        out[f"{o['kind']}/{m['name']}"] = (
            m["uid"],
            m["resourceVersion"],
            m.get("generation"),
            sorted(f["manager"] for f in m.get("managedFields", [])),
        )
    for o in kube.get("-n", ns, "pods")["items"]:
        m = o["metadata"]
        out[f"Pod/{m['name']}"] = (
            m["uid"],
            m.get("deletionTimestamp"),
            m.get("generation"),
            [
                c["type"]
                for c in (o.get("status") or {}).get("conditions") or []
                if c["type"] == "DisruptionTarget"
            ],
        )
    return out


def settle(kube: Kube, ns: str, quiet: float = 1.5, timeout: float = 60) -> Obj:
    """Wait until `world_state` stays the same for `quiet` seconds (controllers done with the last change:
    terminating pods gone, statuses written); returns it."""

    def still() -> Any:
        before = world_state(kube, ns)
        time.sleep(quiet)
        return before == world_state(kube, ns) and before

    return kube.wait(f"namespace {ns} to settle", still, timeout=timeout, interval=0)


# --- configuration, stamped as CI does ---------------------------------------------------------------


def selfheal_hash(path: Path) -> dict[str, list[str]]:
    """`selfheal hash FILE`, as CI runs it: {deployment: [config-hash, config-checksum?]}."""
    r = subprocess.run([str(SELFHEAL), "hash", str(path)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return {cols[0]: cols[1:] for cols in (ln.split("\t") for ln in r.stdout.splitlines() if ln.strip())}


def app(ns: str, name: str, image: str, configmap: str, replicas: int = 1) -> tuple[Obj, Obj]:
    """A Deployment written like deploy/base's: probes, resources with spellings the API server
    canonicalises, a restricted security context, the ConfigMap read as env and as a volume."""
    cm = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": configmap, "namespace": ns},
        "data": {"LOG_FORMAT": "json", "FEATURE_SEARCH": "on"},
    }
    d = deployment(
        ns,
        name,
        image,
        replicas,
        template_annotations={"selfheal.dev/config-checksum": "sha256:" + "0" * 64},
        ports=[{"name": "http", "containerPort": 8080}],
        env=[
            {"name": "LOG_LEVEL", "value": "info"},
            {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
        ],
        envFrom=[{"configMapRef": {"name": configmap}}],
        readinessProbe={"httpGet": {"path": "/readyz", "port": "http"}, "initialDelaySeconds": 1},
        livenessProbe={"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 20},
        resources={"requests": {"cpu": "0.1", "memory": "128Mi"}, "limits": {"memory": "0.25Gi"}},
        securityContext={
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
        },
        volumeMounts=[{"name": "config", "mountPath": "/etc/app"}, {"name": "tmp", "mountPath": "/tmp"}],
    )
    d["metadata"]["annotations"]["selfheal.dev/config-hash"] = "sha256:" + "0" * 64
    d["spec"]["template"]["spec"].update(
        automountServiceAccountToken=False,
        securityContext={
            "runAsNonRoot": True,
            "runAsUser": 10001,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        volumes=[
            {"name": "config", "configMap": {"name": configmap}},
            {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}},
        ],
    )
    return cm, d


def stamp(path: Path, cm: Obj, d: Obj) -> tuple[str, str]:
    """deploy/stamp-config-hash.sh's order: the checksum first, then the hash of the template carrying it."""
    name = d["metadata"]["name"]
    path.write_text(yaml.safe_dump_all([cm, d]))
    checksum = selfheal_hash(path)[name][1]
    d["spec"]["template"]["metadata"]["annotations"]["selfheal.dev/config-checksum"] = checksum
    path.write_text(yaml.safe_dump_all([cm, d]))
    config_hash = selfheal_hash(path)[name][0]
    d["metadata"]["annotations"]["selfheal.dev/config-hash"] = config_hash
    path.write_text(yaml.safe_dump_all([cm, d]))
    assert selfheal_hash(path)[name] == [config_hash, checksum]  # a fixed point
    return config_hash, checksum


# --- watching pods -----------------------------------------------------------------------------------------


class PodWatch:
    """`kubectl get pods --watch -o json` in the background: every version of every pod it sees."""

    def __init__(self, kube: Kube, ns: str) -> None:
        self.seen: list[Obj] = []
        self._proc = subprocess.Popen(
            [
                str(kube.bin / "kubectl"),
                "--kubeconfig",
                str(kube.kubeconfig),
                "-n",
                ns,
                "get",
                "pods",
                "--watch",
                "--output-watch-events",
                "-o",
                "json",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self._proc.stdout is not None
        buf = ""
        decoder = json.JSONDecoder()
        for chunk in iter(lambda: self._proc.stdout.readline(), ""):  # type: ignore[union-attr]
            buf += chunk
            while buf.strip():
                try:
                    doc, end = decoder.raw_decode(buf.lstrip())
                except ValueError:
                    break
                buf = buf.lstrip()[end:]
                self.seen.append(doc)

    def versions(self, name: str) -> Iterator[Obj]:
        for ev in list(self.seen):
            obj = ev.get("object", ev)
            if obj.get("metadata", {}).get("name") == name:
                yield obj

    def stop(self) -> None:
        self._proc.terminate()
        self._proc.wait(10)
        self._thread.join(5)

    def __enter__(self) -> PodWatch:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


@contextlib.contextmanager
def namespace(kube: Kube, prefix: str, labels: dict[str, str] | None = None) -> Iterator[str]:
    """A namespace for a module's stories (the `ns` fixture is per test), deleted afterwards."""
    name = f"{prefix}-{uuid.uuid4().hex[:4]}"
    kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels or {}}})
    kube.wait(f"ServiceAccount {name}/default", lambda: kube.get("-n", name, "serviceaccount", "default"))
    try:
        yield name
    finally:
        kube.kubectl("delete", "namespace", name, "--wait=false", check=False)
