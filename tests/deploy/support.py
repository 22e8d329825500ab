"""Shared helpers for the deployment-artifact tests: where things are, how to load and render them.

The tests validate the artifacts with their own ecosystems' tools (kubectl kustomize, kubernetes-validate,
jsonschema with the projects' own CRDs taken from their Go modules by tools/crds/fetch.sh, promtool,
hadolint, actionlint, the Kyverno CLI built by tools/kyverno/build.sh). A missing tool is a failure with the
command that installs it, never a skip: a validation that quietly does not run would let the artifacts rot.
"""

from __future__ import annotations

import json
import os
import re
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
from jsonschema import Draft202012Validator, ValidationError, validators

REPO = Path(__file__).resolve().parents[2]
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


def path_without_go() -> str:
    """$PATH minus the directories that hold a `go`: for checking what the Go-based tools say without it."""
    dirs = os.environ.get("PATH", "").split(os.pathsep)
    return os.pathsep.join(d for d in dirs if d and not (Path(d) / "go").exists())


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


# The API groups whose CRDs tools/crds/fetch.sh copies out of the projects' Go modules (pinned there) into
# .tools/crds/<CRD name>.yaml; a manifest of any other group is a built-in object.
CRD_GROUPS = frozenset({"kyverno.io", "monitoring.coreos.com", "argoproj.io"})
FETCH_CRDS = REPO / "tools" / "crds" / "fetch.sh"


def is_custom_resource(manifest: Manifest) -> bool:
    return manifest.group in CRD_GROUPS


@cache
def crd_dir() -> Path:
    """.tools/crds, filled by tools/crds/fetch.sh (a no-op once done; the first run needs `go`)."""
    result = subprocess.run(
        ["bash", str(FETCH_CRDS)], capture_output=True, text=True, timeout=600, check=False
    )
    if result.returncode != 0:
        # fetch.sh ends with a one-line reason, e.g. that go is not installed and which Go to install.
        reason = result.stderr.strip().splitlines()[-1:] or [f"exit code {result.returncode}"]
        pytest.fail(f"tools/crds/fetch.sh failed: {reason[0]}")
    return Path(result.stdout.strip())


def go_regex_to_python(pattern: str) -> str:
    """A CRD `pattern` (Go RE2 syntax) in Python's `re` syntax, or an error naming it.

    RE2 accepts flag groups such as `(?i)` anywhere; Python only at the start (PrometheusRule's
    `^(?i)(abort|warn)?$`). A top-level `X(?i)Y` means `X(?i:Y)` in both. RE2's `\\z` is Python's `\\Z`.
    """
    translated = re.sub(r"(?<!\\)((?:\\\\)*)\\z", r"\1\\Z", pattern)
    flags = re.fullmatch(r"(?P<head>[^()\[\]\\]*)\(\?(?P<flags>[ims]+)\)(?P<rest>.*)", translated, re.DOTALL)
    if flags and flags["head"]:
        translated = f"{flags['head']}(?{flags['flags']}:{flags['rest']})"
    try:
        re.compile(translated)
    except re.error as e:
        raise AssertionError(f"CRD pattern {pattern!r} has no Python translation here ({e})") from e
    return translated


def crd_json_schema(node: Any, *, junctor: bool = False) -> Any:
    """A CRD's openAPIV3Schema as a JSON Schema that jsonschema checks the way the API server does.

    - Unknown fields are errors (`additionalProperties: false` on every object with `properties`), as with
      `kubectl apply`'s default --validate=strict (server-side fieldValidation=Strict) — except under
      `x-kubernetes-preserve-unknown-fields` or `x-kubernetes-embedded-resource`, and never inside
      allOf/anyOf/oneOf/not, whose branches only add value checks to the properties of their parent.
    - `nullable: true` admits null; `x-kubernetes-int-or-string` admits an integer or a string.
    - `x-kubernetes-list-type: set` is uniqueItems; `map` with its `x-kubernetes-list-map-keys` is checked
      by the `x-selfheal-list-map-keys` keyword below (no two items with the same keys).
    - OpenAPI 3.0's boolean exclusiveMinimum/exclusiveMaximum become JSON Schema's numeric ones.
    - Patterns are translated from Go's regex syntax (go_regex_to_python).
    - Not checked: `x-kubernetes-validations` (CEL rules; none in the CRDs pinned now) and `format`.
    """
    if isinstance(node, list):
        return [crd_json_schema(item, junctor=junctor) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key.startswith("x-kubernetes-") or key in ("nullable", "exclusiveMinimum", "exclusiveMaximum"):
            continue
        if key == "properties":
            out[key] = {name: crd_json_schema(schema) for name, schema in value.items()}
        elif key in ("items", "additionalProperties"):
            out[key] = crd_json_schema(value)
        elif key in ("allOf", "anyOf", "oneOf", "not"):
            out[key] = crd_json_schema(value, junctor=True)
        elif key == "pattern":
            out[key] = go_regex_to_python(value)
        else:
            out[key] = value
    open_object = node.get("x-kubernetes-preserve-unknown-fields") or node.get(
        "x-kubernetes-embedded-resource"
    )
    if "properties" in node and not open_object and not junctor:
        out.setdefault("additionalProperties", False)
    if node.get("x-kubernetes-int-or-string") and "anyOf" not in node:
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    for bound in ("Minimum", "Maximum"):
        if node.get(f"exclusive{bound}") is True:
            out[f"exclusive{bound}"] = out.pop(bound.lower())
    if node.get("x-kubernetes-list-type") == "set":
        out["uniqueItems"] = True
    if node.get("x-kubernetes-list-type") == "map" and node.get("x-kubernetes-list-map-keys"):
        out["x-selfheal-list-map-keys"] = node["x-kubernetes-list-map-keys"]
    if node.get("nullable"):
        if "type" in out:
            out["type"] = [out["type"], "null"]
        for junction in ("anyOf", "oneOf"):
            if junction in out:
                out[junction] = [*out[junction], {"type": "null"}]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
    return out


def _list_map_keys(validator: Any, keys: list[str], instance: Any, schema: Doc) -> Iterator[Any]:
    if not isinstance(instance, list):
        return
    seen: set[str] = set()
    for item in instance:
        key = json.dumps([item.get(k) for k in keys] if isinstance(item, dict) else item)
        if key in seen:
            yield ValidationError(f"duplicate entries for list-map keys {keys}: {key}")
        seen.add(key)


CrdValidator = validators.extend(Draft202012Validator, {"x-selfheal-list-map-keys": _list_map_keys})


@cache
def crd_schemas() -> dict[tuple[str, str, str], Doc]:
    """(group, kind, version) -> the converted openAPIV3Schema, for every CRD in .tools/crds."""
    schemas: dict[tuple[str, str, str], Doc] = {}
    for path in sorted(crd_dir().glob("*.yaml")):
        for crd in load_docs(path):
            assert crd["kind"] == "CustomResourceDefinition", path
            for version in crd["spec"]["versions"]:
                key = (crd["spec"]["group"], crd["spec"]["names"]["kind"], version["name"])
                schemas[key] = crd_json_schema(version["schema"]["openAPIV3Schema"])
    return schemas


@cache
def _crd_validator(group: str, kind: str, version: str) -> Any:
    schemas = crd_schemas()
    assert (group, kind, version) in schemas, (
        f"no CRD for {group}/{version} {kind} in {crd_dir()} (tools/crds/fetch.sh lists the CRDs it copies)"
    )
    schema = schemas[group, kind, version]
    CrdValidator.check_schema(schema)  # every pattern compiles, every keyword is well-formed
    return CrdValidator(schema)


def crd_errors(manifest: Manifest) -> list[str]:
    """jsonschema errors of a custom resource against its CRD's openAPIV3Schema (tools/crds/fetch.sh)."""
    group, _, version = str(manifest.doc["apiVersion"]).rpartition("/")
    validator = _crd_validator(group, manifest.kind, version)
    return [f"{e.json_path}: {e.message}" for e in validator.iter_errors(manifest.doc)]


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
