"""Discovery as kubectl needs it: aggregated with the exact Content-Type, and legacy."""

from __future__ import annotations

import json
import urllib.request

from kubesandbox.apiserver.discovery import AGGREGATED_CONTENT_TYPE
from kubesandbox.resources import RESOURCES
from kubesandbox.serve.sandbox import ADMIN_TOKEN
from tests.kubesandbox.worlds import running


def fetch(sb, path: str, accept: str = "application/json"):
    req = urllib.request.Request(
        sb.url + path, headers={"Accept": accept, "Authorization": f"Bearer {ADMIN_TOKEN}"}
    )
    with urllib.request.urlopen(req) as resp:
        return resp.headers["Content-Type"], json.loads(resp.read())


def test_aggregated_discovery_uses_the_exact_content_type():
    with running() as sb:
        ctype, doc = fetch(sb, "/apis", AGGREGATED_CONTENT_TYPE + ",application/json")
        assert ctype == AGGREGATED_CONTENT_TYPE
        groups = {item["metadata"]["name"] for item in doc["items"]}
        assert {
            "apps",
            "batch",
            "autoscaling",
            "policy",
            "coordination.k8s.io",
            "rbac.authorization.k8s.io",
        } <= groups
        apps = next(i for i in doc["items"] if i["metadata"]["name"] == "apps")
        deploy = next(r for r in apps["versions"][0]["resources"] if r["resource"] == "deployments")
        assert deploy["shortNames"] == ["deploy"]
        assert {s["subresource"] for s in deploy["subresources"]} == {"scale", "status"}


def test_legacy_discovery_lists_every_resource_with_short_names():
    with running() as sb:
        _, core = fetch(sb, "/api/v1")
        names = {r["name"] for r in core["resources"]}
        assert {"pods", "pods/eviction", "pods/status", "configmaps", "events"} <= names
        served = {(r.group, r.plural) for r in RESOURCES}
        _, groups = fetch(sb, "/apis")
        for g in groups["groups"]:
            _, rl = fetch(sb, f"/apis/{g['preferredVersion']['groupVersion']}")
            served -= {(g["name"], r["name"]) for r in rl["resources"]}
        served -= {("", r["name"]) for r in core["resources"]}
        assert served == set()


def test_version():
    with running() as sb:
        _, v = fetch(sb, "/version")
        assert (v["major"], v["minor"]) == ("1", "37")  # tools/k8s's kube-apiserver, the one it is held to


def test_kubectl_api_resources_lists_what_the_sandbox_serves():
    with running() as sb:
        res = sb.kubectl("api-resources", "--no-headers")
        assert res.returncode == 0, res.stderr
        names = {line.split()[0] for line in res.stdout.splitlines()}
        assert {r.plural for r in RESOURCES} <= names
        assert not any(r.path in ("/api/v1", "/apis/apps/v1") for r in sb.requests), (
            "aggregated discovery should spare kubectl the per-group requests"
        )
