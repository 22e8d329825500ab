"""The registry runs every detector and orders findings deterministically."""

from __future__ import annotations

import random
from datetime import timedelta

import msgspec
import pytest

from selfheal.confighash import combined_checksum, config_hash, configmap_checksum
from selfheal.detectors import REGISTRY, DetectorConfig, run_detectors
from selfheal.kube.managed import JOB_FIELD_MANAGER
from selfheal.kube.model import ANN_CONFIG_CHECKSUM, ANN_CONFIG_HASH, ANN_DESIRED_REPLICAS
from tests.builders import (
    NOW,
    crashing_pods,
    healthy_pods,
    make_configmap,
    make_deployment,
    make_hpa,
    make_replicaset,
    make_template,
    snapshot_of,
    with_writes,
    written,
)


def test_all_seven_detectors_are_registered():
    assert set(REGISTRY) == {
        "crashloop",
        "bad_revision",
        "replica_drift",
        "config_drift",
        "probes",
        "canary",
        "undecodable",
    }


def test_findings_come_most_severe_first_then_by_workload_name_whatever_the_input_order():
    objects = []
    for name in ("zeta", "alpha"):
        dep = make_deployment(name, probes=False)
        rs = make_replicaset(dep, revision=1)
        objects += [dep, rs, *crashing_pods(rs, 1), *healthy_pods(rs, 2)]
    shuffled = objects[:]
    random.Random(7).shuffle(shuffled)

    first = run_detectors(snapshot_of(*objects), DetectorConfig(), NOW)
    second = run_detectors(snapshot_of(*shuffled), DetectorConfig(), NOW)

    assert [(f.severity.label, f.workload.name, f.detector) for f in first] == [
        ("critical", "alpha", "crashloop"),
        ("critical", "zeta", "crashloop"),
        ("info", "alpha", "probes"),
        ("info", "zeta", "probes"),
    ]
    assert first == second


# --- onsets: when what an action answers began ------------------------------------------------------------

CREATED = NOW - timedelta(days=3)
HAND = NOW - timedelta(minutes=7)  # the human write that started the drift (kubectl patch, edit, set)
LATER = NOW - timedelta(minutes=2)


UNTIMED_SCALE = msgspec.structs.replace(
    written("kubectl", HAND, ("spec", "replicas"), subresource="scale"), time=None
)  # as a real apiserver records a write through /scale


def _drifted_replicas():
    dep = make_deployment("web", replicas=1, annotations={ANN_DESIRED_REPLICAS: "3"})
    return with_writes(
        dep,
        written(
            "kubectl-client-side-apply",
            CREATED,
            ("spec", "template"),
            ("metadata", "annotations", ANN_DESIRED_REPLICAS),
        ),
        written("kubectl-patch", HAND, ("spec", "replicas")),
    )


def _drifted_template():
    dep = make_deployment(
        "web", annotations={ANN_CONFIG_HASH: config_hash(make_template("web", image="shop/web:0"))}
    )
    return with_writes(dep, written("kubectl-set", HAND, ("spec", "template", "spec", "containers")))


def _changed_configmap():
    stamped = combined_checksum({"web-config": configmap_checksum({"LOG_LEVEL": "info"}, None)})
    template = make_template(
        "web", env_from_configmap="web-config", annotations={ANN_CONFIG_CHECKSUM: stamped}
    )
    dep = with_writes(make_deployment("web", template=template), written("ci", CREATED, ("spec", "template")))
    cm = with_writes(
        make_configmap("web-config", {"LOG_LEVEL": "debug"}), written("kubectl-edit", HAND, ("data",))
    )
    return dep, cm


def _clamped_by_hpa():
    dep = with_writes(make_deployment("web", replicas=1), written("ci", CREATED, ("spec", "replicas")))
    hpa = with_writes(
        make_hpa(dep, min_replicas=3, max_replicas=6), written("kubectl-patch", HAND, ("spec", "minReplicas"))
    )
    return dep, hpa


def _onsets(*objects):
    return {
        (f.cause.code.value, a.action.value): a.onset
        for f in run_detectors(snapshot_of(*objects), DetectorConfig(), NOW)
        for a in f.actions
    }


@pytest.mark.parametrize(
    ("objects", "expected"),
    [
        pytest.param(
            (_drifted_replicas(),), {("replica_drift", "scale"): HAND}, id="replicas: the kubectl patch"
        ),
        pytest.param(
            (
                with_writes(
                    _drifted_replicas(),
                    written("kubectl-annotate", LATER, ("metadata", "annotations", ANN_DESIRED_REPLICAS)),
                ),
            ),
            {("replica_drift", "scale"): LATER},
            id="replicas: a later change of the desired count",
        ),
        pytest.param(
            (with_writes(_drifted_replicas(), written(JOB_FIELD_MANAGER, LATER, ("spec", "replicas"))),),
            {("replica_drift", "scale"): HAND},
            id="replicas: the job's own later write is not the drift",
        ),
        pytest.param(
            _clamped_by_hpa(), {("hpa_clamp", "scale"): HAND}, id="HPA bounds: the HPA's new minimum"
        ),
        pytest.param(
            (_drifted_template(),),
            {("config_hash_drift", "restore_template"): HAND},
            id="template: kubectl set",
        ),
        pytest.param(
            _changed_configmap(),
            {("configmap_changed", "rollout_restart"): HAND},
            id="ConfigMap: its new content",
        ),
        pytest.param(
            (make_deployment("web", replicas=1, annotations={ANN_DESIRED_REPLICAS: "3"}),),
            {("replica_drift", "scale"): None},
            id="no managedFields (a stripped dump): none, the acting pass stands in",
        ),
        pytest.param(
            (
                with_writes(
                    make_deployment("web", replicas=1, annotations={ANN_DESIRED_REPLICAS: "3"}), UNTIMED_SCALE
                ),
            ),
            {("replica_drift", "scale"): None},
            id="kubectl scale (no time on /scale writes): none",
        ),
        pytest.param(
            (
                with_writes(
                    make_deployment("web", replicas=1, annotations={ANN_DESIRED_REPLICAS: "3"}),
                    written("kubectl", NOW + timedelta(minutes=5), ("spec", "replicas")),
                ),
            ),
            {("replica_drift", "scale"): None},
            id="a write in this pass' future (clock skew): none",
        ),
    ],
)
def test_a_drift_action_carries_the_write_that_started_the_drift(objects, expected):
    onsets = _onsets(*objects)

    assert {key: onsets.get(key, "no such action") for key in expected} == expected
