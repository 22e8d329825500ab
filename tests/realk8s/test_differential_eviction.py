"""The job's healing writes against a running workload: evictions (with and without a PodDisruptionBudget, dry
run, uid preconditions) and the Deployment patches of selfheal.kube.requests, compared in both worlds once
the controllers have converged (the real disruption controller needs a moment: status.observedGeneration)."""

from __future__ import annotations

import json

from tests.realk8s.differential import corpus as C
from tests.realk8s.differential.fixtures import differential, known, real_cluster

__all__ = ["differential", "known", "real_cluster"]

PODS = "/api/v1/namespaces/{ns}/pods"
ZERO = "00000000-0000-0000-0000-000000000000"


def _pods(w, app="web"):
    items = w.get(f"/api/v1/namespaces/{w.namespace}/pods", labelSelector=f"app={app}")["items"]
    return sorted(
        (p for p in items if not p["metadata"].get("deletionTimestamp")), key=lambda p: p["metadata"]["name"]
    )


def _eviction(pod, uid=None, **options):
    body = {
        "apiVersion": "policy/v1",
        "kind": "Eviction",
        "metadata": {"name": pod["metadata"]["name"], "namespace": pod["metadata"]["namespace"]},
        "deleteOptions": {"preconditions": {"uid": uid or pod["metadata"]["uid"]}, **options},
    }
    return body


def _world(d, replicas=3, pdb=None):
    objs = [C.deployment(replicas=replicas)] + ([pdb] if pdb else [])
    for obj in objs:
        d.both(lambda w, obj=obj: w.http("POST", C.path_of(obj).format(ns=w.namespace), body=obj))
    d.settle("rolled out", C.rolled_out("web"))
    if pdb:

        def healthy(w):
            p = w.get(f"/apis/policy/v1/namespaces/{w.namespace}/poddisruptionbudgets/web")
            st = p.get("status") or {}
            return (
                st.get("observedGeneration") == p["metadata"]["generation"]
                and st.get("currentHealthy") == replicas
            )

        d.settle("pdb observed", healthy)


def evict(d, label, index=0, *, query=None, among=None, **kw):
    """Evict the index-th running pod of app=web (by name), or of `among` (pods listed before: a replacement's
    random name must not change which pod is picked)."""
    victims = {w.side: (among[w.side] if among else _pods(w))[index] for w in d.worlds}
    d.http(
        label,
        "POST",
        PODS + "/" + "{victim}/eviction",
        body=lambda w: _eviction(victims[w.side], **kw),
        query=query,
        path_fill=lambda w: {"victim": victims[w.side]["metadata"]["name"]},
    )
    return victims


def test_eviction_without_pdb(differential):
    d = differential()
    _world(d)
    evict(d, "dry-run", query={"dryRun": "All"})
    evict(d, "dry-run in options", dryRun=["All"])
    evict(d, "wrong uid", uid=ZERO)
    victims = evict(d, "evict")
    d.http(
        "evicted pod",
        "GET",
        PODS + "/{victim}",
        path_fill=lambda w: {"victim": victims[w.side]["metadata"]["name"]},
    )
    d.http(
        "unknown pod",
        "POST",
        PODS + "/ghost/eviction",
        body={"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "ghost"}},
    )
    d.http(
        "name mismatch",
        "POST",
        PODS + "/{victim}/eviction",
        body={"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "other"}},
        path_fill=lambda w: {"victim": _pods(w)[1]["metadata"]["name"]},
    )
    d.http(
        "get eviction",
        "GET",
        PODS + "/{victim}/eviction",
        path_fill=lambda w: {"victim": _pods(w)[1]["metadata"]["name"]},
    )
    d.settle("replaced", C.rolled_out("web"))


def test_eviction_with_pdb(differential):
    d = differential()
    _world(d, 3, C.pdb(min_available=2))
    d.http("pdb before", "GET", "/apis/policy/v1/namespaces/{ns}/poddisruptionbudgets/web")
    before = {w.side: _pods(w) for w in d.worlds}
    evict(d, "dry-run", query={"dryRun": "All"}, among=before)
    d.http("pdb after dry-run", "GET", "/apis/policy/v1/namespaces/{ns}/poddisruptionbudgets/web")
    evict(d, "first", 0, among=before)

    def counted(w):  # the disruption controller has seen the evicted pod go (before its replacement is ready)
        p = w.get(f"/apis/policy/v1/namespaces/{w.namespace}/poddisruptionbudgets/web")
        return (p.get("status") or {}).get("currentHealthy") == 2

    d.settle("pdb counted the eviction", counted, step=0.1, timeout=5)
    d.http("pdb after first", "GET", "/apis/policy/v1/namespaces/{ns}/poddisruptionbudgets/web")
    evict(d, "second refused", 1, among=before)
    evict(d, "second refused dry-run", 1, query={"dryRun": "All"}, among=before)
    d.settle("replaced", C.rolled_out("web"))

    def recovered(w):
        p = w.get(f"/apis/policy/v1/namespaces/{w.namespace}/poddisruptionbudgets/web")
        return (p.get("status") or {}).get("disruptionsAllowed") == 1 and not (p.get("status") or {}).get(
            "disruptedPods"
        )

    d.settle("pdb recovered", recovered)
    d.http("pdb when recovered", "GET", "/apis/policy/v1/namespaces/{ns}/poddisruptionbudgets/web")
    evict(d, "after recovery", 0)


def test_eviction_with_zero_budget(differential):
    d = differential()
    _world(d, 2, C.pdb(max_unavailable=0))
    d.http("pdb", "GET", "/apis/policy/v1/namespaces/{ns}/poddisruptionbudgets/web")
    evict(d, "refused", 0)


def test_job_deployment_patches(differential):
    """selfheal.kube.requests' Deployment writes, guarded as the executor guards them."""
    d = differential()
    _world(d, 2)
    dep = "/apis/apps/v1/namespaces/{ns}/deployments/web"

    def guarded(patch, ctype):
        def body(w):
            meta = w.get(dep.format(ns=w.namespace))["metadata"]
            if ctype == "application/json-patch+json":
                return [
                    {"op": "replace", "path": "/metadata/uid", "value": meta["uid"]},
                    {"op": "replace", "path": "/metadata/resourceVersion", "value": meta["resourceVersion"]},
                    *patch,
                ]
            return {
                **patch,
                "metadata": {
                    **patch.get("metadata", {}),
                    "uid": meta["uid"],
                    "resourceVersion": meta["resourceVersion"],
                },
            }

        return body

    restart = {
        "spec": {
            "template": {
                "metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "2026-01-01T12:00:00Z"}}
            }
        }
    }
    smp = "application/strategic-merge-patch+json"
    q = {"fieldManager": "selfheal"}
    d.http(
        "restart dry-run",
        "PATCH",
        dep,
        body=guarded(restart, smp),
        content_type=smp,
        query={**q, "dryRun": "All"},
    )
    d.http("restart", "PATCH", dep, body=guarded(restart, smp), content_type=smp, query=q)
    d.settle("restarted", C.rolled_out("web"))
    d.http("after restart", "GET", dep)
    merge = "application/merge-patch+json"
    d.http(
        "replicas", "PATCH", dep, body=guarded({"spec": {"replicas": 3}}, merge), content_type=merge, query=q
    )
    d.settle("scaled", C.rolled_out("web"))
    d.http(
        "traffic split",
        "PATCH",
        dep,
        body=guarded(
            {
                "metadata": {
                    "annotations": {
                        "selfheal.dev/traffic-split": json.dumps(
                            {"canary": 0, "stable": 100}, separators=(",", ":")
                        )
                    }
                }
            },
            merge,
        ),
        content_type=merge,
        query=q,
    )
    d.settle("annotated", C.rolled_out("web"))
    jp = "application/json-patch+json"
    d.http(
        "stale guard",
        "PATCH",
        dep,
        body=[
            {"op": "replace", "path": "/metadata/resourceVersion", "value": "1"},
            {"op": "replace", "path": "/spec/replicas", "value": 2},
        ],
        content_type=jp,
        query=q,
    )
    d.http(
        "wrong uid guard",
        "PATCH",
        dep,
        body=[
            {"op": "replace", "path": "/metadata/uid", "value": ZERO},
            {"op": "replace", "path": "/spec/replicas", "value": 2},
        ],
        content_type=jp,
        query=q,
    )
    d.http(
        "canary promote",
        "PATCH",
        dep,
        body=guarded(
            [
                {"op": "test", "path": "/spec/template/spec/containers/0/name", "value": "app"},
                {
                    "op": "replace",
                    "path": "/spec/template/spec/containers/0/image",
                    "value": "registry.example/shop/web:2",
                },
            ],
            jp,
        ),
        content_type=jp,
        query=q,
    )
    d.http(
        "canary promote test fails",
        "PATCH",
        dep,
        body=guarded(
            [
                {"op": "test", "path": "/spec/template/spec/containers/0/name", "value": "nope"},
                {
                    "op": "replace",
                    "path": "/spec/template/spec/containers/0/image",
                    "value": "registry.example/shop/web:3",
                },
            ],
            jp,
        ),
        content_type=jp,
        query=q,
    )
    d.settle("promoted", C.rolled_out("web"))
    d.http("replicasets", "GET", "/apis/apps/v1/namespaces/{ns}/replicasets")
