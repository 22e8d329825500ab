"""Config-hash drift (restore the recorded template) and ConfigMap drift (restart with the new checksum)."""

from __future__ import annotations

import copy

from selfheal.confighash import combined_checksum, config_hash, configmap_checksum
from selfheal.detectors import config_drift
from selfheal.detectors.base import DetectorConfig
from selfheal.findings import ActionKind, CauseCode, SkipCode
from selfheal.kube.requests import ContentType
from tests.builders import NOW, make_configmap, make_deployment, make_replicaset, make_template, snapshot_of

CONFIG = DetectorConfig()
MANIFEST_TEMPLATE = make_template("web", image="registry.example/shop/web:1.0")
RECORDED = config_hash(MANIFEST_TEMPLATE)


def manifest(template=MANIFEST_TEMPLATE, recorded=RECORDED):
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "annotations": {"selfheal.dev/config-hash": recorded}},
        "spec": {"replicas": 3, "template": template},
    }


def deployed(live_template, *, last_applied=None, recorded=RECORDED):
    """web as applied from the manifest, whose live template is now `live_template` (as written)."""
    return make_deployment(
        "web",
        template=live_template,
        annotations={"selfheal.dev/config-hash": recorded},
        last_applied=manifest() if last_applied is None else last_applied,
    )


def with_image(template, image):
    t = copy.deepcopy(template)
    t["spec"]["containers"][0]["image"] = image
    return t


def with_template_annotations(template, **annotations):
    t = copy.deepcopy(template)
    t["metadata"].setdefault("annotations", {}).update(annotations)
    return t


def test_a_live_template_with_server_defaults_matches_the_hash_of_the_manifest():
    dep = deployed(MANIFEST_TEMPLATE)  # the builder applies the API server's defaults

    assert dep.template_doc() != MANIFEST_TEMPLATE
    assert config_drift.detect(snapshot_of(dep), CONFIG, NOW) == []


def test_a_rolling_restart_or_a_checksum_stamp_is_not_drift():
    live = with_template_annotations(
        MANIFEST_TEMPLATE, **{"kubectl.kubernetes.io/restartedAt": "2024-05-01T10:00:00Z"}
    )

    assert config_drift.detect(snapshot_of(deployed(live)), CONFIG, NOW) == []


def test_a_changed_image_is_restored_from_last_applied_and_the_field_is_named():
    dep = deployed(with_image(MANIFEST_TEMPLATE, "registry.example/shop/web:hotfix"))

    [finding] = config_drift.detect(snapshot_of(dep), CONFIG, NOW)

    assert finding.cause.code == CauseCode.CONFIG_HASH_DRIFT
    assert "drifted field spec.containers[name=web].image" in finding.evidence
    assert "restore from last-applied-configuration" in finding.evidence
    [action] = finding.actions
    assert action.action == ActionKind.RESTORE_TEMPLATE
    [write] = action.writes
    assert write.content_type == ContentType.JSON_PATCH
    assert write.document() == [{"op": "replace", "path": "/spec/template", "value": MANIFEST_TEMPLATE}]
    assert write.inverse_document() == [
        {"op": "replace", "path": "/spec/template", "value": dep.template_doc()}
    ]


def test_after_the_restore_the_second_pass_finds_nothing():
    dep = deployed(with_image(MANIFEST_TEMPLATE, "registry.example/shop/web:hotfix"))
    [finding] = config_drift.detect(snapshot_of(dep), CONFIG, NOW)
    restored = finding.actions[0].writes[0].document()[0]["value"]

    assert config_drift.detect(snapshot_of(deployed(restored)), CONFIG, NOW) == []


def test_the_restore_keeps_the_live_values_of_annotations_the_hash_ignores():
    live = with_template_annotations(
        with_image(MANIFEST_TEMPLATE, "registry.example/shop/web:hotfix"),
        **{
            "kubectl.kubernetes.io/restartedAt": "2024-05-01T10:00:00Z",
            "selfheal.dev/config-checksum": "sha256:" + "a" * 64,
        },
    )

    [finding] = config_drift.detect(snapshot_of(deployed(live)), CONFIG, NOW)

    value = finding.actions[0].writes[0].document()[0]["value"]
    assert value["metadata"]["annotations"] == {
        "kubectl.kubernetes.io/restartedAt": "2024-05-01T10:00:00Z",
        "selfheal.dev/config-checksum": "sha256:" + "a" * 64,
    }
    assert value["spec"]["containers"][0]["image"] == "registry.example/shop/web:1.0"


def test_when_last_applied_was_changed_too_the_replicaset_with_the_recorded_hash_is_the_source():
    drifted = with_image(MANIFEST_TEMPLATE, "registry.example/shop/web:hotfix")
    dep = deployed(
        drifted, last_applied=manifest(drifted)
    )  # `kubectl apply` of an edited file, old hash kept
    good = make_replicaset(dep, revision=1, template=MANIFEST_TEMPLATE, replicas=0)
    current = make_replicaset(dep, revision=2)

    [finding] = config_drift.detect(snapshot_of(dep, good, current), CONFIG, NOW)

    assert f"restore from ReplicaSet {good.metadata.name} (revision 1)" in finding.evidence
    value = finding.actions[0].writes[0].document()[0]["value"]
    assert "pod-template-hash" not in value["metadata"]["labels"]
    assert config_hash(value) == RECORDED


def test_without_a_trustworthy_source_the_restore_is_refused():
    drifted = with_image(MANIFEST_TEMPLATE, "registry.example/shop/web:hotfix")
    dep = deployed(drifted, last_applied=manifest(drifted))

    [finding] = config_drift.detect(snapshot_of(dep, make_replicaset(dep, revision=2)), CONFIG, NOW)

    refusal = finding.actions[0].refusal
    assert refusal is not None and refusal.code == SkipCode.NO_RESTORE_SOURCE


def test_a_malformed_recorded_hash_is_reported_not_acted_on():
    dep = deployed(MANIFEST_TEMPLATE, recorded="md5:abc")

    [finding] = config_drift.detect(snapshot_of(dep), CONFIG, NOW)

    assert finding.cause.code == CauseCode.INVALID_ANNOTATION
    assert finding.actions[0].refusal is not None


def test_deployments_without_a_recorded_hash_are_not_checked():
    dep = make_deployment("web", image="anything:2")

    assert config_drift.detect(snapshot_of(dep), CONFIG, NOW) == []


# --- ConfigMaps --------------------------------------------------------------------------------------------

OLD_DATA = {"LOG_LEVEL": "info"}
NEW_DATA = {"LOG_LEVEL": "debug"}


def reading_config(checksum_of_data):
    stamped = combined_checksum({"web-config": configmap_checksum(checksum_of_data, None)})
    template = make_template(
        "web", env_from_configmap="web-config", annotations={"selfheal.dev/config-checksum": stamped}
    )
    return make_deployment("web", template=template), stamped


def test_a_changed_configmap_restarts_the_pods_by_writing_the_new_checksum():
    dep, stamped = reading_config(OLD_DATA)

    [finding] = config_drift.detect(snapshot_of(dep, make_configmap("web-config", NEW_DATA)), CONFIG, NOW)

    assert finding.cause.code == CauseCode.CONFIGMAP_CHANGED
    [write] = finding.actions[0].writes
    assert finding.actions[0].action == ActionKind.ROLLOUT_RESTART
    new = combined_checksum({"web-config": configmap_checksum(NEW_DATA, None)})
    assert write.document() == {
        "spec": {"template": {"metadata": {"annotations": {"selfheal.dev/config-checksum": new}}}}
    }
    assert write.inverse_document() == {
        "spec": {"template": {"metadata": {"annotations": {"selfheal.dev/config-checksum": stamped}}}}
    }


def test_an_unchanged_configmap_is_quiet_and_so_is_a_template_without_the_annotation():
    dep, _ = reading_config(OLD_DATA)
    plain = make_deployment("api", template=make_template("api", configmap_volume="web-config"))

    assert (
        config_drift.detect(snapshot_of(dep, plain, make_configmap("web-config", OLD_DATA)), CONFIG, NOW)
        == []
    )


def test_a_deleted_configmap_counts_as_changed():
    dep, _ = reading_config(OLD_DATA)

    [finding] = config_drift.detect(snapshot_of(dep), CONFIG, NOW)

    assert "configmap web-config: missing" in finding.evidence
