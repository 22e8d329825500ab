"""The CRDs the custom resources are validated against: the projects' own, from their Go modules.

tools/crds/fetch.sh copies them at pinned versions into .tools/crds/<CRD name>.yaml (the same files are
meant for `kubectl apply -f .tools/crds/` on a real API server); support.py turns each openAPIV3Schema into
a JSON Schema. These tests pin the output layout and check that the translation keeps the API server's
rules that matter here, so that the CRD checks in test_manifests.py cannot pass by accepting anything.
"""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.support import (
    CRD_GROUPS,
    FETCH_CRDS,
    REPO,
    Manifest,
    crd_dir,
    crd_errors,
    crd_json_schema,
    crd_schemas,
    go_regex_to_python,
    load_docs,
    load_manifests,
    path_without_go,
)

# The stable contract of tools/crds/fetch.sh: one file per CRD, named after the CRD.
CRD_FILES = {
    "policies.kyverno.io.yaml",
    "prometheusrules.monitoring.coreos.com.yaml",
    "servicemonitors.monitoring.coreos.com.yaml",
    "applications.argoproj.io.yaml",
}
CUSTOM_RESOURCES = {
    "policies/kyverno/prevent-drift.yaml": ("kyverno.io", "Policy", "v1"),
    "monitoring/prometheus-rules.yaml": ("monitoring.coreos.com", "PrometheusRule", "v1"),
    "monitoring/cpt-web-servicemonitor.yaml": ("monitoring.coreos.com", "ServiceMonitor", "v1"),
    "deploy/argocd/cpt-web.yaml": ("argoproj.io", "Application", "v1alpha1"),
}


def manifest(relpath: str) -> Manifest:
    (m,) = load_manifests(relpath)
    return m


def with_spec(m: Manifest, **changes: Any) -> Manifest:
    doc = copy.deepcopy(m.doc)
    doc["spec"].update(changes)
    return Manifest(m.source, doc)


def test_fetch_writes_one_file_per_crd_named_after_it_and_says_where() -> None:
    directory = crd_dir()

    assert directory == REPO / ".tools" / "crds"
    assert {p.name for p in directory.glob("*.yaml")} == CRD_FILES
    for path in directory.glob("*.yaml"):
        (crd,) = load_docs(path)
        assert crd["kind"] == "CustomResourceDefinition"
        assert f"{crd['metadata']['name']}.yaml" == path.name
        assert crd["spec"]["group"] in CRD_GROUPS
    # SOURCES: name, module@version, path in the module, sha256 -- one line per file.
    sources = (directory / "SOURCES").read_text().splitlines()
    assert sorted(f"{line.split()[0]}.yaml" for line in sources) == sorted(CRD_FILES)


def test_fetch_is_a_no_op_the_second_time() -> None:
    crd_dir()
    before = {p.name: p.stat().st_mtime_ns for p in (REPO / ".tools" / "crds").iterdir()}

    result = subprocess.run(
        ["bash", str(FETCH_CRDS)], capture_output=True, text=True, timeout=60, check=False
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{REPO / '.tools' / 'crds'}\n"
    assert result.stderr == ""
    assert {p.name: p.stat().st_mtime_ns for p in (REPO / ".tools" / "crds").iterdir()} == before


def test_a_missing_go_is_a_one_line_error_naming_what_to_install(tmp_path: Path) -> None:
    """In a fresh clone (nothing in .tools/crds yet) without Go: no traceback, no skip, one line."""
    shutil.copytree(FETCH_CRDS.parent, tmp_path / "tools" / "crds")
    env = {**os.environ, "PATH": path_without_go()}

    result = subprocess.run(
        ["bash", str(tmp_path / "tools" / "crds" / "fetch.sh")],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )

    assert result.returncode == 1
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("fetch.sh: go is not installed: install Go ")


@pytest.mark.parametrize(("relpath", "key"), CUSTOM_RESOURCES.items())
def test_every_custom_resource_of_the_repo_has_its_crd(relpath: str, key: tuple[str, str, str]) -> None:
    m = manifest(relpath)

    assert (m.group, m.kind, str(m.doc["apiVersion"]).rpartition("/")[2]) == key
    assert key in crd_schemas()


@pytest.mark.parametrize("relpath", CUSTOM_RESOURCES)
def test_unknown_fields_are_rejected_as_kubectl_apply_does(relpath: str) -> None:
    """kubectl apply's default --validate=strict makes the API server refuse unknown fields."""
    m = manifest(relpath)
    assert crd_errors(m) == []

    assert crd_errors(with_spec(m, notAField=True)) != []
    top = copy.deepcopy(m.doc)
    top["notAField"] = True
    assert crd_errors(Manifest(m.source, top)) != []


def test_go_only_regex_is_translated_not_dropped() -> None:
    """PrometheusRule's partial_response_strategy pattern `^(?i)(abort|warn)?$` is RE2-only."""
    rules = manifest("monitoring/prometheus-rules.yaml")

    def with_strategy(value: str) -> Manifest:
        doc = copy.deepcopy(rules.doc)
        doc["spec"]["groups"][0]["partial_response_strategy"] = value
        return Manifest(rules.source, doc)

    assert crd_errors(with_strategy("abort")) == []
    assert crd_errors(with_strategy("WARN")) == []
    assert crd_errors(with_strategy("")) == []
    assert crd_errors(with_strategy("ignore")) != []


@pytest.mark.parametrize(
    ("pattern", "python"),
    [
        ("^(?i)(abort|warn)?$", "^(?i:(abort|warn)?$)"),
        ("(?i)^x$", "(?i)^x$"),
        (r"^a\z", r"^a\Z"),
        (r"^a\\z$", r"^a\\z$"),
        ("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"),
    ],
)
def test_go_regex_translation(pattern: str, python: str) -> None:
    assert go_regex_to_python(pattern) == python


def test_int_or_string_fields_take_either_and_nothing_else() -> None:
    monitor = manifest("monitoring/cpt-web-servicemonitor.yaml")
    endpoint = monitor.doc["spec"]["endpoints"][0]

    for port in (8080, "http"):
        assert crd_errors(with_spec(monitor, endpoints=[{**endpoint, "targetPort": port}])) == []
    for port in (8.5, True, ["http"]):
        assert crd_errors(with_spec(monitor, endpoints=[{**endpoint, "targetPort": port}])) != []


def test_list_map_keys_are_unique() -> None:
    """groups is `x-kubernetes-list-type: map` keyed by name: the API server refuses two of one name."""
    rules = manifest("monitoring/prometheus-rules.yaml")
    group = rules.doc["spec"]["groups"][0]

    assert crd_errors(with_spec(rules, groups=[group, {**group, "name": group["name"] + "-2"}])) == []
    assert crd_errors(with_spec(rules, groups=[group, group])) != []


def test_the_translation_of_nullable_and_open_objects() -> None:
    schema = crd_json_schema(
        {
            "type": "object",
            "properties": {
                "a": {"type": "string", "nullable": True},
                "open": {"type": "object", "x-kubernetes-preserve-unknown-fields": True, "properties": {}},
                "n": {"type": "integer", "minimum": 0, "exclusiveMinimum": True},
                "s": {"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "set"},
            },
        }
    )

    assert schema["properties"]["a"]["type"] == ["string", "null"]
    assert "additionalProperties" not in schema["properties"]["open"]
    assert schema["additionalProperties"] is False
    assert schema["properties"]["n"] == {"type": "integer", "exclusiveMinimum": 0}
    assert schema["properties"]["s"]["uniqueItems"] is True
    assert not any(k.startswith("x-kubernetes-") for k in str(schema).split("'"))


def test_nothing_refers_to_a_schema_copy_outside_the_repository() -> None:
    """A plain clone has everything: no schema copy from a shared folder beside the clone in the code, the
    tools or the workflow."""
    tracked = subprocess.run(
        ["git", "ls-files", "tests", "tools", ".github", "Makefile", "pyproject.toml"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    offenders = [
        path
        for path in tracked
        if path != "tests/deploy/test_crds.py"
        and (REPO / path).is_file()
        and "shared/schemas" in (REPO / path).read_text(errors="replace")
    ]

    assert offenders == []
