"""What the differential suite (tests/realk8s/test_differential_*.py) found the sandbox doing differently from the
real v1.37.2 apiserver, each fixed in kubesandbox/ and pinned here, without a real cluster: list items, snapshot
pagination, dry runs, preconditions, defaulting, admission, validation messages, and the protocol details
kubectl 1.37 needs."""

from __future__ import annotations

import base64
import json
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubesandbox import Sandbox
from kubesandbox.apiserver.bodies import micro_time_error
from kubesandbox.apiserver.protobuf import decode_access_review, decode_core
from kubesandbox.apiserver.validation import cron_error

NS = "shop"
CM = f"/api/v1/namespaces/{NS}/configmaps"
DEPLOY = f"/apis/apps/v1/namespaces/{NS}/deployments"
PODS = f"/api/v1/namespaces/{NS}/pods"


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    path = Path(tempfile.mkdtemp(prefix="held-")) / "world.yaml"
    path.write_text(
        yaml.safe_dump_all(
            [
                {
                    "apiVersion": "sandbox.selfheal.dev/v1alpha1",
                    "kind": "Scenario",
                    "metadata": {"name": "w"},
                    "spec": {"capturedAt": "2026-01-01T12:00:00Z"},
                },
                {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}},
            ]
        )
    )
    with Sandbox.start(str(path)) as s:
        yield s


def call(
    sb: Sandbox,
    method: str,
    path: str,
    body: Any = None,
    ctype: str = "application/json",
    accept: str = "application/json",
) -> tuple[int, Any, str]:
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    req = urllib.request.Request(
        sb.url + path, data=data, method=method, headers={"Content-Type": ctype, "Accept": accept}
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            raw, status, got = resp.read(), resp.status, resp.headers.get("Content-Type", "")
    except urllib.error.HTTPError as err:
        raw, status, got = err.read(), err.code, err.headers.get("Content-Type", "")
    try:
        return status, json.loads(raw), got
    except ValueError:
        return status, raw.decode(), got


def ok(sb: Sandbox, method: str, path: str, body: Any = None, **kw: Any) -> Any:
    status, doc, _ = call(sb, method, path, body, **kw)
    assert status in (200, 201), doc
    return doc


def cm(name: str, **data: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data or {"a": "b"}}


def deployment(name: str = "web", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": "registry.example/web:1"}]},
            },
            **spec,
        },
    }


# -- lists ---------------------------------------------------------------------------------------------------


def test_list_items_carry_no_type_meta_but_table_rows_do(sb):
    ok(sb, "POST", CM, cm("a"))
    items = ok(sb, "GET", CM)["items"]
    assert items and all("kind" not in i and "apiVersion" not in i for i in items)
    table = ok(sb, "GET", CM + "?includeObject=Object", accept="application/json;as=Table;v=v1;g=meta.k8s.io")
    assert {r["object"]["kind"] for r in table["rows"]} == {"ConfigMap"}


def test_a_continued_list_is_the_snapshot_of_its_first_page(sb):
    for n in ("c1", "c2", "c3", "c4"):
        ok(sb, "POST", CM, cm(n))
    first = ok(sb, "GET", CM + "?limit=2")  # c1, c2
    ok(sb, "POST", CM, cm("c39"))
    ok(sb, "DELETE", CM + "/c3")
    ok(sb, "PATCH", CM + "/c4", {"data": {"a": "changed"}}, ctype="application/merge-patch+json")
    rest = ok(sb, "GET", f"{CM}?limit=5&continue={first['metadata']['continue']}")
    assert [i["metadata"]["name"] for i in rest["items"]] == ["c3", "c4", "kube-root-ca.crt"]
    assert rest["items"][1]["data"] == {"a": "b"}  # as it was
    assert rest["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]


def test_an_expired_token_is_410_with_a_token_to_go_on_inconsistently(sb):
    for n in ("c1", "c2", "c3"):
        ok(sb, "POST", CM, cm(n))
    first = ok(sb, "GET", CM + "?limit=2")
    ok(sb, "POST", CM, cm("c9"))
    sb.store.compact()
    status, gone, _ = call(sb, "GET", f"{CM}?limit=2&continue={first['metadata']['continue']}")
    assert (status, gone["reason"]) == (410, "Expired")
    rest = ok(sb, "GET", f"{CM}?limit=10&continue={gone['metadata']['continue']}")
    assert [i["metadata"]["name"] for i in rest["items"]] == ["c3", "c9", "kube-root-ca.crt"]  # now, not then


def test_bad_tokens_and_selectors_in_the_real_words(sb):
    status, doc, _ = call(sb, "GET", CM + "?limit=1&continue=not-a-token")
    assert (status, doc["message"]) == (
        400,
        "invalid continue token: continue key is not valid: invalid "
        "character '\\u009e' looking for beginning of value",
    )
    assert (
        call(sb, "GET", CM + "?fieldSelector=spec.x%3D1")[1]["message"]
        == '"spec.x" is not a known field selector: only "metadata.name", "metadata.namespace"'
    )
    assert (
        call(sb, "GET", PODS + "?fieldSelector=spec.x%3D1")[1]["message"]
        == "field label not supported: spec.x"
    )
    assert (
        call(sb, "GET", f"/apis/batch/v1/namespaces/{NS}/jobs?fieldSelector=spec.x%3D1")[1]["message"]
        == 'field label "spec.x" not supported for Job'
    )


def test_resource_version_0_lists_from_the_cache_unpaginated(sb):
    for n in ("c1", "c2", "c3"):
        ok(sb, "POST", CM, cm(n))
    doc = ok(sb, "GET", CM + "?limit=1&resourceVersion=0")
    assert len(doc["items"]) == 4 and "continue" not in doc["metadata"]


def test_a_watch_list_ends_its_initial_events_with_a_bookmark(sb):
    ok(sb, "POST", CM, cm("c1"))
    url = (
        sb.url + CM + "?watch=true&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch="
        "NotOlderThan&timeoutSeconds=1"
    )
    with urllib.request.urlopen(url, timeout=10) as resp:
        events = [json.loads(line) for line in resp.read().splitlines() if line.strip()]
    assert [e["type"] for e in events] == ["ADDED", "ADDED", "BOOKMARK"]
    assert events[-1]["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}


# -- writes ------------------------------------------------------------------------------------------------------


def test_dry_run_create_has_no_resource_version_and_status_is_the_servers(sb):
    created = ok(sb, "POST", DEPLOY + "?dryRun=All", {**deployment(), "status": {"replicas": 9}})
    assert "resourceVersion" not in created["metadata"] and created["status"] == {}
    pod = ok(
        sb,
        "POST",
        PODS,
        {
            "metadata": {"name": "p"},
            "status": {"phase": "Running"},
            "spec": {"containers": [{"name": "a", "image": "x"}]},
        },
    )
    assert pod["status"] == {"phase": "Pending", "qosClass": "BestEffort"}
    assert pod["metadata"]["generation"] == 1


def test_nulls_and_empty_metadata_maps_do_not_survive(sb):
    lease = ok(
        sb,
        "POST",
        f"/apis/coordination.k8s.io/v1/namespaces/{NS}/leases",
        {
            "metadata": {"name": "l", "labels": {}},
            "spec": {"holderIdentity": None, "leaseDurationSeconds": 5},
        },
    )
    assert lease["spec"] == {"leaseDurationSeconds": 5} and "labels" not in lease["metadata"]


def test_deployment_generation_counts_annotation_changes_from_users_only(sb):
    ok(sb, "POST", DEPLOY, deployment())
    sb.advance(5)
    d = ok(sb, "GET", DEPLOY + "/web")
    assert d["metadata"]["generation"] == 1  # the controller's revision annotation did not count
    d = ok(
        sb,
        "PATCH",
        DEPLOY + "/web",
        {"metadata": {"annotations": {"a": "b"}}},
        ctype="application/merge-patch+json",
    )
    assert d["metadata"]["generation"] == 2


def test_a_write_through_scale_is_owned_untimed_a_patch_is_timed(sb):
    # as kube-apiserver 1.37.2 answers after `kubectl scale` and `kubectl patch` (its ScaleHandler builds the
    # parent's managedFields entry without a time): the job cannot date a `kubectl scale` drift
    def replicas_by(path: str, replicas: int) -> dict[str, dict[str, Any]]:
        patch = {"spec": {"replicas": replicas}}
        ok(sb, "PATCH", DEPLOY + path, patch, ctype="application/merge-patch+json")
        entries = ok(sb, "GET", DEPLOY + "/web")["metadata"]["managedFields"]
        return {f"{e['manager']}/{e.get('subresource', '')}": e for e in entries}

    ok(sb, "POST", DEPLOY, deployment())
    scale = replicas_by("/web/scale?fieldManager=kubectl", 1)["kubectl/scale"]
    assert (scale["fieldsV1"], "time" in scale) == ({"f:spec": {"f:replicas": {}}}, False)
    after_patch = replicas_by("/web?fieldManager=kubectl-patch", 3)
    patch = after_patch["kubectl-patch/"]
    assert patch["fieldsV1"] == {"f:spec": {"f:replicas": {}}} and patch["time"]
    assert "kubectl/scale" not in after_patch  # the patch took replicas over


def test_pod_generation_binding_and_graceful_delete(sb):
    ok(sb, "POST", DEPLOY, deployment())
    sb.advance(5)
    pod = ok(sb, "GET", PODS + "?labelSelector=app%3Dweb")["items"][0]
    assert pod["metadata"]["generation"] == 1 and pod["spec"]["nodeName"]
    gone = ok(sb, "DELETE", f"{PODS}/{pod['metadata']['name']}")
    assert gone["metadata"]["generation"] == 2 and gone["metadata"]["deletionTimestamp"]


def test_uid_in_a_patch_is_immutable_in_a_put_a_precondition(sb):
    ok(sb, "POST", CM, cm("a"))
    zero = "00000000-0000-0000-0000-000000000000"
    status, doc, _ = call(
        sb, "PATCH", CM + "/a", {"metadata": {"uid": zero}}, ctype="application/merge-patch+json"
    )
    assert (status, doc["message"]) == (
        422,
        f'ConfigMap "a" is invalid: metadata.uid: Invalid value: "{zero}": field is immutable',
    )
    current = ok(sb, "GET", CM + "/a")
    status, doc, _ = call(sb, "PUT", CM + "/a", {**current, "metadata": {**current["metadata"], "uid": zero}})
    assert status == 409 and f"Key: /registry/configmaps/{NS}/a, ResourceVersion: 0" in doc["message"]


def test_delete_answers_options_and_preconditions_like_the_registry(sb):
    ok(sb, "POST", CM, cm("a"))
    assert ok(sb, "DELETE", CM + "/a?dryRun=All")["kind"] == "Status"
    status, doc, _ = call(sb, "DELETE", CM + "/a", {"preconditions": {"resourceVersion": "1"}})
    assert status == 409 and doc["message"].startswith(
        'Operation cannot be fulfilled on ConfigMap "a": the ResourceVersion in the precondition (1) does not match'
    )
    status, doc, _ = call(sb, "DELETE", CM + "/a", {"propagationPolicy": "Sideways"})
    assert (status, doc["details"]["kind"]) == (422, "DeleteOptions")
    status, doc, _ = call(sb, "POST", CM + "?dryRun=Some", cm("b"))
    assert (status, doc["message"]) == (
        422,
        'CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported '
        'value: ["Some"]: supported values: "All"',
    )


def test_create_refusals_in_the_real_words(sb):
    status, doc, _ = call(sb, "POST", CM, {"metadata": {"name": "u", "resourceVersion": "5"}})
    assert (status, doc["message"]) == (500, "resourceVersion should not be set on objects to be created")
    status, doc, _ = call(sb, "POST", CM, {"metadata": {}})
    assert doc["details"]["causes"][0]["message"] == "Required value: name or generateName is required"
    status, doc, _ = call(sb, "POST", CM, {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "z"}})
    assert doc["message"] == (
        'Secret in version "v1" cannot be handled as a ConfigMap: converting (v1.Secret) '
        "to (core.ConfigMap): unknown conversion"
    )
    status, doc, _ = call(sb, "POST", CM, b"{nope")
    assert doc["message"].endswith(
        "json parse error: invalid character 'n' looking for beginning of object key string ({nope)"
    )
    status, doc, _ = call(sb, "PATCH", CM + "/x", b"{nope", ctype="application/merge-patch+json")
    assert (status, doc["message"]) == (400, "invalid JSON patch")


def test_unknown_paths(sb):
    status, body, ctype = call(sb, "GET", "/apis/example.com/v1/namespaces/x/widgets")
    assert (status, body, ctype) == (404, "404 page not found\n", "text/plain; charset=utf-8")
    status, doc, _ = call(sb, "GET", f"/api/v1/namespaces/{NS}/widgets")
    assert (status, doc["details"]) == (404, {})


def test_an_eviction_must_name_its_pod(sb):
    status, doc, _ = call(
        sb, "POST", PODS + "/p/eviction", {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {}}
    )
    assert (status, doc["message"]) == (400, "name in URL does not match name in Eviction object")


# -- defaulting and admission --------------------------------------------------------------------------------


def test_defaults_of_services_secrets_jobs_and_cronjobs(sb):
    svc = ok(
        sb,
        "POST",
        f"/api/v1/namespaces/{NS}/services",
        {"metadata": {"name": "s"}, "spec": {"ports": [{"port": 80}]}},
    )
    assert svc["spec"]["clusterIP"].startswith("10.96.") and svc["spec"]["clusterIPs"] == [
        svc["spec"]["clusterIP"]
    ]
    assert svc["status"] == {"loadBalancer": {}}
    secret = ok(
        sb,
        "POST",
        f"/api/v1/namespaces/{NS}/secrets",
        {"metadata": {"name": "s"}, "data": {"a": "YQ=="}, "stringData": {"a": "z"}},
    )
    assert (secret["type"], secret["data"], "stringData" in secret) == ("Opaque", {"a": "eg=="}, False)
    template = {"spec": {"restartPolicy": "Never", "containers": [{"name": "a", "image": "x"}]}}
    job = ok(
        sb,
        "POST",
        f"/apis/batch/v1/namespaces/{NS}/jobs",
        {"metadata": {"name": "j"}, "spec": {"template": template}},
    )
    assert job["spec"]["manualSelector"] is False
    cj = ok(
        sb,
        "POST",
        f"/apis/batch/v1/namespaces/{NS}/cronjobs",
        {
            "metadata": {"name": "c"},
            "spec": {"schedule": "0 3 * * *", "jobTemplate": {"spec": {"template": template}}},
        },
    )
    assert cj["spec"]["jobTemplate"] == {
        "metadata": {},
        "spec": {
            "template": {
                "metadata": {},
                "spec": {
                    **template["spec"],
                    "containers": [
                        {
                            "name": "a",
                            "image": "x",
                            "imagePullPolicy": "Always",
                            "resources": {},
                            "terminationMessagePath": "/dev/termination-log",
                            "terminationMessagePolicy": "File",
                        }
                    ],
                    "terminationGracePeriodSeconds": 30,
                    "dnsPolicy": "ClusterFirst",
                    "securityContext": {},
                    "schedulerName": "default-scheduler",
                },
            }
        },
    }


def test_pods_get_the_service_account_token_volume(sb):
    pod = ok(
        sb, "POST", PODS, {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "a", "image": "x"}]}}
    )
    volume = pod["spec"]["volumes"][0]
    assert (
        volume["name"].startswith("kube-api-access-") and len(volume["name"]) == len("kube-api-access-") + 5
    )
    assert pod["spec"]["containers"][0]["volumeMounts"] == [
        {
            "name": volume["name"],
            "readOnly": True,
            "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
        }
    ]
    bare = ok(
        sb,
        "POST",
        PODS,
        {
            "metadata": {"name": "q"},
            "spec": {"automountServiceAccountToken": False, "containers": [{"name": "a", "image": "x"}]},
        },
    )
    assert "volumes" not in bare["spec"]
    status, doc, _ = call(
        sb,
        "POST",
        PODS,
        {
            "metadata": {"name": "r"},
            "spec": {"serviceAccountName": "missing", "containers": [{"name": "a", "image": "x"}]},
        },
    )
    assert (status, doc["message"]) == (
        403,
        f'pods "r" is forbidden: error looking up service account '
        f'{NS}/missing: serviceaccount "missing" not found',
    )
    sb.advance(5)  # the ReplicaSet controller's pods are admitted too
    ok(sb, "POST", DEPLOY, deployment())
    sb.advance(5)
    assert all(p["spec"]["volumes"] for p in ok(sb, "GET", PODS + "?labelSelector=app%3Dweb")["items"])


def test_every_namespace_gets_its_service_account_and_root_ca(sb):
    ok(sb, "POST", "/api/v1/namespaces", {"metadata": {"name": "fresh"}})
    sb.advance(0)
    assert ok(sb, "GET", "/api/v1/namespaces/fresh/serviceaccounts/default")
    ca = ok(sb, "GET", "/api/v1/namespaces/fresh/configmaps/kube-root-ca.crt")
    assert ca["data"]["ca.crt"] == sb.cert.ca_pem.decode()


def test_replicaset_and_deployment_status_count_terminating_replicas(sb):
    ok(sb, "POST", DEPLOY, deployment())
    sb.advance(5)
    assert ok(sb, "GET", DEPLOY + "/web")["status"]["terminatingReplicas"] == 0
    rs = ok(sb, "GET", f"/apis/apps/v1/namespaces/{NS}/replicasets")["items"][0]
    assert rs["status"]["terminatingReplicas"] == 0 and "minReadySeconds" not in rs["spec"]


# -- validation ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "obj", "message"),
    [
        (
            DEPLOY,
            deployment(strategy={"type": "Recreate", "rollingUpdate": {"maxSurge": 1}}),
            "spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'",
        ),
        (
            DEPLOY,
            deployment(
                strategy={"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 0}}
            ),
            "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0",
        ),
        (
            CM,
            {"metadata": {"name": "x", "labels": {"a": "v" * 64}}},
            'metadata.labels: Invalid value: "' + "v" * 64 + '": must be no more than 63 bytes',
        ),
        (
            CM,
            {"metadata": {"name": "x"}, "data": {"bad key": "x"}},
            'data[bad key]: Invalid value: "bad key": a valid config key must consist of alphanumeric characters',
        ),
        (
            f"/apis/batch/v1/namespaces/{NS}/cronjobs",
            {
                "metadata": {"name": "c"},
                "spec": {
                    "schedule": "61 * * * *",
                    "jobTemplate": {
                        "spec": {
                            "template": {
                                "spec": {
                                    "restartPolicy": "Never",
                                    "containers": [{"name": "a", "image": "x"}],
                                }
                            }
                        }
                    },
                },
            },
            'spec.schedule: Invalid value: "61 * * * *": end of range (61) above maximum (59): 61',
        ),
        (
            f"/apis/batch/v1/namespaces/{NS}/jobs",
            {
                "metadata": {"name": "j"},
                "spec": {"template": {"spec": {"containers": [{"name": "a", "image": "x"}]}}},
            },
            'spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"',
        ),
        (
            f"/apis/policy/v1/namespaces/{NS}/poddisruptionbudgets",
            {
                "metadata": {"name": "p"},
                "spec": {"minAvailable": -1, "selector": {"matchLabels": {"a": "b"}}},
            },
            "spec.minAvailable: Invalid value: -1: must be greater than or equal to 0",
        ),
        (
            f"/apis/coordination.k8s.io/v1/namespaces/{NS}/leases",
            {"metadata": {"name": "l"}, "spec": {"leaseDurationSeconds": 0}},
            "spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0",
        ),
        (
            PODS,
            {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "App_1", "image": "x"}]}},
            'spec.containers[0].name: Invalid value: "App_1": a lowercase RFC 1123 label must consist of',
        ),
    ],
)
def test_validation_messages(sb, path, obj, message):
    status, doc, _ = call(sb, "POST", path, obj)
    assert status == 422 and message in doc["message"], doc


def test_lease_times_are_micro_times():
    assert micro_time_error("2026-01-01T12:00:00.000000Z") is None
    assert micro_time_error("2026-01-01T12:00:00Z") == (
        'parsing time "2026-01-01T12:00:00Z" as "2006-01-02T15:04:05.000000Z07:00": cannot parse "Z" as ".000000"'
    )


def test_cron_schedules_as_robfig_parses_them():
    assert cron_error("*/5 * * * *") is None and cron_error("@hourly") is None
    assert cron_error("every minute") == "expected exactly 5 fields, found 2: [every minute]"
    assert cron_error("*/0 * * * *") == "step of range should be a positive number: */0"


# -- kubectl 1.37's protocol --------------------------------------------------------------------------------------


def _envelope(api_version: str, kind: str, raw: bytes) -> bytes:
    def field(n: int, payload: bytes) -> bytes:
        return bytes([n << 3 | 2, len(payload)]) + payload

    return b"k8s\x00" + field(1, field(1, api_version.encode()) + field(2, kind.encode())) + field(2, raw)


def test_protobuf_configmaps_and_access_reviews():
    def field(n: int, payload: bytes) -> bytes:
        return bytes([n << 3 | 2, len(payload)]) + payload

    raw = field(1, field(1, b"lit")) + field(2, field(1, b"a") + field(2, b"b"))
    assert decode_core(_envelope("v1", "ConfigMap", raw), "ConfigMap") == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "lit"},
        "data": {"a": "b"},
    }
    secret = decode_core(_envelope("v1", "Secret", field(2, field(1, b"a") + field(2, b"b"))), "Secret")
    assert secret["data"] == {"a": base64.b64encode(b"b").decode()}
    review = decode_access_review(
        _envelope(
            "authorization.k8s.io/v1",
            "SelfSubjectAccessReview",
            field(2, field(1, field(1, b"shop") + field(2, b"delete") + field(5, b"pods"))),
        )
    )
    assert review["spec"] == {
        "resourceAttributes": {"namespace": "shop", "verb": "delete", "resource": "pods"}
    }


def test_self_subject_access_review(sb):
    doc = ok(
        sb,
        "POST",
        "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
        {"spec": {"resourceAttributes": {"namespace": NS, "verb": "delete", "resource": "pods"}}},
    )
    assert doc["status"] == {"allowed": True}
    assert ok(sb, "GET", "/version")["gitVersion"] == "v1.37.2"


def test_fields_the_schema_lacks_are_dropped_with_a_warning_or_refused(sb):
    status, doc, _ = call(sb, "POST", CM + "?fieldValidation=Strict", {**cm("s"), "dta": {"a": "b"}})
    assert (status, doc["message"]) == (
        400,
        'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict '
        'decoding error: unknown field "dta"',
    )
    req = urllib.request.Request(
        sb.url + CM,
        data=json.dumps({**cm("w"), "dta": 1}).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.headers["Warning"] == '299 - "unknown field \\"dta\\""'
        assert "dta" not in json.loads(resp.read())
    patched = ok(
        sb,
        "PATCH",
        CM + "/w",
        [{"op": "add", "path": "/nope", "value": 1}],
        ctype="application/json-patch+json",
    )
    assert "nope" not in patched


def test_openapi_v3_is_the_real_servers(sb):
    index = ok(sb, "GET", "/openapi/v3")["paths"]
    assert {"api/v1", "apis/apps/v1", "apis/coordination.k8s.io/v1"} <= set(index)
    doc = ok(sb, "GET", index["apis/apps/v1"]["serverRelativeURL"])
    assert "io.k8s.api.apps.v1.Deployment" in doc["components"]["schemas"]


def test_events_show_their_zero_values(sb):
    event = ok(
        sb,
        "POST",
        f"/api/v1/namespaces/{NS}/events",
        {
            "metadata": {"name": "e"},
            "involvedObject": {"kind": "Pod", "name": "p", "namespace": NS},
            "reason": "R",
            "message": "m",
            "type": "Normal",
        },
    )
    assert (event["eventTime"], event["source"], event["reportingComponent"]) == (None, {}, "")
