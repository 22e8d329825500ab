"""Every manifest the guide applies renders and is valid for the API server that will receive it.

Built-in objects go through kubernetes-validate in strict mode (unknown fields are errors, as with
`kubectl apply --validate=strict`), at the newest Kubernetes it ships and at 1.32, the machine's kubectl.
Custom resources (Kyverno, Prometheus Operator, Argo CD) go through their CRD schemas with jsonschema.
"""

from __future__ import annotations

import copy

import kubernetes_validate
import pytest
from kubernetes_validate.utils import latest_version

from tests.deploy.support import (
    NAMESPACE,
    Manifest,
    crd_errors,
    find,
    is_custom_resource,
    load_manifests,
    render,
)

KUSTOMIZATIONS = ["deploy/base", "deploy/overlays/prod"]
# Plain manifest files the guide applies with `kubectl apply -f` (the kustomizations are rendered).
FILES = [
    "aiops/self-heal-job.yaml",
    "policies/kyverno/prevent-drift.yaml",
    "monitoring/prometheus-rules.yaml",
    "monitoring/cpt-web-servicemonitor.yaml",
    "deploy/argocd/cpt-web.yaml",
]
K8S_VERSIONS = ["1.32", latest_version()]


def all_manifests() -> list[Manifest]:
    manifests = [m for k in KUSTOMIZATIONS for m in render(k)]
    return manifests + [m for f in FILES for m in load_manifests(f)]


BUILT_IN = [m for m in all_manifests() if not is_custom_resource(m)]
CUSTOM = [m for m in all_manifests() if is_custom_resource(m)]


def test_both_kustomizations_render_the_objects_the_guide_names() -> None:
    base = {(m.kind, m.name) for m in render("deploy/base")}
    prod = {(m.kind, m.name) for m in render("deploy/overlays/prod")}

    assert base == {
        ("Namespace", NAMESPACE),
        ("ConfigMap", "cpt-web-config"),
        ("Deployment", "dese-ea-plan-v5"),
        ("Service", "dese-ea-plan-v5"),
        ("HorizontalPodAutoscaler", "dese-ea-plan-v5"),
        ("PodDisruptionBudget", "dese-ea-plan-v5"),
    }
    assert prod == base | {("Deployment", "dese-ea-plan-v5-canary")}


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
def test_every_rendered_namespaced_object_lands_in_the_app_namespace(kustomization: str) -> None:
    namespaced = [m for m in render(kustomization) if m.kind != "Namespace"]

    assert {m.doc["metadata"].get("namespace") for m in namespaced} == {NAMESPACE}


def test_the_custom_resources_are_the_ones_the_guide_queries() -> None:
    assert {(m.kind, m.doc["metadata"].get("namespace"), m.name) for m in CUSTOM} == {
        ("Policy", NAMESPACE, "prevent-configuration-drift"),
        ("PrometheusRule", "monitoring", "predictive-alerts"),
        ("ServiceMonitor", "monitoring", "cpt-web"),
        ("Application", "argocd", "cpt-web"),
    }


@pytest.mark.parametrize("version", K8S_VERSIONS)
@pytest.mark.parametrize("manifest", BUILT_IN, ids=str)
def test_built_in_objects_pass_strict_kubernetes_validation(manifest: Manifest, version: str) -> None:
    # Raises SchemaNotFoundError for a kind the version does not know, ValidationError for a bad field.
    kubernetes_validate.validate(manifest.doc, version, strict=True)


@pytest.mark.parametrize("manifest", CUSTOM, ids=str)
def test_custom_resources_match_their_crd_schema(manifest: Manifest) -> None:
    assert crd_errors(manifest) == []


def test_strict_validation_would_catch_a_misspelled_field() -> None:
    """The validators above are not vacuous: a typo fails both of them."""
    deployment = copy.deepcopy(find(list(render("deploy/base")), "Deployment", "dese-ea-plan-v5"))
    deployment["spec"]["replica"] = 3
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, latest_version(), strict=True)

    policy = load_manifests("policies/kyverno/prevent-drift.yaml")[0]
    broken = copy.deepcopy(policy.doc)
    broken["spec"]["validationFailureActon"] = "Audit"
    assert crd_errors(Manifest(policy.source, broken)) != []
