"""403s: the job's own ServiceAccount, Role and RoleBinding (aiops/self-heal-job.yaml) in both worlds, its token
used for the calls it makes (allowed) and for calls its Role does not grant (denied)."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.realk8s.differential import corpus as C
from tests.realk8s.differential.fixtures import differential, known, real_cluster

__all__ = ["differential", "known", "real_cluster"]

JOB = Path(__file__).resolve().parents[2] / "aiops" / "self-heal-job.yaml"
SA = "self-heal-cpt"


def _rbac():
    docs = [
        d
        for d in yaml.safe_load_all(JOB.read_text())
        if d and d["kind"] in ("ServiceAccount", "Role", "RoleBinding")
    ]
    for d in docs:
        for s in d.get("subjects") or []:
            s["namespace"] = "<ns>"
    return docs


def test_job_service_account(differential):
    docs = _rbac()
    d = differential(rbac=docs)
    for obj in (C.deployment(replicas=1), C.configmap(), {**C.cronjob(SA)}, C.cronjob("other"), C.secret()):
        d.both(lambda w, obj=obj: w.http("POST", C.path_of(obj).format(ns=w.namespace), body=obj))
    d.settle("rolled out", C.rolled_out("web"))
    ns = "/api/v1/namespaces/{ns}"
    apps = "/apis/apps/v1/namespaces/{ns}"
    for label, method, path in [
        ("list pods", "GET", ns + "/pods"),
        ("list configmaps", "GET", ns + "/configmaps"),
        ("list deployments", "GET", apps + "/deployments"),
        ("list replicasets", "GET", apps + "/replicasets"),
        ("list hpas", "GET", "/apis/autoscaling/v2/namespaces/{ns}/horizontalpodautoscalers"),
        ("list pdbs", "GET", "/apis/policy/v1/namespaces/{ns}/poddisruptionbudgets"),
        ("get own cronjob", "GET", f"/apis/batch/v1/namespaces/{{ns}}/cronjobs/{SA}"),
        ("get other cronjob", "GET", "/apis/batch/v1/namespaces/{ns}/cronjobs/other"),
        ("list cronjobs", "GET", "/apis/batch/v1/namespaces/{ns}/cronjobs"),
        ("get deployment", "GET", apps + "/deployments/web"),
        ("list secrets", "GET", ns + "/secrets"),
        ("get secret", "GET", ns + "/secrets/web-token"),
        ("watch pods", "GET", ns + "/pods?watch=true&timeoutSeconds=1"),
        ("delete pod", "DELETE", ns + "/pods/anything"),
        ("delete deployment", "DELETE", apps + "/deployments/web"),
        ("get scale", "GET", apps + "/deployments/web/scale"),
        ("list namespaces", "GET", "/api/v1/namespaces"),
        ("list pods all namespaces", "GET", "/api/v1/pods"),
        ("get own lease missing", "GET", f"/apis/coordination.k8s.io/v1/namespaces/{{ns}}/leases/{SA}"),
        ("get other lease", "GET", "/apis/coordination.k8s.io/v1/namespaces/{ns}/leases/other"),
        ("version", "GET", "/version"),
        ("api", "GET", "/api"),
    ]:
        d.http(label, method, path, as_user=f"<ns>/{SA}")
    d.http(
        "patch deployment",
        "PATCH",
        apps + "/deployments/web",
        as_user=f"<ns>/{SA}",
        body={"metadata": {"annotations": {"x": "y"}}},
        content_type="application/merge-patch+json",
    )
    d.http(
        "patch scale",
        "PATCH",
        apps + "/deployments/web/scale",
        as_user=f"<ns>/{SA}",
        body={"spec": {"replicas": 2}},
        content_type="application/merge-patch+json",
    )
    d.http(
        "create lease",
        "POST",
        "/apis/coordination.k8s.io/v1/namespaces/{ns}/leases",
        as_user=f"<ns>/{SA}",
        body=C.lease(SA),
        query={"fieldManager": "selfheal"},
    )
    d.http(
        "update lease",
        "PUT",
        f"/apis/coordination.k8s.io/v1/namespaces/{{ns}}/leases/{SA}",
        as_user=f"<ns>/{SA}",
        body=lambda w: w.get(f"/apis/coordination.k8s.io/v1/namespaces/{w.namespace}/leases/{SA}"),
    )
    d.http(
        "create other lease",
        "POST",
        "/apis/coordination.k8s.io/v1/namespaces/{ns}/leases",
        as_user=f"<ns>/{SA}",
        body=C.lease("other"),
    )
    d.http(
        "update other lease",
        "PUT",
        "/apis/coordination.k8s.io/v1/namespaces/{ns}/leases/other",
        as_user=f"<ns>/{SA}",
        body=lambda w: w.get(f"/apis/coordination.k8s.io/v1/namespaces/{w.namespace}/leases/other"),
    )
    d.http(
        "evict",
        "POST",
        ns + "/pods/{victim}/eviction",
        as_user=f"<ns>/{SA}",
        path_fill=lambda w: {
            "victim": w.get(f"/api/v1/namespaces/{w.namespace}/pods")["items"][0]["metadata"]["name"]
        },
        body={"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {}},
        query={"dryRun": "All"},
    )
    d.kubectl("kubectl get pods", "get", "pods", "-n", "{ns}", as_user=f"<ns>/{SA}")
    d.kubectl("kubectl get secrets", "get", "secrets", "-n", "{ns}", as_user=f"<ns>/{SA}")
    d.kubectl("kubectl delete pod", "delete", "pod", "x", "-n", "{ns}", as_user=f"<ns>/{SA}")
    d.kubectl(
        "kubectl auth can-i", "auth", "can-i", "patch", "deployments", "-n", "{ns}", as_user=f"<ns>/{SA}"
    )
    d.kubectl(
        "kubectl scale", "scale", "deployment", "web", "--replicas=2", "-n", "{ns}", as_user=f"<ns>/{SA}"
    )
    d.http("bad token", "GET", ns + "/pods", as_user="bad")
