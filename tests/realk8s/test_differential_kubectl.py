"""kubectl, both versions (v1.37.2 from .tools/k8s and the machine's 1.32), against both worlds: every command
the sandbox's own tests run, their output compared, and for writes the objects they leave behind."""

from __future__ import annotations

import json

import pytest

from tests.realk8s.differential import corpus as C
from tests.realk8s.differential.fixtures import differential, known, real_cluster
from tests.realk8s.differential.normalise import parse_table

__all__ = ["differential", "known", "real_cluster"]

VERSIONS = ["1.37", "1.32"]


def shop(d, *, replicas=2, image="registry.example/shop/web:1"):
    """The read-only world: a rolled-out Deployment, its HPA, PDB, Service, ConfigMap and the job's CronJob."""
    objs = [C.configmap(), C.deployment(replicas=replicas, image=image), C.hpa(), C.service(), C.cronjob()]
    for obj in objs:
        d.both(lambda w, obj=obj: w.http("POST", C.path_of(obj).format(ns=w.namespace), body=obj))
    d.settle("rolled out", C.rolled_out("web"))
    pdb = C.pdb(min_available=1)  # after the pods: the budget never sees an empty selector (a NoPods event)
    d.both(lambda w: w.http("POST", C.path_of(pdb).format(ns=w.namespace), body=pdb))
    d.settle("pdb observed", C.observed("PodDisruptionBudget", "web"))


@pytest.mark.parametrize("version", VERSIONS)
def test_reads(differential, version):
    d = differential()
    shop(d)
    k = lambda label, *args: d.kubectl(label, *args, "-n", "{ns}", version=version)  # noqa: E731
    for res in ("pods", "deploy", "rs", "hpa", "cronjobs", "pdb", "svc", "cm", "jobs", "all"):
        k(f"get {res}", "get", res)
    k("get pods -l", "get", "pods", "-l", "app=web")
    k("get pods wide", "get", "pods", "-o", "wide")
    k("get deploy wide", "get", "deploy", "-o", "wide")
    k("get rs wide", "get", "rs", "-o", "wide")
    k("get deploy json", "get", "deploy", "web", "-o", "json")
    k("get deploy yaml", "get", "deploy", "web", "-o", "yaml")
    k("get pods name", "get", "pods", "-o", "name")
    k(
        "get deploy jsonpath",
        "get",
        "deploy",
        "web",
        "-o",
        "jsonpath={.spec.replicas} {.status.availableReplicas}",
    )
    k(
        "get pods custom-columns",
        "get",
        "pods",
        "-o",
        "custom-columns=NAME:.metadata.name,PHASE:.status.phase",
    )
    k("get pods show-labels", "get", "pods", "--show-labels")
    k("get ghost", "get", "deploy", "ghost")
    k("get unknown type", "get", "widgets")
    k("describe deploy", "describe", "deploy", "web")
    k("describe pdb", "describe", "pdb", "web")
    k("rollout status", "rollout", "status", "deployment/web", "--timeout=20s")
    k("rollout history", "rollout", "history", "deployment/web")
    api_resources(d, version)
    k("auth can-i", "auth", "can-i", "delete", "pods")


def api_resources(d, version):
    """`kubectl api-resources`: the rows of what the sandbox serves compared as rows, and what only the real
    server serves as one list of names (the sandbox serves a subset by design)."""
    r, s = (w.kubectl("api-resources", version=version) for w in d.worlds)
    rows = {
        side: {(row["NAME"], row["APIVERSION"]): row for row in parse_table(a.body) or []}
        for side, a in (("real", r), ("sandbox", s))
    }
    served = set(rows["sandbox"])
    d.compare(
        "api-resources rows",
        {"status": r.status, "rows": [rows["real"].get(k) for k in sorted(served)]},
        {"status": s.status, "rows": [rows["sandbox"][k] for k in sorted(served)]},
    )
    d.compare("api-resources only real", sorted(f"{n} {v}" for n, v in set(rows["real"]) - served), [])


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("ptype", ["strategic", "merge", "json"])
def test_patch(differential, version, ptype):
    d = differential()
    shop(d)
    patch = (
        '[{"op":"replace","path":"/spec/replicas","value":3}]'
        if ptype == "json"
        else '{"spec":{"replicas":3}}'
    )
    args = ("patch", "deployment", "web", "-n", "{ns}", "--type", ptype, "-p", patch)
    d.kubectl("dry-run", *args, "--dry-run=server", "-o", "json", version=version)
    d.kubectl("patch", *args, version=version)
    d.settle("scaled", C.rolled_out("web", 3))
    d.kubectl("after", "get", "deploy", "web", "-n", "{ns}", "-o", "json", version=version)


@pytest.mark.parametrize("version", VERSIONS)
def test_annotate_label_scale_set_image(differential, version):
    d = differential()
    shop(d)
    k = lambda label, *args: d.kubectl(label, *args, "-n", "{ns}", version=version)  # noqa: E731
    k("annotate", "annotate", "cronjob", "self-heal", "cronjob.kubernetes.io/suspended=true")
    k("annotate again", "annotate", "cronjob", "self-heal", "cronjob.kubernetes.io/suspended=false")
    k(
        "annotate overwrite",
        "annotate",
        "cronjob",
        "self-heal",
        "cronjob.kubernetes.io/suspended=false",
        "--overwrite",
    )
    k("label", "label", "cronjob", "self-heal", "team=sre")
    k("label remove", "label", "cronjob", "self-heal", "team-")
    k("cronjob after", "get", "cronjob", "self-heal", "-o", "json")
    k("scale", "scale", "deployment", "web", "--replicas=3")
    d.settle("scaled", C.rolled_out("web", 3))
    # with its managedFields: who owns replicas after a write through /scale, and that no time is recorded there
    k("scaled deploy", "get", "deploy", "web", "-o", "json", "--show-managed-fields")
    k("set image", "set", "image", "deployment/web", "app=registry.example/shop/web:2")
    d.settle("rolled out v2", C.rolled_out("web", 3))
    k("after set image", "get", "deploy", "web", "-o", "json")
    k("replicasets", "get", "rs", "-o", "json")
    k("set image unknown container", "set", "image", "deployment/web", "nope=registry.example/x:1")


@pytest.mark.parametrize("version", VERSIONS)
def test_rollout_history_undo_restart(differential, version):
    d = differential()
    shop(d)
    k = lambda label, *args: d.kubectl(label, *args, "-n", "{ns}", version=version)  # noqa: E731
    for tag in ("2", "3"):
        k(f"set image {tag}", "set", "image", "deployment/web", f"app=registry.example/shop/web:{tag}")
        d.settle(f"rolled out {tag}", C.rolled_out("web"))
    k("history", "rollout", "history", "deployment/web")
    k("history revision 2", "rollout", "history", "deployment/web", "--revision=2")
    k("undo", "rollout", "undo", "deployment/web")
    d.settle("undone", C.rolled_out("web"))
    k("after undo", "get", "deploy", "web", "-o", "json")
    k("undo to 1", "rollout", "undo", "deployment/web", "--to-revision=1")
    d.settle("undone to 1", C.rolled_out("web"))
    k("after undo to 1", "get", "deploy", "web", "-o", "json")
    k("undo to missing", "rollout", "undo", "deployment/web", "--to-revision=9")
    k("history after", "rollout", "history", "deployment/web")
    k("restart", "rollout", "restart", "deployment/web")
    d.settle("restarted", C.rolled_out("web"))
    k("after restart", "get", "deploy", "web", "-o", "json")
    k("rs after restart", "get", "rs", "-o", "json")
    k("pause", "rollout", "pause", "deployment/web")
    k("restart paused", "rollout", "restart", "deployment/web")
    k("resume", "rollout", "resume", "deployment/web")


@pytest.mark.parametrize("version", VERSIONS)
def test_create_job_from_cronjob(differential, version):
    d = differential()
    obj = C.cronjob()
    d.both(lambda w: w.http("POST", C.path_of(obj).format(ns=w.namespace), body=obj))
    k = lambda label, *args: d.kubectl(label, *args, "-n", "{ns}", version=version)  # noqa: E731
    k("create job", "create", "job", "manual-1", "--from=cronjob/self-heal")
    k("create job again", "create", "job", "manual-1", "--from=cronjob/self-heal")
    k(
        "create job dry-run",
        "create",
        "job",
        "manual-2",
        "--from=cronjob/self-heal",
        "--dry-run=server",
        "-o",
        "json",
    )

    def done(w):
        j = w.get(f"/apis/batch/v1/namespaces/{w.namespace}/jobs/manual-1")
        return (j.get("status") or {}).get("succeeded") == 1

    d.settle("job done", done)
    k("job complete", "get", "job", "manual-1", "-o", "json")
    k("get jobs", "get", "jobs")


@pytest.mark.parametrize("version", VERSIONS)
def test_delete(differential, version):
    d = differential()
    shop(d)
    obj = C.pod()
    d.both(lambda w: w.http("POST", C.path_of(obj).format(ns=w.namespace), body=obj))
    d.settle("debug running", C.pod_running("debug"))
    k = lambda label, *args: d.kubectl(label, *args, "-n", "{ns}", version=version)  # noqa: E731
    pods = {
        w.side: sorted(
            p["metadata"]["name"]
            for p in w.get(f"/api/v1/namespaces/{w.namespace}/pods", labelSelector="app=web")["items"]
        )
        for w in d.worlds
    }
    d.kubectl(
        "delete pod",
        "delete",
        "pod",
        "{victim}",
        "-n",
        "{ns}",
        "--wait=false",
        version=version,
        per_world={w.side: {"victim": pods[w.side][0]} for w in d.worlds},
    )
    d.settle("replaced", C.rolled_out("web"))
    k("force delete", "delete", "pod", "debug", "--grace-period=0", "--force")
    k("gone", "get", "pod", "debug")
    k("delete orphan", "delete", "deployment", "web", "--cascade=orphan")

    def orphaned(w):
        rs = w.get(f"/apis/apps/v1/namespaces/{w.namespace}/replicasets")["items"]
        return rs and all(not r["metadata"].get("ownerReferences") for r in rs)

    d.settle("orphaned", orphaned)
    k("orphaned rs", "get", "rs", "-o", "json")
    k("delete rs foreground", "delete", "rs", "--all", "--cascade=foreground", "--wait=false")

    def gone(w):
        return (
            not w.get(f"/apis/apps/v1/namespaces/{w.namespace}/replicasets")["items"]
            and not w.get(f"/api/v1/namespaces/{w.namespace}/pods", labelSelector="app=web")["items"]
        )

    d.settle("all gone", gone)
    k("delete missing", "delete", "cm", "ghost")
    k("delete missing ignore", "delete", "cm", "ghost", "--ignore-not-found")


@pytest.mark.parametrize("version", VERSIONS)
def test_apply_and_create(differential, version):
    d = differential()
    k = lambda label, *args, **kw: d.kubectl(label, *args, "-n", "{ns}", version=version, **kw)  # noqa: E731
    doc = json.dumps(C.deployment(replicas=1))
    k("create", "create", "-f", "-", "--validate=false", input=doc)
    k("create again", "create", "-f", "-", "--validate=false", input=doc)
    k("apply", "apply", "-f", "-", "--validate=false", input=json.dumps(C.configmap()))
    k(
        "apply again",
        "apply",
        "-f",
        "-",
        "--validate=false",
        input=json.dumps({**C.configmap(), "data": {"flag": "off"}}),
    )
    k("applied", "get", "cm", "web-config", "-o", "json")
    k("create validate", "create", "-f", "-", input=json.dumps(C.configmap("strict")))
    k("apply server-side", "apply", "--server-side", "-f", "-", input=json.dumps(C.configmap("ssa")))
    k("create cm", "create", "configmap", "lit", "--from-literal=a=b")
    k("create secret", "create", "secret", "generic", "s", "--from-literal=a=b")
    k("secret", "get", "secret", "s", "-o", "json")
