"""RBAC from `--rbac-from` manifests, enforced over HTTP for both kubectl and the official client."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from kubernetes import client
from kubernetes.client.rest import ApiException

from tests.builders import deployment
from tests.kubesandbox.worlds import running

RBAC = [
    {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "healer", "namespace": "shop"}},
    {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": "healer", "namespace": "shop"},
        "rules": [
            {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]},
            {"apiGroups": [""], "resources": ["pods/eviction"], "verbs": ["create"]},
            {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get", "list", "patch"]},
        ],
    },
    {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": "healer", "namespace": "shop"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "healer"},
        "subjects": [{"kind": "ServiceAccount", "name": "healer", "namespace": "shop"}],
    },
]
CONTEXT = "sa-shop-healer"


@pytest.fixture()
def rbac_file(tmp_path: Path) -> Path:
    path = tmp_path / "rbac.yaml"
    path.write_text(yaml.safe_dump_all(RBAC))
    return path


def test_the_service_account_may_do_what_its_role_allows_and_nothing_else(rbac_file):
    with running(deployment("web", replicas=1), settle=10, rbac_from=[rbac_file]) as sb:
        core = client.CoreV1Api(sb.api_client(CONTEXT))
        pod = core.list_namespaced_pod("shop").items[0].metadata.name  # allowed: list pods
        with pytest.raises(ApiException) as err:
            core.delete_namespaced_pod(pod, "shop")
        assert err.value.status == 403
        body = json.loads(err.value.body)
        assert body["reason"] == "Forbidden"
        assert body["message"] == (
            f'pods "{pod}" is forbidden: User "system:serviceaccount:shop:healer" cannot delete resource '
            f'"pods" in API group "" in the namespace "shop"'
        )
        assert sb.find("Pod", pod) is not None
        apps = client.AppsV1Api(sb.api_client(CONTEXT))
        apps.patch_namespaced_deployment("web", "shop", {"metadata": {"labels": {"ok": "1"}}})
        with pytest.raises(ApiException) as err:
            apps.patch_namespaced_deployment_scale("web", "shop", {"spec": {"replicas": 2}})
        assert err.value.status == 403
        assert (
            'cannot patch resource "deployments/scale" in API group "apps"'
            in json.loads(err.value.body)["message"]
        )


def test_role_changes_through_the_api_take_effect(rbac_file):
    with running(deployment("web", replicas=1), settle=10, rbac_from=[rbac_file]) as sb:
        core = client.CoreV1Api(sb.api_client(CONTEXT))
        with pytest.raises(ApiException):
            core.list_namespaced_config_map("shop")
        role = sb.get("Role", "healer")
        role["rules"].append({"apiGroups": [""], "resources": ["configmaps"], "verbs": ["list"]})
        sb.put(role)
        # the one every namespace holds (kube-root-ca.crt, kubesandbox/controllers/namespaces.py)
        assert [c.metadata.name for c in core.list_namespaced_config_map("shop").items] == [
            "kube-root-ca.crt"
        ]


def test_kubectl_as_the_service_account_sees_forbidden(rbac_file):
    with running(deployment("web", replicas=1), settle=10, rbac_from=[rbac_file]) as sb:
        ok = sb.kubectl("get", "pods", context=CONTEXT)
        assert ok.returncode == 0 and "web-" in ok.stdout
        denied = sb.kubectl("get", "configmaps", context=CONTEXT)
        assert denied.returncode == 1
        assert (
            "Error from server (Forbidden): configmaps is forbidden: User "
            '"system:serviceaccount:shop:healer" cannot list resource "configmaps" in API group "" '
            'in the namespace "shop"'
        ) in denied.stderr
