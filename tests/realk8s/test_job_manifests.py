"""The repository's manifests on a real control plane (issue 8 §3.2 CronJob, §3.3).

Here the namespace is the manifests' own, dese-ea-plan-v5, and nothing is rewritten:
- deploy/overlays/prod, rendered by the cluster's `kubectl kustomize`, is applied server-side (dry run
  with --validate=strict, then for real) and rolls out under the namespace's Pod Security `restricted`;
- aiops/self-heal-job.yaml as it is (its CronJob in a copy whose schedule is `* * * * *`, to wait less): the
  job, as its ServiceAccount, finds production healthy — the config hashes CI stamped match the templates
  the API server defaulted — and restores a hand edit from the ReplicaSet (a server-side apply keeps no
  last-applied-configuration);
- the CronJob controller starts the job on schedule, and `kubectl create job --from=cronjob/self-heal-cpt`
  makes a Job of the jobTemplate; kwok runs their pods (the image is not really run: the Kubernetes objects
  are the evidence);
- after installing the real CRDs (.tools/crds, `bash tools/crds/fetch.sh`), the API server's own validation
  accepts the Kyverno Policy, the PrometheusRule, the ServiceMonitor and the Argo CD Application, and refuses
  a copy of each with an unknown field, a wrong type, or a value its schema forbids.

The module sets all of it up once, first (the CronJob's first minute passes while the other tests run),
and deletes the namespace and what it added outside it at the end (the CRDs stay: other modules may use
them, and a CRD is harmless to them).
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.realk8s.cluster import Kube
from tests.realk8s.jobworld import (
    MANIFEST_NS,
    REPO,
    JobWorld,
    Obj,
    job_docs,
    live_pods,
    load_yaml,
    ready,
    settings_env,
    wait_pods,
    wait_rollout,
)

PROD = REPO / "deploy" / "overlays" / "prod"
CRDS = REPO / ".tools" / "crds"
CRD_MANIFESTS = {  # manifest: its CRD
    "policies/kyverno/prevent-drift.yaml": "policies.kyverno.io",
    "monitoring/prometheus-rules.yaml": "prometheusrules.monitoring.coreos.com",
    "monitoring/cpt-web-servicemonitor.yaml": "servicemonitors.monitoring.coreos.com",
    "deploy/argocd/cpt-web.yaml": "applications.argoproj.io",
}


def run_kubectl(kube: Kube, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(kube.bin / "kubectl"), "--kubeconfig", str(kube.kubeconfig), *args],
        input=input,
        capture_output=True,
        text=True,
    )


@dataclass
class Prod:
    kube: Kube
    workdir: Path
    rendered: list[Obj]
    first_dry_run: subprocess.CompletedProcess[str]
    dry_run: subprocess.CompletedProcess[str]
    applied: subprocess.CompletedProcess[str]
    job_dry_run: subprocess.CompletedProcess[str]
    cronjob_applied_at: datetime
    created: list[tuple[str, ...]] = field(
        default_factory=list
    )  # (kind, name[, namespace]) to delete at the end


def _cronjob_every_minute() -> list[Obj]:
    docs = job_docs()  # aiops/self-heal-job.yaml, unchanged but for the schedule
    cj = next(d for d in docs if d["kind"] == "CronJob")
    assert cj["spec"]["schedule"] == "*/2 * * * *"
    cj["spec"]["schedule"] = "* * * * *"
    return docs


@pytest.fixture(scope="module", autouse=True)
def prod(kube: Kube, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prod]:
    kube.wait(
        f"no namespace {MANIFEST_NS} left by another module",
        lambda: run_kubectl(kube, "get", "namespace", MANIFEST_NS).returncode != 0,
        timeout=90,
    )
    workdir = tmp_path_factory.mktemp("prod")
    rendered_text = kube.kubectl("kustomize", str(PROD))
    (workdir / "prod.yaml").write_text(rendered_text)
    rendered = [d for d in yaml.safe_load_all(rendered_text) if d]
    ssa = ("apply", "--server-side", "--validate=strict", "-f")
    # A first install cannot be dry-run as one apply: the Namespace is created by that same apply.
    first = run_kubectl(kube, *ssa, str(workdir / "prod.yaml"), "--dry-run=server")
    namespace_doc = next(d for d in rendered if d["kind"] == "Namespace")
    kube.kubectl("apply", "--server-side", "--validate=strict", "-f", "-", input=json.dumps(namespace_doc))
    dry = run_kubectl(kube, *ssa, str(workdir / "prod.yaml"), "--dry-run=server")
    applied = run_kubectl(kube, *ssa, str(workdir / "prod.yaml"))
    # The job, as written; its PersistentVolumeClaim needs a volume (this cluster has no provisioner).
    pv_name = f"self-heal-cpt-data-{uuid.uuid4().hex[:6]}"
    kube.apply(
        {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {"name": pv_name},
            "spec": {
                "capacity": {"storage": "1Gi"},
                "accessModes": ["ReadWriteOnce"],
                "storageClassName": "",
                "persistentVolumeReclaimPolicy": "Retain",
                "hostPath": {"path": f"/var/lib/{pv_name}"},
                "claimRef": {"namespace": MANIFEST_NS, "name": "self-heal-cpt-data"},
            },
        }
    )
    job_dry = run_kubectl(kube, *ssa, str(REPO / "aiops" / "self-heal-job.yaml"), "--dry-run=server")
    every_minute = workdir / "self-heal-job.yaml"
    every_minute.write_text(yaml.safe_dump_all(_cronjob_every_minute()))
    kube.kubectl(*ssa, str(every_minute))
    p = Prod(
        kube,
        workdir,
        rendered,
        first,
        dry,
        applied,
        job_dry,
        datetime.now(UTC),
        [("persistentvolume", pv_name)],
    )
    try:
        yield p
    finally:
        kube.kubectl("delete", "namespace", MANIFEST_NS, "--wait=false", check=False)  # gone in ~20 s
        for obj in reversed(p.created):
            kube.kubectl(
                "delete",
                *obj[:2],
                *(["-n", obj[2]] if len(obj) > 2 else []),
                "--ignore-not-found",
                "--wait=false",
                check=False,
            )


# --- the production overlay ------------------------------------------------------------------------------


def test_the_prod_overlay_applies_server_side_and_rolls_out_under_restricted_pod_security(prod: Prod) -> None:
    kube = prod.kube
    namespaced = [d for d in prod.rendered if d["kind"] != "Namespace"]
    errors = [ln for ln in prod.first_dry_run.stderr.splitlines() if ln.startswith("Error")]
    assert prod.first_dry_run.returncode != 0
    assert errors == [f'Error from server (NotFound): namespaces "{MANIFEST_NS}" not found'] * len(namespaced)

    for step in (prod.dry_run, prod.applied):
        assert step.returncode == 0, step.stderr
        assert step.stderr.strip() == "", step.stderr  # no warning either (Pod Security warns on templates)
    said = prod.dry_run.stdout.splitlines()
    assert said == [
        f"{d['kind'].lower()}/{d['metadata']['name']} serverside-applied (server dry run)".replace(
            "horizontalpodautoscaler/", "horizontalpodautoscaler.autoscaling/"
        )
        .replace("deployment/", "deployment.apps/")
        .replace("poddisruptionbudget/", "poddisruptionbudget.policy/")
        for d in prod.rendered
    ]

    labels = kube.get("namespace", MANIFEST_NS)["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    for name, replicas in (("dese-ea-plan-v5", 9), ("dese-ea-plan-v5-canary", 1)):
        d = wait_rollout(kube, MANIFEST_NS, name, timeout=120)
        assert (d["spec"]["replicas"], d["status"]["readyReplicas"]) == (replicas, replicas)
    pods = kube.get("-n", MANIFEST_NS, "pods", "-l", "app=cpt-web")["items"]
    assert len(pods) == 10 and all(ready(q) for q in pods)
    assert [e for e in kube.get("-n", MANIFEST_NS, "events")["items"] if e["reason"] == "FailedCreate"] == []
    h = kube.get("-n", MANIFEST_NS, "hpa", "dese-ea-plan-v5")
    assert (h["spec"]["minReplicas"], h["spec"]["maxReplicas"]) == (9, 30)
    assert kube.get("-n", MANIFEST_NS, "pdb", "dese-ea-plan-v5")["status"]["disruptionsAllowed"] == 1


def test_the_job_as_deployed_finds_prod_healthy_and_restores_a_hand_edit(prod: Prod) -> None:
    kube = prod.kube
    assert prod.job_dry_run.returncode == 0 and prod.job_dry_run.stderr.strip() == "", prod.job_dry_run.stderr
    world = JobWorld.install(kube, MANIFEST_NS, prod.workdir / "job", env=settings_env(MANIFEST_NS))
    for name in ("dese-ea-plan-v5", "dese-ea-plan-v5-canary"):
        wait_rollout(kube, MANIFEST_NS, name, timeout=120)

    p = world.run()

    assert p.exit_code == 0 and p.forbidden() == [], p.describe()
    assert p.applied == set() and p.summary["approved"] == 0, p.describe()
    # Nothing but the canary's unknown error rate (no Prometheus here): the config hash and checksum that
    # deploy/stamp-config-hash.sh stamped match the templates as the API server stored and defaulted them.
    assert {(e["detector"], e["cause"]) for e in p.events("finding")} == {("canary", "canary_unknown")}, (
        p.describe()
    )

    # A hand edit of the canary (Kyverno would refuse it; it is not installed here): restored. The overlay
    # was applied server-side, so there is no last-applied-configuration: the source is revision 1's RS.
    canary = kube.get("-n", MANIFEST_NS, "deployment", "dese-ea-plan-v5-canary")
    assert "kubectl.kubernetes.io/last-applied-configuration" not in canary["metadata"]["annotations"]
    kube.kubectl(
        "-n", MANIFEST_NS, "set", "resources", "deployment/dese-ea-plan-v5-canary", "--limits=memory=2Gi"
    )
    kube.wait(
        "the Deployment controller to start revision 2",
        lambda: (
            (d := kube.get("-n", MANIFEST_NS, "deployment", "dese-ea-plan-v5-canary"))["status"].get(
                "observedGeneration"
            )
            == d["metadata"]["generation"]
            and d["metadata"]["annotations"].get("deployment.kubernetes.io/revision") == "2"
        ),
    )
    fixed = world.run()
    assert fixed.exit_code == 0 and fixed.forbidden() == [], fixed.describe()
    assert fixed.applied == {("restore_template", "dese-ea-plan-v5-canary")}, fixed.describe()
    finding = next(e for e in fixed.events("finding") if e["detector"] == "config_drift")
    assert "resources.limits.memory" in finding["summary"], finding
    restored = wait_rollout(kube, MANIFEST_NS, "dese-ea-plan-v5-canary", timeout=120)
    assert restored["spec"]["template"] == canary["spec"]["template"]
    assert restored["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"
    assert all(ready(q) for q in live_pods(kube, MANIFEST_NS, "cpt-web"))
    again = world.run()
    assert again.exit_code == 0 and again.applied == set(), again.describe()


# --- CRD-backed manifests --------------------------------------------------------------------------------


def _at(doc: Any, path: str) -> Any:
    for p in path.split("."):
        doc = doc[int(p)] if p.isdigit() else doc[p]
    return doc


BROKEN = {  # manifest: [(what, the object holding the field, mutation, what the API server names)]
    "policies/kyverno/prevent-drift.yaml": [
        ("unknown field", "spec", ("notAField", True), ".spec.notAField: field not declared in schema"),
        ("wrong type", "spec", ("background", "no"), ".spec.background: expected boolean"),
        (
            "value outside the enum",
            "spec",
            ("validationFailureAction", "Sometimes"),
            'spec.validationFailureAction: Unsupported value: "Sometimes"',
        ),
    ],
    "monitoring/prometheus-rules.yaml": [
        ("unknown field", "spec.groups.0", ("notAField", True), ".notAField: field not declared in schema"),
        ("wrong type", "spec.groups.0", ("name", 42), ".name: expected string"),
        (
            "value against the pattern",
            "spec.groups.0",
            ("interval", "soon"),
            "spec.groups[0].interval in body should match",
        ),
    ],
    "monitoring/cpt-web-servicemonitor.yaml": [
        (
            "unknown field",
            "spec.endpoints.0",
            ("notAField", True),
            ".spec.endpoints[0].notAField: field not declared in schema",
        ),
        ("wrong type", "spec.endpoints.0", ("interval", 30), ".spec.endpoints[0].interval: expected string"),
        (
            "value against the pattern",
            "spec.endpoints.0",
            ("interval", "soon"),
            "spec.endpoints[0].interval in body should match",
        ),
    ],
    "deploy/argocd/cpt-web.yaml": [
        (
            "unknown field",
            "spec.syncPolicy.automated",
            ("notAField", True),
            ".spec.syncPolicy.automated.notAField: field not declared in schema",
        ),
        (
            "wrong type",
            "spec.syncPolicy.automated",
            ("prune", "yes"),
            ".spec.syncPolicy.automated.prune: expected boolean",
        ),
        ("a required field missing", "spec", ("project", None), "spec.project: Required value"),
    ],
}


def test_the_crd_backed_manifests_pass_the_api_servers_validation_and_broken_copies_do_not(
    prod: Prod,
) -> None:
    kube = prod.kube
    files = sorted(CRDS.glob("*.yaml"))
    assert {f.stem for f in files} >= set(CRD_MANIFESTS.values()), (
        f"run `bash tools/crds/fetch.sh` (have {files})"
    )
    for f in files:  # server-side: the Application CRD is too big for last-applied-configuration
        kube.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(f))
    for crd in CRD_MANIFESTS.values():
        kube.kubectl("wait", "--for=condition=Established", f"crd/{crd}", "--timeout=60s")
    for doc in (load_yaml(REPO / m)[0] for m in CRD_MANIFESTS):
        ns = doc["metadata"]["namespace"]
        if run_kubectl(kube, "get", "namespace", ns).returncode != 0:
            kube.kubectl("create", "namespace", ns)
            prod.created.append(("namespace", ns))
    time.sleep(1)  # discovery of the new kinds

    for manifest, cases in BROKEN.items():
        [doc] = load_yaml(REPO / manifest)
        ok = run_kubectl(
            kube,
            "apply",
            "--server-side",
            "--dry-run=server",
            "--validate=strict",
            "-f",
            str(REPO / manifest),
        )
        assert ok.returncode == 0, (manifest, ok.stderr)
        assert ok.stdout.strip().endswith("serverside-applied (server dry run)"), ok.stdout
        for what, path, (key, value), message in cases:
            broken = json.loads(json.dumps(doc))
            if value is None:
                del _at(broken, path)[key]
            else:
                _at(broken, path)[key] = value
            r = run_kubectl(
                kube,
                "apply",
                "--server-side",
                "--dry-run=server",
                "--validate=strict",
                "-f",
                "-",
                input=json.dumps(broken),
            )
            assert r.returncode != 0, f"{manifest} with {what} was accepted: {r.stdout}"
            assert message in r.stderr, (manifest, what, r.stderr)
            # client-side apply and create go through the same schema
            c = run_kubectl(
                kube, "create", "--dry-run=server", "--validate=strict", "-f", "-", input=json.dumps(broken)
            )
            assert c.returncode != 0, f"{manifest} with {what} was accepted by create: {c.stdout}"


# --- the CronJob ---------------------------------------------------------------------------------------------


def _jobs(kube: Kube) -> list[Obj]:
    return kube.get("-n", MANIFEST_NS, "jobs")["items"]


def _assert_job_of_the_template(kube: Kube, job: Obj) -> Obj:
    cj = kube.get("-n", MANIFEST_NS, "cronjob", "self-heal-cpt")
    owner = job["metadata"]["ownerReferences"]
    assert [(o["kind"], o["name"], o["uid"], o.get("controller")) for o in owner] == [
        ("CronJob", "self-heal-cpt", cj["metadata"]["uid"], True)
    ]
    template = cj["spec"]["jobTemplate"]
    assert job["metadata"]["labels"].items() >= template["metadata"]["labels"].items()
    for key in ("backoffLimit", "activeDeadlineSeconds"):
        assert job["spec"][key] == template["spec"][key]
    assert (job["spec"]["backoffLimit"], job["spec"]["activeDeadlineSeconds"]) == (0, 90)
    assert job["spec"]["template"]["spec"] == template["spec"]["template"]["spec"]
    spec = job["spec"]["template"]["spec"]
    assert spec["serviceAccountName"] == "self-heal-cpt" and spec["containers"][0]["args"] == ["run"]
    assert spec["containers"][0]["envFrom"] == [{"configMapRef": {"name": "self-heal-cpt-config"}}]
    kube.wait(
        f"job {job['metadata']['name']} complete",
        lambda: any(
            c["type"] == "Complete" and c["status"] == "True"
            for c in kube.get("-n", MANIFEST_NS, "job", job["metadata"]["name"])
            .get("status", {})
            .get("conditions", [])
        ),
        timeout=60,
    )
    [pod] = kube.get(
        "-n", MANIFEST_NS, "pods", "-l", f"batch.kubernetes.io/job-name={job['metadata']['name']}"
    )["items"]
    # admitted under Pod Security `restricted`, with the job's token mounted and its claim bound
    assert pod["spec"]["serviceAccountName"] == "self-heal-cpt"
    assert any(v.get("projected") for v in pod["spec"]["volumes"]), pod["spec"]["volumes"]
    assert pod["status"]["phase"] == "Succeeded"
    return pod


def test_the_cronjob_controller_starts_the_job_on_schedule(prod: Prod) -> None:
    kube = prod.kube
    assert (
        kube.get("persistentvolumeclaim", "-n", MANIFEST_NS, "self-heal-cpt-data")["status"]["phase"]
        == "Bound"
    )
    scheduled = kube.wait(
        "a Job the CronJob controller started",
        lambda: [j for j in _jobs(kube) if j["metadata"]["name"].startswith("self-heal-cpt-")],
        timeout=100,
        interval=1,
    )
    job = scheduled[0]
    stamp = job["metadata"]["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"]
    at = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    assert at.second == 0 and at >= prod.cronjob_applied_at.replace(second=0, microsecond=0)
    assert job["metadata"]["name"] == f"self-heal-cpt-{int(at.timestamp()) // 60}"  # named by the minute
    _assert_job_of_the_template(kube, job)
    cj = kube.wait(
        "the CronJob's record of it",
        lambda: (
            (c := kube.get("-n", MANIFEST_NS, "cronjob", "self-heal-cpt"))["status"].get("lastSuccessfulTime")
            and c
        ),
    )
    assert cj["status"]["lastScheduleTime"] == stamp


def test_kubectl_create_job_from_the_cronjob(prod: Prod) -> None:
    kube = prod.kube
    kube.kubectl("-n", MANIFEST_NS, "create", "job", "--from=cronjob/self-heal-cpt", "manual-1")
    job = kube.get("-n", MANIFEST_NS, "job", "manual-1")
    assert job["metadata"]["annotations"]["cronjob.kubernetes.io/instantiate"] == "manual"
    _assert_job_of_the_template(kube, job)
    # the README's "kubectl logs job/..." needs a Job by that name: `create job self-heal-cpt --from=...`
    assert wait_pods(
        kube, MANIFEST_NS, "cpt-web", "prod untouched", lambda ps: len(ps) == 10 and all(ready(q) for q in ps)
    )
