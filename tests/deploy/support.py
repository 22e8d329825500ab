"""Shared helpers for the deployment-artifact tests: where things are, how to load and render them.

The tests validate the artifacts with their own ecosystems' tools (kubectl kustomize, kubernetes-validate,
jsonschema with the CRD schemas in ../shared/schemas, promtool, hadolint, actionlint). A missing tool is a
failure with the command that installs it, never a skip: a validation that quietly does not run would let
the artifacts rot.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import validators

REPO = Path(__file__).resolve().parents[2]
# CI lays a copy of shared/ beside the clone; the GitHub workflow fetches the same files there.
SCHEMAS = REPO.parent / "shared" / "schemas"
NAMESPACE = "dese-ea-plan-v5"
VENV_BIN = Path(sys.executable).parent

Doc = dict[str, Any]


@dataclass(frozen=True)
class Manifest:
    """One Kubernetes object and where it came from (a file, or a rendered kustomization)."""

    source: str
    doc: Doc

    @property
    def kind(self) -> str:
        return str(self.doc["kind"])

    @property
    def name(self) -> str:
        return str(self.doc["metadata"]["name"])

    @property
    def group(self) -> str:
        group, _, _version = str(self.doc["apiVersion"]).rpartition("/")
        return group

    def __str__(self) -> str:
        return f"{self.source}: {self.kind}/{self.name}"


def load_docs(path: Path) -> list[Doc]:
    with path.open() as f:
        return [doc for doc in yaml.safe_load_all(f) if doc]


def load_manifests(relpath: str) -> list[Manifest]:
    return [Manifest(relpath, doc) for doc in load_docs(REPO / relpath)]


def find(manifests: list[Manifest], kind: str, name: str) -> Doc:
    matches = [m.doc for m in manifests if m.kind == kind and m.name == name]
    assert len(matches) == 1, f"expected one {kind}/{name}, found {len(matches)}"
    return matches[0]


def tool(name: str, install_hint: str) -> str:
    """The path of a command-line tool, from the venv first, then PATH; fails with how to install it."""
    found = shutil.which(name, path=os.pathsep.join([str(VENV_BIN), os.environ.get("PATH", "")]))
    if found is None:
        pytest.fail(f"{name} is not installed: {install_hint}")
    return found


def run(args: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


@cache
def render(kustomization: str) -> tuple[Manifest, ...]:
    """`kubectl kustomize` of a directory of the repo, the way `kubectl apply -k` renders it."""
    kubectl = tool("kubectl", "kubectl 1.32 comes with the machine image")
    result = run([kubectl, "kustomize", str(REPO / kustomization)])
    assert result.returncode == 0, f"kubectl kustomize {kustomization} failed:\n{result.stderr}"
    return tuple(Manifest(kustomization, doc) for doc in yaml.safe_load_all(result.stdout) if doc)


def schema_path(manifest: Manifest) -> Path:
    group, _, version = str(manifest.doc["apiVersion"]).rpartition("/")
    return SCHEMAS / group / f"{manifest.kind.lower()}_{version}.json"


def is_custom_resource(manifest: Manifest) -> bool:
    return (SCHEMAS / manifest.group).is_dir() if manifest.group else False


@cache
def _crd_validator(path: Path) -> Any:
    with path.open() as f:
        schema = json.load(f)
    # Built directly, without check_schema(): the PrometheusRule schema carries a Go-only regex
    # ("^(?i)(abort|warn)?$") that Python's re rejects (see ../shared/schemas/README.md).
    return validators.validator_for(schema)(schema)


def crd_errors(manifest: Manifest) -> list[str]:
    """jsonschema errors of a custom resource against its CRD schema in ../shared/schemas."""
    if not SCHEMAS.is_dir():
        pytest.fail(f"{SCHEMAS} is missing: CI lays shared/ beside the clone (the workflow fetches it)")
    path = schema_path(manifest)
    assert path.is_file(), f"no schema {path.relative_to(SCHEMAS)} for {manifest}"
    return [f"{e.json_path}: {e.message}" for e in _crd_validator(path).iter_errors(manifest.doc)]


def pod_templates(manifests: list[Manifest] | tuple[Manifest, ...]) -> Iterator[tuple[str, Doc]]:
    """(label, pod template) of every Deployment and CronJob."""
    for m in manifests:
        if m.kind == "Deployment":
            yield str(m), m.doc["spec"]["template"]
        elif m.kind == "CronJob":
            yield str(m), m.doc["spec"]["jobTemplate"]["spec"]["template"]


def cron_interval_seconds(schedule: str) -> int:
    """Seconds between runs of a CronJob schedule of the form `*/N * * * *` or `* * * * *`."""
    minute, *rest = schedule.split()
    assert rest == ["*", "*", "*", "*"], f"only minute-based schedules are understood: {schedule!r}"
    if minute == "*":
        return 60
    assert minute.startswith("*/"), f"only */N minute schedules are understood: {schedule!r}"
    return int(minute[2:]) * 60
