"""Writes and their failures: create/update/delete with dry runs and preconditions, the job's Lease protocol,
and the error answers (409 AlreadyExists and stale resourceVersion, 422 validation, 404, 400)."""

from __future__ import annotations

import pytest

from tests.realk8s.differential import corpus as C
from tests.realk8s.differential.fixtures import differential, known, real_cluster

__all__ = ["differential", "known", "real_cluster"]

CM = "/api/v1/namespaces/{ns}/configmaps"
LEASES = "/apis/coordination.k8s.io/v1/namespaces/{ns}/leases"


def _uid(w, path):
    return w.get(path.format(ns=w.namespace))["metadata"]["uid"]


def _rv(w, path):
    return w.get(path.format(ns=w.namespace))["metadata"]["resourceVersion"]


def test_create_conflicts_and_dry_run(differential):
    d = differential()
    d.http("create", "POST", CM, body=C.configmap())
    d.http("already exists", "POST", CM, body=C.configmap())
    d.http("already exists dry-run", "POST", CM, body=C.configmap(), query={"dryRun": "All"})
    d.http("dry-run new", "POST", CM, body=C.configmap("other"), query={"dryRun": "All"})
    d.http("dry-run left nothing", "GET", CM + "/other")
    d.http("bad dryRun", "POST", CM, body=C.configmap("x"), query={"dryRun": "Some"})
    d.http("generateName", "POST", CM, body={"metadata": {"generateName": "gen-"}, "data": {"a": "b"}})
    d.http("no name", "POST", CM, body={"metadata": {}, "data": {"a": "b"}})
    d.http("bad name", "POST", CM, body={"metadata": {"name": "Bad_Name"}})
    d.http("namespace mismatch", "POST", CM, body={"metadata": {"name": "y", "namespace": "elsewhere"}})
    d.http(
        "kind mismatch", "POST", CM, body={"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "z"}}
    )
    d.http("not json", "POST", CM, body=b"{nope", content_type="application/json")
    d.http(
        "with uid and rv", "POST", CM, body={"metadata": {"name": "u", "uid": "1234", "resourceVersion": "5"}}
    )


def test_update_optimistic_concurrency(differential):
    d = differential()
    d.both(lambda w: w.http("POST", CM.format(ns=w.namespace), body=C.configmap()))
    one = CM + "/web-config"

    def current(w, **changes):
        o = w.get(one.format(ns=w.namespace))
        o["data"]["flag"] = "changed"
        o["metadata"].update(changes)
        return o

    d.http("put fresh", "PUT", one, body=lambda w: current(w))
    d.http("put stale rv", "PUT", one, body=lambda w: current(w, resourceVersion="1"))
    d.http(
        "put no rv",
        "PUT",
        one,
        body=lambda w: {k: v for k, v in current(w).items()} | {"metadata": {"name": "web-config"}},
    )
    d.http("put wrong uid", "PUT", one, body=lambda w: current(w, uid="00000000-0000-0000-0000-000000000000"))
    d.http("put name mismatch", "PUT", one, body=lambda w: current(w, name="other"))
    d.http("put unknown", "PUT", CM + "/ghost", body={"metadata": {"name": "ghost"}, "data": {}})
    d.http("put dry-run", "PUT", one, body=lambda w: current(w), query={"dryRun": "All"})
    d.http("put no-op", "PUT", one, body=lambda w: w.get(one.format(ns=w.namespace)))


def test_delete_preconditions_and_dry_run(differential):
    d = differential()
    for n in ("a", "b", "c"):
        d.both(lambda w, n=n: w.http("POST", CM.format(ns=w.namespace), body=C.configmap(n)))
    zero = "00000000-0000-0000-0000-000000000000"
    d.http("delete dry-run", "DELETE", CM + "/a", query={"dryRun": "All"})
    d.http("delete dry-run in body", "DELETE", CM + "/a", body={"dryRun": ["All"]})
    d.http("still there", "GET", CM + "/a")
    d.http("delete wrong uid", "DELETE", CM + "/a", body={"preconditions": {"uid": zero}})
    d.http("delete stale rv", "DELETE", CM + "/a", body={"preconditions": {"resourceVersion": "1"}})
    d.http(
        "delete right uid", "DELETE", CM + "/a", body=lambda w: {"preconditions": {"uid": _uid(w, CM + "/a")}}
    )
    d.http(
        "delete right rv",
        "DELETE",
        CM + "/b",
        body=lambda w: {"preconditions": {"resourceVersion": _rv(w, CM + "/b")}},
    )
    d.http("delete again", "DELETE", CM + "/b")
    d.http(
        "delete options kind",
        "DELETE",
        CM + "/c",
        body={"apiVersion": "v1", "kind": "DeleteOptions", "propagationPolicy": "Background"},
    )
    d.http("bad propagation", "DELETE", CM + "/c", body={"propagationPolicy": "Sideways"})


def test_lease_protocol(differential):
    """What selfheal.execution.lease sends: create, 409 on a second create, take over with an update guarded by
    the resourceVersion read, a stale update 409, release (holder null, duration 1)."""
    d = differential()
    one = LEASES + "/selfheal"
    d.http("acquire: get missing", "GET", one)
    d.http("acquire: create", "POST", LEASES, body=C.lease(), query={"fieldManager": "selfheal"})
    d.http("second create", "POST", LEASES, body=C.lease(holder="run-2"), query={"fieldManager": "selfheal"})
    seen = {w.side: w.get(one.format(ns=w.namespace)) for w in d.worlds}

    def renewed(w, holder="run-1", **spec):
        o = dict(seen[w.side])
        o["spec"] = {
            **o["spec"],
            "holderIdentity": holder,
            "renewTime": "2026-01-01T12:00:20.000000Z",
            **spec,
        }
        return o

    d.http("renew", "PUT", one, body=renewed, query={"fieldManager": "selfheal"})
    d.http(
        "renew stale",
        "PUT",
        one,
        body=lambda w: renewed(w, "run-2", leaseTransitions=1),
        query={"fieldManager": "selfheal"},
    )
    d.http(
        "release",
        "PUT",
        one,
        body=lambda w: {
            **w.get(one.format(ns=w.namespace)),
            "spec": {
                **w.get(one.format(ns=w.namespace))["spec"],
                "holderIdentity": None,
                "leaseDurationSeconds": 1,
            },
        },
        query={"fieldManager": "selfheal"},
    )
    d.http(
        "bad duration",
        "PUT",
        one,
        body=lambda w: {
            **w.get(one.format(ns=w.namespace)),
            "spec": {**w.get(one.format(ns=w.namespace))["spec"], "leaseDurationSeconds": 0},
        },
    )
    d.http(
        "bad time",
        "PUT",
        one,
        body=lambda w: {
            **w.get(one.format(ns=w.namespace)),
            "spec": {**w.get(one.format(ns=w.namespace))["spec"], "renewTime": "yesterday"},
        },
    )


INVALID = {
    "deployment no containers": {
        **C.deployment(),
        "spec": {
            **C.deployment()["spec"],
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": []}},
        },
    },
    "deployment selector mismatch": {
        **C.deployment(),
        "spec": {**C.deployment()["spec"], "selector": {"matchLabels": {"app": "other"}}},
    },
    "deployment negative replicas": C.deployment(replicas=-1),
    "deployment no selector": {
        **C.deployment(),
        "spec": {k: v for k, v in C.deployment()["spec"].items() if k != "selector"},
    },
    "deployment bad maxSurge": C.deployment(
        strategy={"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 0}}
    ),
    "deployment recreate with rollingUpdate": C.deployment(
        strategy={"type": "Recreate", "rollingUpdate": {"maxSurge": 1}}
    ),
    "pod no image": {**C.pod(), "spec": {"containers": [{"name": "app"}]}},
    "pod duplicate containers": {**C.pod(), "spec": {"containers": [C.container(), C.container()]}},
    "pod bad container name": {**C.pod(), "spec": {"containers": [C.container("App_1")]}},
    "pod bad restartPolicy": {
        **C.pod(),
        "spec": {"containers": [C.container()], "restartPolicy": "Sometimes"},
    },
    "pod bad port": {**C.pod(), "spec": {"containers": [C.container(ports=[{"containerPort": 70000}])]}},
    "pod missing service account": {
        **C.pod(),
        "spec": {"containers": [C.container()], "serviceAccountName": "missing"},
    },
    "configmap bad key": {**C.configmap(), "data": {"bad key": "x"}},
    "configmap label too long": {**C.configmap(), "metadata": {"name": "x", "labels": {"a": "v" * 64}}},
    "cronjob bad schedule": {**C.cronjob(), "spec": {**C.cronjob()["spec"], "schedule": "61 * * * *"}},
    "cronjob bad restartPolicy": {
        **C.cronjob(),
        "spec": {
            **C.cronjob()["spec"],
            "jobTemplate": {"spec": {"template": {"spec": {"containers": [C.container()]}}}},
        },
    },
    "job no restartPolicy": {**C.job(), "spec": {"template": {"spec": {"containers": [C.container()]}}}},
    "hpa max zero": {**C.hpa(), "spec": {**C.hpa()["spec"], "maxReplicas": 0}},
    "hpa no target": {**C.hpa(), "spec": {"maxReplicas": 3}},
    "pdb both": C.pdb(min_available=1, max_unavailable=1),
    "pdb negative": C.pdb(min_available=-1),
    "service no ports": {**C.service(), "spec": {"selector": {"app": "web"}}},
    "service bad port": {**C.service(), "spec": {"ports": [{"port": 0}]}},
    "lease negative duration": {**C.lease(), "spec": {"leaseDurationSeconds": -1}},
    "lease renewTime without microseconds": {**C.lease(), "spec": {"renewTime": "2026-01-01T12:00:00Z"}},
    "event in another namespace": {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": "e"},
        "involvedObject": {"kind": "Pod", "name": "x", "namespace": "elsewhere"},
        "reason": "R",
        "message": "m",
        "type": "Normal",
    },
}


@pytest.mark.parametrize("case", list(INVALID))
def test_validation(differential, case):
    d = differential()
    obj = INVALID[case]
    d.http("create", "POST", C.path_of(obj), body=obj)
