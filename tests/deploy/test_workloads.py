"""The rendered workloads keep the promises the other artifacts rely on.

The namespace enforces the `restricted` Pod Security Standard, Kyverno requires probes, the HPA owns
stable's replicas, the PDB must let the self-heal job evict unhealthy pods, and the canary's traffic share
comes from its share of ready pods behind one Service. (The config hash and checksum: test_config_hash.py.)
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.deploy.support import (
    NAMESPACE,
    Doc,
    Manifest,
    find,
    load_manifests,
    pod_templates,
    render,
)

KUSTOMIZATIONS = ["deploy/base", "deploy/overlays/prod"]
TRAFFIC_SPLIT = "rollout.argoproj.io/traffic-split"
# Volume types the restricted Pod Security Standard allows.
RESTRICTED_VOLUME_TYPES = {
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
}


def rendered(kustomization: str) -> list[Manifest]:
    return list(render(kustomization))


def deployments(kustomization: str) -> list[Doc]:
    return [m.doc for m in render(kustomization) if m.kind == "Deployment"]


def all_pod_templates() -> list[Any]:
    workloads = [m for k in KUSTOMIZATIONS for m in render(k)] + load_manifests("aiops/self-heal-job.yaml")
    return [pytest.param(template, id=label) for label, template in pod_templates(workloads)]


@pytest.mark.parametrize("template", all_pod_templates())
def test_pod_templates_meet_the_restricted_pod_security_standard(template: Doc) -> None:
    spec = template["spec"]
    pod_sc = spec.get("securityContext", {})
    assert pod_sc.get("runAsNonRoot") is True
    assert pod_sc.get("runAsUser", 0) != 0
    assert pod_sc.get("seccompProfile", {}).get("type") == "RuntimeDefault"
    assert not any(spec.get(k) for k in ("hostNetwork", "hostPID", "hostIPC"))
    for volume in spec.get("volumes", []):
        assert set(volume) - {"name"} <= RESTRICTED_VOLUME_TYPES, volume
    for container in spec["containers"] + spec.get("initContainers", []):
        sc = container.get("securityContext", {})
        assert sc.get("allowPrivilegeEscalation") is False, container["name"]
        assert sc.get("readOnlyRootFilesystem") is True, container["name"]
        assert sc.get("capabilities", {}).get("drop") == ["ALL"], container["name"]
        assert not sc.get("capabilities", {}).get("add"), container["name"]
        assert all("hostPort" not in port for port in container.get("ports", [])), container["name"]


def test_the_namespace_enforces_the_restricted_pod_security_standard() -> None:
    namespace = find(rendered("deploy/base"), "Namespace", NAMESPACE)

    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
def test_every_container_has_liveness_and_readiness_probes(kustomization: str) -> None:
    for deployment in deployments(kustomization):
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            for probe in ("livenessProbe", "readinessProbe"):
                # periodSeconds is spelled out: Kyverno's pattern checks it, and `kyverno apply` in CI sees
                # the manifests without the API server's defaults.
                assert container[probe]["periodSeconds"] > 0, (deployment["metadata"]["name"], probe)
            assert container["resources"]["requests"] and container["resources"]["limits"]["memory"]


def test_prod_splits_traffic_90_10_by_ready_pods_behind_one_service() -> None:
    manifests = rendered("deploy/overlays/prod")
    stable = find(manifests, "Deployment", "dese-ea-plan-v5")
    canary = find(manifests, "Deployment", "dese-ea-plan-v5-canary")
    service = find(manifests, "Service", "dese-ea-plan-v5")

    for deployment in (stable, canary):
        assert json.loads(deployment["metadata"]["annotations"][TRAFFIC_SPLIT]) == {
            "canary": 10,
            "stable": 90,
        }
        pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert service["spec"]["selector"].items() <= pod_labels.items()
    total = stable["spec"]["replicas"] + canary["spec"]["replicas"]
    assert 100 * canary["spec"]["replicas"] / total == 10
    # The two Deployments must not adopt each other's pods.
    assert stable["spec"]["selector"]["matchLabels"] != canary["spec"]["selector"]["matchLabels"]


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
def test_hpa_scales_stable_on_cpu_memory_and_latency_from_its_replica_count(kustomization: str) -> None:
    manifests = rendered(kustomization)
    hpa = find(manifests, "HorizontalPodAutoscaler", "dese-ea-plan-v5")
    stable = find(manifests, "Deployment", "dese-ea-plan-v5")

    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "dese-ea-plan-v5",
    }
    metrics = hpa["spec"]["metrics"]
    assert {m["resource"]["name"] for m in metrics if m["type"] == "Resource"} == {"cpu", "memory"}
    assert [m["pods"]["metric"]["name"] for m in metrics if m["type"] == "Pods"] == [
        "http_request_duration_p99_seconds"
    ]
    assert hpa["spec"]["minReplicas"] == stable["spec"]["replicas"] < hpa["spec"]["maxReplicas"]
    # CPU and memory utilisation are relative to requests: without them the HPA cannot compute them.
    container = stable["spec"]["template"]["spec"]["containers"][0]
    assert {"cpu", "memory"} <= container["resources"]["requests"].keys()


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
def test_pdb_covers_stable_and_lets_unhealthy_pods_be_evicted(kustomization: str) -> None:
    manifests = rendered(kustomization)
    pdb = find(manifests, "PodDisruptionBudget", "dese-ea-plan-v5")
    stable = find(manifests, "Deployment", "dese-ea-plan-v5")

    assert (
        pdb["spec"]["selector"]["matchLabels"].items()
        <= stable["spec"]["template"]["metadata"]["labels"].items()
    )
    assert pdb["spec"]["unhealthyPodEvictionPolicy"] == "AlwaysAllow"
    assert pdb["spec"]["maxUnavailable"] < stable["spec"]["replicas"]


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
def test_the_app_pods_do_not_get_an_api_token(kustomization: str) -> None:
    for deployment in deployments(kustomization):
        assert deployment["spec"]["template"]["spec"]["automountServiceAccountToken"] is False
