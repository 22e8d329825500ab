"""The wire model's small helpers: selectors, suspension, ConfigMap references, revisions."""

from __future__ import annotations

import msgspec
import pytest

from selfheal.kube.model import LabelSelector, Pod, PodTemplate, selector_matches
from tests.builders import make_cronjob, make_deployment, make_replicaset, make_template


@pytest.mark.parametrize(
    ("selector", "labels", "matches"),
    [
        ({}, {"app": "web"}, True),
        ({"matchLabels": {"app": "web"}}, {"app": "web", "tier": "fe"}, True),
        ({"matchLabels": {"app": "web"}}, {"app": "api"}, False),
        (
            {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["fe", "be"]}]},
            {"tier": "be"},
            True,
        ),
        ({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["fe"]}]}, {}, True),
        ({"matchExpressions": [{"key": "tier", "operator": "Exists"}]}, {}, False),
        ({"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]}, {"tier": "x"}, False),
    ],
)
def test_label_selectors_follow_kubernetes_semantics(selector, labels, matches):
    assert selector_matches(msgspec.convert(selector, LabelSelector), labels) is matches


@pytest.mark.parametrize(
    ("suspend", "annotation", "suspended"),
    [
        (False, None, False),
        (True, None, True),
        (False, "true", True),
        (False, "True", True),
        (False, "false", False),
        (False, " FALSE ", False),
        (True, "false", True),
    ],
)
def test_a_cronjob_is_suspended_by_spec_or_by_the_guides_annotation(suspend, annotation, suspended):
    answer = make_cronjob(suspend=suspend, annotation=annotation).suspended()

    assert answer.on is suspended and bool(answer) is suspended
    assert answer.invalid is None and answer.warning == ""


@pytest.mark.parametrize("annotation", ["yes", "1", "enabled", "", "off"])
@pytest.mark.parametrize("suspend", [False, True])
def test_an_unreadable_suspension_annotation_suspends_and_says_so(suspend, annotation):
    answer = make_cronjob(suspend=suspend, annotation=annotation).suspended()

    assert answer.on and answer  # the safe side: nothing is changed
    assert answer.invalid is not None and answer.invalid.raw == annotation
    assert answer.warning == (
        f'cronjob.kubernetes.io/suspended="{annotation}": not "true" or "false"; treated as "true"'
    )


def test_a_template_lists_every_configmap_it_reads_once():
    template = make_template("web", configmap_volume="files", env_from_configmap="env")
    template["spec"]["containers"][0]["env"] = [
        {"name": "K", "valueFrom": {"configMapKeyRef": {"name": "keys", "key": "k"}}},
        {"name": "S", "valueFrom": {"secretKeyRef": {"name": "secret", "key": "s"}}},
    ]
    template["spec"]["volumes"].append(
        {"name": "p", "projected": {"sources": [{"configMap": {"name": "env"}}]}}
    )

    assert msgspec.convert(template, PodTemplate).configmap_names() == ("env", "files", "keys")


def test_a_replicaset_revision_is_an_int_or_none():
    dep = make_deployment("web")
    assert make_replicaset(dep, revision=4).revision() == 4
    assert (
        make_replicaset(
            dep, revision=4, extra_annotations={"deployment.kubernetes.io/revision": "x"}
        ).revision()
        is None
    )


def test_pods_keep_only_what_the_rails_and_detectors_read_to_stay_small_at_20k_pods():
    raw = {
        "metadata": {
            "name": "p",
            "labels": {"app": "web"},
            "annotations": {"selfheal.dev/ignore": "true", "prometheus.io/scrape": "true"},
        },
        "status": {
            "conditions": [{"type": "PodScheduled", "status": "True"}, {"type": "Ready", "status": "False"}]
        },
    }

    pod = msgspec.json.decode(msgspec.json.encode(raw), type=Pod)

    assert pod.metadata.annotations == {"selfheal.dev/ignore": "true"}
    assert [c.type for c in pod.status.conditions] == ["Ready"]
    assert not hasattr(pod.metadata, "labels")
