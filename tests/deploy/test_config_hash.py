"""The config annotations the self-heal job reads are stamped right, in Git (deploy/stamp-config-hash.sh).

There is one config hash in this project (selfheal/confighash.py), and the manifests must carry its values:

- `selfheal.dev/config-hash` on a Deployment's metadata = `config_hash(spec.template)` of the *rendered*
  manifest (what `kubectl kustomize deploy/overlays/prod | selfheal hash /dev/stdin` prints). The job's
  config-drift detector hashes the live template and compares; a stale value makes it "restore" a template
  Git never had, and Argo CD puts it back: a fight.
- `selfheal.dev/config-checksum` on the pod template = `combined_checksum` of the ConfigMaps it reads
  (the third column of `selfheal hash`). A ConfigMap change changes the template, so the pods roll.

Both are checked here on the rendered output of both kustomizations, then on a cluster: applied to the
sandbox by kubectl, the API server's defaults added, the job finds no configuration drift.
"""

from __future__ import annotations

import contextlib
import copy
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from kubesandbox.serve.scenario import parse_scenario
from selfheal.confighash import combined_checksum, config_hash, configmap_checksum, hash_manifest
from tests.deploy.support import NAMESPACE, REPO, VENV_BIN, Doc, render, run, tool
from tests.integration.harness import HealingWorld, healing_world

KUSTOMIZATIONS = ["deploy/base", "deploy/overlays/prod"]
CONFIG_HASH = "selfheal.dev/config-hash"
CONFIG_CHECKSUM = "selfheal.dev/config-checksum"
STAMP = REPO / "deploy" / "stamp-config-hash.sh"
STABLE, CANARY = "dese-ea-plan-v5", "dese-ea-plan-v5-canary"


def rendered_yaml(kustomization: str) -> str:
    return yaml.safe_dump_all([m.doc for m in render(kustomization)], sort_keys=False)


def deployments(kustomization: str) -> dict[str, Doc]:
    return {m.name: m.doc for m in render(kustomization) if m.kind == "Deployment"}


def meta_annotations(doc: Doc) -> dict[str, str]:
    return dict(doc["metadata"].get("annotations") or {})


def template_annotations(deployment: Doc) -> dict[str, str]:
    return meta_annotations(deployment["spec"]["template"])


def stamp(deploy_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SELFHEAL": str(VENV_BIN / "selfheal"), "KUBECTL": tool("kubectl", "kubectl 1.32")}
    return subprocess.run(
        ["bash", str(deploy_dir / STAMP.name), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )


# --- the stamped values ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
def test_stamped_values_are_what_selfheal_hash_computes_for_the_rendered_manifest(
    kustomization: str, tmp_path: Path
) -> None:
    rendered = tmp_path / "rendered.yaml"
    rendered.write_text(rendered_yaml(kustomization))
    computed = {h.name: h for h in hash_manifest(rendered)}
    deps = deployments(kustomization)

    assert computed.keys() == deps.keys()
    for name, deployment in deps.items():
        assert computed[name].config_checksum is not None, f"{name}: the render lacks a ConfigMap it reads"
        assert meta_annotations(deployment)[CONFIG_HASH] == computed[name].config_hash, name
        assert template_annotations(deployment)[CONFIG_CHECKSUM] == computed[name].config_checksum, name


def test_the_guides_pipe_through_selfheal_hash_prints_the_stamped_values() -> None:
    """`kubectl kustomize deploy/overlays/prod | selfheal hash /dev/stdin`, as README.md shows it."""
    result = subprocess.run(
        [str(VENV_BIN / "selfheal"), "hash", "/dev/stdin"],
        input=rendered_yaml("deploy/overlays/prod"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    printed = {line.split("\t")[0]: line.split("\t")[1:] for line in result.stdout.splitlines()}

    assert printed == {
        name: [meta_annotations(d)[CONFIG_HASH], template_annotations(d)[CONFIG_CHECKSUM]]
        for name, d in deployments("deploy/overlays/prod").items()
    }


def test_each_value_pins_what_it_claims_to() -> None:
    base, prod = deployments("deploy/base"), deployments("deploy/overlays/prod")

    # prod's ConfigMap differs from base's (LOG_LEVEL): another checksum; both prod Deployments read it.
    checksum = {
        (k, name): template_annotations(d)[CONFIG_CHECKSUM]
        for k, deps in (("base", base), ("prod", prod))
        for name, d in deps.items()
    }
    assert checksum["prod", STABLE] != checksum["base", STABLE]
    assert checksum["prod", STABLE] == checksum["prod", CANARY]
    # prod's stable template differs from base's (resources), the canary's from stable's (image):
    # three different hashes.
    hashes = {
        meta_annotations(base[STABLE])[CONFIG_HASH],
        meta_annotations(prod[STABLE])[CONFIG_HASH],
        meta_annotations(prod[CANARY])[CONFIG_HASH],
    }
    assert len(hashes) == 3
    # The hash is of the template alone: stamping the checksum into it does not change the hash.
    unstamped = copy.deepcopy(prod[STABLE]["spec"]["template"])
    del unstamped["metadata"]["annotations"][CONFIG_CHECKSUM]
    assert config_hash(unstamped) == meta_annotations(prod[STABLE])[CONFIG_HASH]


# --- the stamping script -----------------------------------------------------------------------------------


def test_the_stamping_script_finds_nothing_stale_in_the_repo() -> None:
    shellcheck = tool("shellcheck", "run `bash tools/install-system.sh` (Debian package shellcheck)")
    assert run([shellcheck, str(STAMP)]).stdout == ""

    result = stamp(REPO / "deploy", "--check")

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("edit", "file", "old", "new", "stale"),
    [
        pytest.param(
            "a ConfigMap value",
            "overlays/prod/configmap-patch.yaml",
            "LOG_LEVEL: warn",
            "LOG_LEVEL: error",
            {CONFIG_CHECKSUM},
            id="configmap",
        ),
        pytest.param(
            "the canary's image",
            "overlays/prod/kustomization.yaml",
            'newTag: "1.5.0"',
            'newTag: "1.5.1"',
            {CONFIG_HASH},
            id="image",
        ),
    ],
)
def test_a_change_makes_the_check_fail_until_the_values_are_restamped(
    edit: str, file: str, old: str, new: str, stale: set[str], tmp_path: Path
) -> None:
    deploy = tmp_path / "deploy"
    shutil.copytree(REPO / "deploy", deploy)
    target = deploy / file
    assert old in target.read_text()
    target.write_text(target.read_text().replace(old, new))

    check = stamp(deploy, "--check")
    assert check.returncode == 1, f"{edit}: --check did not notice"
    changed = {
        line[1:].split(":")[0].strip()
        for line in check.stdout.splitlines()
        if line.startswith("+ ") and "selfheal.dev/" in line
    }
    assert changed == stale

    assert stamp(deploy).returncode == 0
    assert stamp(deploy, "--check").returncode == 0
    kubectl = tool("kubectl", "kubectl 1.32")
    out = run([kubectl, "kustomize", str(deploy / "overlays" / "prod")])
    rendered = tmp_path / "prod.yaml"
    rendered.write_text(out.stdout)
    docs = {
        d["metadata"]["name"]: d for d in yaml.safe_load_all(out.stdout) if d and d["kind"] == "Deployment"
    }
    for h in hash_manifest(rendered):
        assert meta_annotations(docs[h.name])[CONFIG_HASH] == h.config_hash
        assert template_annotations(docs[h.name])[CONFIG_CHECKSUM] == h.config_checksum


# --- on a cluster ------------------------------------------------------------------------------------------


@contextlib.contextmanager
def applied_to_a_cluster(docs: list[Doc], tmp_path: Path) -> Iterator[HealingWorld]:
    """A sandbox holding the app namespace, `docs` applied to it with kubectl (the server adds defaults)."""
    scenario = parse_scenario(
        f"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {NAMESPACE}}}\n", name="empty"
    )
    manifest = yaml.safe_dump_all([d for d in docs if d["kind"] != "Namespace"], sort_keys=False)
    with healing_world(scenario, tmp_path) as world:
        applied = world.sb.kubectl("apply", "--validate=false", "-f", "-", input=manifest)
        assert applied.returncode == 0, applied.stderr
        yield world


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
def test_applied_to_a_cluster_the_job_finds_no_configuration_drift(
    kustomization: str, tmp_path: Path
) -> None:
    with applied_to_a_cluster([m.doc for m in render(kustomization)], tmp_path) as world:
        configmap = world.sb.get("ConfigMap", "cpt-web-config")
        checksum = combined_checksum(
            {"cpt-web-config": configmap_checksum(configmap.get("data"), configmap.get("binaryData"))}
        )
        for name in deployments(kustomization):
            live = world.sb.get("Deployment", name)
            # The API server added its defaults to the template; the hash still agrees.
            assert live["spec"]["template"]["spec"]["dnsPolicy"] == "ClusterFirst"
            assert config_hash(live["spec"]["template"]) == meta_annotations(live)[CONFIG_HASH], name
            assert template_annotations(live)[CONFIG_CHECKSUM] == checksum, name

        result = world.run(dry_run=True)

    assert result.exit_code == 0
    assert [f for f in result.findings if f.detector == "config_drift"] == []


def test_a_stale_hash_on_a_cluster_is_reported_as_configuration_drift(tmp_path: Path) -> None:
    """The check above is not vacuous: a template changed without restamping is drift to the job."""
    docs = [copy.deepcopy(m.doc) for m in render("deploy/overlays/prod")]
    canary = next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == CANARY)
    canary["spec"]["template"]["spec"]["containers"][0]["image"] = "ghcr.io/dese-ea/cpt-web:1.5.1"
    with applied_to_a_cluster(docs, tmp_path) as world:
        result = world.run(dry_run=True)

    drift = [(f.workload.name, f.cause.code.value) for f in result.findings if f.detector == "config_drift"]
    assert drift == [(CANARY, "config_hash_drift")]
