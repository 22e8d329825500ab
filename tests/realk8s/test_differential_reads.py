"""Reads: GET, paginated lists (limit/continue, remainingItemCount), selectors, Tables, 404s, 410."""

from __future__ import annotations

import json
import urllib.request

from tests.realk8s.differential import corpus as C
from tests.realk8s.differential.fixtures import differential, known, real_cluster

__all__ = ["differential", "known", "real_cluster"]

CM = "/api/v1/namespaces/{ns}/configmaps"


def _configmaps(d, n=7):
    for i in range(n):
        cm = C.configmap(f"cm-{i:02d}", flag=str(i))
        cm["metadata"]["labels"] = {"tier": "a" if i % 2 else "b", "n": str(i)}
        d.both(lambda w, cm=cm: w.http("POST", CM.format(ns=w.namespace), body=cm))


def test_paginated_list(differential):
    d = differential()
    _configmaps(d)
    r, s = d.http("page-1", "GET", CM, query={"limit": "3"})
    tokens = {"real": r.body["metadata"]["continue"], "sandbox": s.body["metadata"]["continue"]}
    r, s = d.http("page-2", "GET", CM, query=lambda w: {"limit": "3", "continue": tokens[w.side]})
    tokens = {"real": r.body["metadata"]["continue"], "sandbox": s.body["metadata"]["continue"]}
    d.http("page-3", "GET", CM, query=lambda w: {"limit": "3", "continue": tokens[w.side]})
    d.http("limit-0", "GET", CM, query={"limit": "0"})
    d.http("limit-exact", "GET", CM, query={"limit": "8"})
    d.http("selector-page-1", "GET", CM, query={"limit": "2", "labelSelector": "tier=a"})
    d.http("bad-continue", "GET", CM, query={"limit": "2", "continue": "not-a-token"})
    d.http("negative-limit", "GET", CM, query={"limit": "-1"})
    d.http("rv-0", "GET", CM, query={"resourceVersion": "0", "limit": "3"})


def test_list_token_survives_writes(differential):
    """A continue token serves the list as it was: objects created after the first page do not show."""
    d = differential()
    _configmaps(d, 4)
    r, s = d.http("page-1", "GET", CM, query={"limit": "2"})
    tokens = {"real": r.body["metadata"]["continue"], "sandbox": s.body["metadata"]["continue"]}
    d.both(lambda w: w.http("POST", CM.format(ns=w.namespace), body=C.configmap("cm-99")))
    d.both(lambda w: w.http("DELETE", CM.format(ns=w.namespace) + "/cm-03"))
    d.http("page-2", "GET", CM, query=lambda w: {"limit": "2", "continue": tokens[w.side]})


def _etcd_compact(real) -> None:
    """Compact etcd up to now, through its JSON gateway (the apiserver itself compacts every 5 minutes)."""
    info = json.loads((real.kubeconfig.parent / "cluster.json").read_text())
    base = f"http://127.0.0.1:{info['ports']['etcd']}/v3/kv"

    def post(path, doc):
        req = urllib.request.Request(f"{base}/{path}", data=json.dumps(doc).encode(), method="POST")
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read())

    rev = post("range", {"key": "AA=="})["header"]["revision"]
    post("compaction", {"revision": rev, "physical": True})


EVENTS = "/api/v1/namespaces/{ns}/events"


def _event(name, ns):
    return {
        "metadata": {"name": name},
        "involvedObject": {"kind": "Pod", "name": "x", "namespace": ns},
        "reason": "Probe",
        "message": "m",
        "type": "Normal",
    }


def test_expired_continue_token(differential):
    """410 Expired, with a token to continue inconsistently. Forcing it on a real cluster: etcd is compacted at
    once through its JSON gateway, and the list is of Events, which the apiserver does not cache (for a cached
    resource the watch cache keeps serving a token for minutes after a compaction). The sandbox's store is
    compacted (Store.compact). The inconsistent continuation is then followed."""
    d = differential()
    for i in range(4):
        d.both(
            lambda w, i=i: w.http("POST", EVENTS.format(ns=w.namespace), body=_event(f"e{i}", w.namespace))
        )
    r, s = d.http("page-1", "GET", EVENTS, query={"limit": "2"})
    tokens = {"real": r.body["metadata"]["continue"], "sandbox": s.body["metadata"]["continue"]}
    d.both(lambda w: w.http("POST", EVENTS.format(ns=w.namespace), body=_event("e9", w.namespace)))
    _etcd_compact(d.real)
    d.sandbox.sandbox.store.compact()
    r, s = d.http("page-2-expired", "GET", EVENTS, query=lambda w: {"limit": "2", "continue": tokens[w.side]})
    tokens = {"real": r.body["metadata"]["continue"], "sandbox": s.body["metadata"]["continue"]}
    d.http(
        "inconsistent continuation", "GET", EVENTS, query=lambda w: {"limit": "5", "continue": tokens[w.side]}
    )


def test_selectors(differential):
    d = differential()
    _configmaps(d)
    for q in (
        "tier=a",
        "tier!=a",
        "tier in (a,b),n notin (1,2)",
        "n",
        "!n",
        "tier=a,n=3",
        "tier==b",
        "bad selector!",
    ):
        d.http(f"label {q}", "GET", CM, query={"labelSelector": q})
    for q in ("metadata.name=cm-01", "metadata.name!=cm-01", "metadata.namespace={ns}", "spec.foo=bar"):
        d.http(f"field {q}", "GET", CM, query=lambda w, q=q: {"fieldSelector": q.format(ns=w.namespace)})


def test_not_found(differential):
    d = differential()
    d.http("unknown object", "GET", "/api/v1/namespaces/{ns}/configmaps/ghost")
    d.http("unknown deployment", "GET", "/apis/apps/v1/namespaces/{ns}/deployments/ghost")
    d.http("unknown resource", "GET", "/api/v1/namespaces/{ns}/widgets")
    d.http("unknown group", "GET", "/apis/example.com/v1/namespaces/{ns}/widgets")
    d.http("unknown namespace list", "GET", "/api/v1/namespaces/nowhere-ns/configmaps")
    d.http("unknown namespace get", "GET", "/api/v1/namespaces/nowhere-ns/configmaps/x")
    d.http("unknown namespace create", "POST", "/api/v1/namespaces/nowhere-ns/configmaps", body=C.configmap())
    d.http("unknown namespace", "GET", "/api/v1/namespaces/nowhere-ns")
    d.http("delete unknown", "DELETE", "/apis/apps/v1/namespaces/{ns}/deployments/ghost")
    d.http(
        "patch unknown",
        "PATCH",
        "/apis/apps/v1/namespaces/{ns}/deployments/ghost",
        body={"spec": {}},
        content_type="application/merge-patch+json",
    )
    d.http("unknown subresource", "GET", "/api/v1/namespaces/{ns}/configmaps/ghost/status")


def test_tables(differential):
    d = differential()
    for obj in (
        C.configmap(),
        C.secret(),
        C.service(),
        C.hpa(),
        C.pdb(min_available=1),
        C.cronjob(),
        C.lease(),
    ):
        d.both(lambda w, obj=obj: w.http("POST", C.path_of(obj).format(ns=w.namespace), body=obj))
        if (
            C.settled(obj) is not None
        ):  # the HPA's and PDB's controllers write their status (and managedFields)
            d.settle(f"settled {obj['kind']}", C.settled(obj))
    for kind in (
        "ConfigMap",
        "Secret",
        "Service",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "CronJob",
        "Lease",
    ):
        d.http(f"table {kind}", "GET", C.PATHS[kind], accept=C_TABLE)
    d.http("table one", "GET", C.PATHS["ConfigMap"] + "/web-config", accept=C_TABLE)
    d.http("table limit", "GET", C.PATHS["ConfigMap"], accept=C_TABLE, query={"limit": "1"})
    d.http(
        "table includeObject", "GET", C.PATHS["ConfigMap"], accept=C_TABLE, query={"includeObject": "Object"}
    )


C_TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"


def test_openapi(differential):
    """The OpenAPI v3 documents kubectl validates against: the sandbox's copies are the real server's, and the
    index lists the sandbox's group versions with the same hashes (tests/realk8s/differential/capture_openapi.py
    refreshes the copies)."""
    from kubesandbox.apiserver.openapi import GROUP_VERSIONS

    d = differential()
    r, s = d.both(lambda w: w.http("GET", "/openapi/v3").body["paths"])
    # the hash is the document's SHA-512: equal hashes, equal documents
    d.compare("index", {gv: r.get(gv) for gv in GROUP_VERSIONS}, {gv: s.get(gv) for gv in GROUP_VERSIONS})
    d.http("document api/v1 served", "GET", "/openapi/v3/api/v1?hash=0", accept="application/json")
