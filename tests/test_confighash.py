"""The config hash: stable against everything the API server and controllers add, sensitive to real edits."""

from __future__ import annotations

import copy
import json
import random
import textwrap
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubesandbox.resources.defaults import apply_defaults
from selfheal.confighash import (
    ConfigHashError,
    combined_checksum,
    config_hash,
    configmap_checksum,
    drifted_fields,
    hash_manifest,
    is_config_hash,
    normalise_template,
)
from tests.builders import make_template, served

BASE = make_template("web", image="registry.example/shop/web:1.0", configmap_volume="web-config")


def edited(template: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy with `value` set at a dotted path; integers index lists."""
    t = copy.deepcopy(template)
    *parents, leaf = path.split(".")
    node: Any = t
    for part in parents:
        node = node[int(part)] if part.isdigit() else node.setdefault(part, {})
    if leaf.isdigit():
        node[int(leaf)] = value
    else:
        node[leaf] = value
    return t


def shuffled(value: Any, rng: random.Random) -> Any:
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {k: shuffled(v, rng) for k, v in items}
    if isinstance(value, list):
        return [shuffled(v, rng) for v in value]
    return value


def test_the_hash_format_is_sha256_hex():
    assert is_config_hash(config_hash(BASE))
    assert config_hash(BASE).startswith("sha256:") and len(config_hash(BASE)) == 71


def test_key_order_never_changes_the_hash():
    rng = random.Random(1)
    assert {config_hash(shuffled(BASE, rng)) for _ in range(5)} == {config_hash(BASE)}


def test_the_api_servers_defaults_do_not_change_the_hash():
    assert served(BASE) != BASE
    assert config_hash(served(BASE)) == config_hash(BASE)


TEMPLATES = {
    "probes and ports": BASE,
    "latest image": make_template("web", image="nginx"),
    "digest image": make_template("web", image="registry.example/web@sha256:" + "0" * 64),
    "env fieldRef and init container": {
        "metadata": {"labels": {"app": "w"}},
        "spec": {
            "initContainers": [{"name": "init", "image": "busybox:1.36", "command": ["true"]}],
            "containers": [
                {
                    "name": "w",
                    "image": "w:1",
                    "env": [{"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
                    "startupProbe": {"httpGet": {"port": 80}},
                }
            ],
            "volumes": [{"name": "s", "secret": {"secretName": "s"}}],
        },
    },
}


@pytest.mark.parametrize("template", TEMPLATES.values(), ids=TEMPLATES.keys())
def test_the_sandboxs_api_server_defaulting_does_not_change_the_hash(template):
    deployment = {"kind": "Deployment", "spec": {"template": copy.deepcopy(template)}}

    live = apply_defaults(deployment)["spec"]["template"]

    assert live != template
    assert config_hash(live) == config_hash(template)
    assert drifted_fields(template, live) == []


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("metadata.annotations", {"kubectl.kubernetes.io/restartedAt": "2024-05-01T10:00:00Z"}),
        ("metadata.annotations", {"selfheal.dev/config-checksum": "sha256:" + "1" * 64}),
        ("metadata.annotations", {"argocd.argoproj.io/tracking-id": "cpt-web:apps/Deployment:shop/web"}),
        ("metadata.labels", {"app": "web", "pod-template-hash": "5d8f7c9b4"}),
        ("metadata.creationTimestamp", None),
        ("spec.containers.0.imagePullPolicy", "IfNotPresent"),  # the default for a tagged image
        ("spec.containers.0.volumeMounts.0.readOnly", False),  # omitempty: the API never echoes it
        ("spec.containers.0.resources", {}),
        ("spec.containers.0.args", []),
    ],
)
def test_fields_tools_and_controllers_add_are_ignored(path, value):
    assert config_hash(edited(BASE, path, value)) == config_hash(BASE)


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        ("spec.containers.0.image", "registry.example/shop/web:2.0", "spec.containers[name=web].image"),
        ("spec.containers.0.imagePullPolicy", "Always", "spec.containers[name=web].imagePullPolicy"),
        ("spec.containers.0.env", [{"name": "DEBUG", "value": "1"}], "spec.containers[name=web].env"),
        (
            "metadata.labels",
            {"app": "web", "app.kubernetes.io/instance": "cpt"},
            'metadata.labels["app.kubernetes.io/instance"]',
        ),
        ("spec.securityContext", {"runAsUser": 0}, "spec.securityContext"),  # pointer zero is meaningful
        ("spec.terminationGracePeriodSeconds", 0, "spec.terminationGracePeriodSeconds"),
        ("spec.volumes.0.configMap.name", "other-config", "spec.volumes[name=config].configMap.name"),
    ],
)
def test_real_edits_change_the_hash_and_the_drifted_field_is_named(path, value, field):
    changed = edited(BASE, path, value)

    assert config_hash(changed) != config_hash(BASE)
    assert drifted_fields(BASE, changed) == [field]


def test_an_added_container_and_a_reordering_are_named_at_the_list():
    sidecar = {"name": "proxy", "image": "envoy:1.30"}
    added = edited(BASE, "spec.containers", [*BASE["spec"]["containers"], sidecar])
    reordered = edited(added, "spec.containers", list(reversed(added["spec"]["containers"])))

    assert drifted_fields(BASE, added) == ["spec.containers[name=proxy]"]
    assert drifted_fields(added, reordered) == ["spec.containers"]


@pytest.mark.parametrize(
    ("written", "served_as"), [("1024Mi", "1Gi"), (0.5, "500m"), (1, "1"), ("1e3", "1k")]
)
def test_resource_quantities_compare_by_value(written, served_as):
    a = edited(BASE, "spec.containers.0.resources", {"limits": {"memory": written}})
    b = edited(BASE, "spec.containers.0.resources", {"limits": {"memory": served_as}})

    assert config_hash(a) == config_hash(b)


def test_normalising_never_modifies_its_input():
    before = copy.deepcopy(served(BASE))
    live = served(BASE)
    normalise_template(live)
    assert live == before


json_leaf = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from(["", "a", "TCP", "/"]))
json_tree = st.recursive(
    json_leaf,
    lambda kids: st.one_of(
        st.lists(kids, max_size=3),
        st.dictionaries(
            st.sampled_from(["name", "image", "value", "spec", "x", "readOnly"]), kids, max_size=3
        ),
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(a=json_tree, b=json_tree)
def test_drifted_fields_are_empty_exactly_when_the_hashes_agree(a, b):
    ta, tb = {"spec": {"x": a}}, {"spec": {"x": b}}

    assert (config_hash(ta) == config_hash(tb)) == (drifted_fields(ta, tb) == [])


# --- ConfigMaps ---------------------------------------------------------------------------------------------


def test_configmap_checksums_ignore_key_order_and_empty_maps_but_not_content():
    assert configmap_checksum({"a": "1", "b": "2"}, None) == configmap_checksum({"b": "2", "a": "1"}, {})
    assert configmap_checksum({"a": "1"}, None) != configmap_checksum({"a": "2"}, None)
    assert configmap_checksum({}, {"a": "AA=="}) != configmap_checksum({"a": "AA=="}, {})


def test_the_combined_checksum_covers_every_configmap_and_missing_ones():
    one = configmap_checksum({"a": "1"}, None)
    assert combined_checksum({"x": one, "y": None}) != combined_checksum({"x": one})
    assert combined_checksum({"x": one, "y": one}) == combined_checksum({"y": one, "x": one})


# --- manifests --------------------------------------------------------------------------------------------------


def test_hash_manifest_hashes_every_deployment_of_a_multi_document_file(tmp_path):
    manifest = tmp_path / "deploy.yaml"
    manifest.write_text(
        textwrap.dedent(f"""\
        apiVersion: v1
        kind: ConfigMap
        metadata: {{name: web-config}}
        data: {{LOG_LEVEL: info}}
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
          annotations: {{selfheal.dev/config-hash: stamped-later}}
        spec:
          template: {json.dumps(BASE)}
        ---
        apiVersion: v1
        kind: List
        items:
        - apiVersion: apps/v1
          kind: Deployment
          metadata: {{name: api}}
          spec:
            template: {json.dumps(make_template("api", configmap_volume="absent-config"))}
        - apiVersion: v1
          kind: Service
          metadata: {{name: web}}
        """)
    )

    web, api = hash_manifest(manifest)

    assert (web.name, web.config_hash) == ("web", config_hash(BASE))
    assert web.config_checksum == combined_checksum(
        {"web-config": configmap_checksum({"LOG_LEVEL": "info"}, None)}
    )
    assert api.name == "api" and api.config_checksum is None  # its ConfigMap is not in the file


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("kind: Deployment\nspec: {template: {}}\n", "has no metadata.name"),
        ("kind: Deployment\nmetadata: {name: web}\n", "Deployment web has no spec.template"),
        ("kind: [unclosed\n", "not valid YAML"),
    ],
)
def test_hash_manifest_explains_what_is_wrong_with_a_file(tmp_path, text, message):
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)

    with pytest.raises(ConfigHashError, match=message):
        hash_manifest(bad)


def test_hash_manifest_of_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigHashError, match="cannot read"):
        hash_manifest(tmp_path / "nope.yaml")
