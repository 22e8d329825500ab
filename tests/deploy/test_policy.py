"""policies/kyverno/prevent-drift.yaml agrees with the objects it governs and with Kyverno's own rules.

The CRD schema check is in test_manifests.py, and the real engine's verdicts in test_kyverno.py (`kyverno test
policies/kyverno/tests` and `kyverno apply` with the CLI built from its Go module). These tests pin what the
policy has to say and check that the repository's objects agree with it: identities that exist, images it
accepts, annotations and probes it requires.
"""

from __future__ import annotations

import copy
import fnmatch
import re
from typing import Any

import pytest

from tests.deploy.support import (
    NAMESPACE,
    Doc,
    Manifest,
    crd_errors,
    find,
    load_manifests,
    pod_templates,
    render,
)

POLICY_MANIFEST = load_manifests("policies/kyverno/prevent-drift.yaml")[0]
POLICY = POLICY_MANIFEST.doc
RULES = {rule["name"]: rule for rule in POLICY["spec"]["rules"]}
JOB = load_manifests("aiops/self-heal-job.yaml")
APPLICATION = load_manifests("deploy/argocd/cpt-web.yaml")[0].doc
WORKLOADS = list(render("deploy/base")) + list(render("deploy/overlays/prod")) + JOB
# The identity cosign's keyless signing gives this repository's workflow on main (GitHub OIDC).
CI_IDENTITY = "https://github.com/dese-ea/selfheal/.github/workflows/ci-cd.yml@refs/heads/main"


def subjects(rule: Doc) -> list[Doc]:
    return [s for entry in rule["exclude"]["any"] for s in entry.get("subjects", [])]


def images() -> set[str]:
    return {
        c["image"]
        for _, template in pod_templates(WORKLOADS)
        for c in template["spec"]["containers"] + template["spec"].get("initContainers", [])
    }


def kyverno_wildcard(pattern: str, value: str) -> bool:
    """Kyverno's wildcards: `*` any run of characters (slashes too), `?` one character."""
    return fnmatch.fnmatchcase(value, pattern)


def test_it_is_the_namespaced_policy_the_guide_patches() -> None:
    assert (POLICY["kind"], POLICY["metadata"]["name"], POLICY["metadata"]["namespace"]) == (
        "Policy",
        "prevent-configuration-drift",
        NAMESPACE,
    )
    assert set(RULES) == {
        "deny-manual-deployment-changes",
        "require-config-hash",
        "require-probes",
        "restrict-image-registry",
        "verify-image-signatures",
        "isolate-namespace-host-access",
        "isolate-namespace-rbac",
    }


@pytest.mark.parametrize("action", ["audit", "enforce"])
def test_the_guides_enforce_audit_switch_is_a_valid_json_patch(action: str) -> None:
    """`kubectl patch ... --type=json -p='[{"op":"replace","path":"/spec/validationFailureAction",...}]'`.

    A JSON-patch `replace` needs the field to exist, the value must be in the CRD's enum, and no rule may
    carry its own failureAction (it would override the switch).
    """
    assert "validationFailureAction" in POLICY["spec"]
    patched = copy.deepcopy(POLICY)
    patched["spec"]["validationFailureAction"] = action

    assert crd_errors(Manifest(POLICY_MANIFEST.source, patched)) == []
    for rule in POLICY["spec"]["rules"]:
        assert "failureAction" not in rule.get("validate", {}), rule["name"]
        assert all("failureAction" not in v for v in rule.get("verifyImages", [])), rule["name"]


def test_background_scanning_is_off_as_kyverno_requires_for_these_rules() -> None:
    """Kyverno rejects userInfo (exclude.subjects/clusterRoles) and subresources in background mode."""
    assert POLICY["spec"]["background"] is False


def test_manual_updates_of_deployments_and_their_scale_are_denied() -> None:
    rule = RULES["deny-manual-deployment-changes"]
    (match,) = rule["match"]["any"]

    assert set(match["resources"]["kinds"]) == {"Deployment", "Deployment/scale"}
    assert match["resources"]["operations"] == ["UPDATE"]
    assert rule["validate"]["deny"] == {}


def test_argo_cd_and_the_self_heal_job_are_the_exempt_writers() -> None:
    exempt = {
        (s["kind"], s["name"], s.get("namespace")) for s in subjects(RULES["deny-manual-deployment-changes"])
    }
    job_sa = find(JOB, "CronJob", "self-heal-cpt")["spec"]["jobTemplate"]["spec"]["template"]["spec"][
        "serviceAccountName"
    ]

    assert ("ServiceAccount", "argocd-application-controller", APPLICATION["metadata"]["namespace"]) in exempt
    assert ("ServiceAccount", job_sa, NAMESPACE) in exempt
    # Kubernetes' own writers of Deployments and of Deployment/scale (the HPA) must keep working.
    assert ("ServiceAccount", "horizontal-pod-autoscaler", "kube-system") in exempt
    assert ("User", "system:kube-controller-manager", None) in exempt
    # Nobody else: in particular no human group and no other namespace's ServiceAccount.
    others = {
        e for e in exempt if e[2] not in ("kube-system", APPLICATION["metadata"]["namespace"], NAMESPACE)
    }
    assert others == {("User", "system:kube-controller-manager", None), ("Group", "system:masters", None)}


def test_cluster_admin_is_the_break_glass() -> None:
    entries: list[dict[str, Any]] = RULES["deny-manual-deployment-changes"]["exclude"]["any"]

    assert {"clusterRoles": ["cluster-admin"]} in entries


@pytest.mark.parametrize("kustomization", ["deploy/base", "deploy/overlays/prod"])
def test_rendered_deployments_satisfy_the_config_hash_and_probe_rules(kustomization: str) -> None:
    hash_pattern = RULES["require-config-hash"]["validate"]["pattern"]
    required = hash_pattern["metadata"]["annotations"]["selfheal.dev/config-hash"]
    required_checksum = hash_pattern["spec"]["template"]["metadata"]["annotations"][
        "selfheal.dev/config-checksum"
    ]
    probes = RULES["require-probes"]["validate"]["pattern"]["spec"]["template"]["spec"]["containers"][0]

    for m in render(kustomization):
        if m.kind != "Deployment":
            continue
        assert kyverno_wildcard(required, m.doc["metadata"]["annotations"]["selfheal.dev/config-hash"]), m
        checksum = m.doc["spec"]["template"]["metadata"]["annotations"]["selfheal.dev/config-checksum"]
        assert kyverno_wildcard(required_checksum, checksum), m
        for container in m.doc["spec"]["template"]["spec"]["containers"]:
            assert set(probes) <= set(container), m


def test_every_image_deployed_comes_from_the_registry_the_policy_trusts() -> None:
    (allowed,) = {
        c["image"] for c in RULES["restrict-image-registry"]["validate"]["pattern"]["spec"]["containers"]
    }
    (verify,) = RULES["verify-image-signatures"]["verifyImages"]

    for image in images():
        assert kyverno_wildcard(allowed, image), image
        assert any(kyverno_wildcard(ref, image) for ref in verify["imageReferences"]), image


def test_signature_check_does_not_fight_argo_cd() -> None:
    """mutateDigest would rewrite image tags to digests in the Deployments Argo CD compares with Git,
    leaving the app OutOfSync forever; Kyverno also refuses mutateDigest once the policy is in Audit."""
    (verify,) = RULES["verify-image-signatures"]["verifyImages"]

    assert verify["mutateDigest"] is False
    assert verify["verifyDigest"] is False
    assert verify["required"] is True


def test_signatures_must_come_from_this_repositorys_workflow_on_main() -> None:
    (verify,) = RULES["verify-image-signatures"]["verifyImages"]
    (attestor,) = verify["attestors"]
    (entry,) = attestor["entries"]
    keyless = entry["keyless"]

    assert keyless["issuer"] == "https://token.actions.githubusercontent.com"
    subject = re.compile(keyless["subjectRegExp"])
    assert subject.fullmatch(CI_IDENTITY)
    assert not subject.fullmatch(CI_IDENTITY.replace("refs/heads/main", "refs/heads/feature"))
    assert not subject.fullmatch(CI_IDENTITY.replace("dese-ea/", "someone-else/"))


def test_workloads_stay_off_the_hosts_namespaces() -> None:
    pattern = RULES["isolate-namespace-host-access"]["validate"]["pattern"]["spec"]
    assert {"=(hostNetwork)", "=(hostPID)", "=(hostIPC)", "=(volumes)"} <= set(pattern)

    for label, template in pod_templates(WORKLOADS):
        spec = template["spec"]
        assert not any(spec.get(k) for k in ("hostNetwork", "hostPID", "hostIPC")), label
        assert not any("hostPath" in v for v in spec.get("volumes", [])), label


def test_role_bindings_in_the_namespace_bind_only_its_own_service_accounts() -> None:
    rule = RULES["isolate-namespace-rbac"]
    (match,) = rule["match"]["any"]
    assert match["resources"]["kinds"] == ["RoleBinding"]
    conditions = rule["validate"]["foreach"][0]["deny"]["conditions"]["any"]
    assert any(NAMESPACE in str(c["key"]) and "ServiceAccount" in str(c["key"]) for c in conditions)

    for binding in (m.doc for m in JOB if m.kind == "RoleBinding"):
        for subject in binding["subjects"]:
            assert subject["kind"] != "ServiceAccount" or subject["namespace"] == NAMESPACE
