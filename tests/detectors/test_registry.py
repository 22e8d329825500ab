"""The registry runs every detector and orders findings deterministically."""

from __future__ import annotations

import random

from selfheal.detectors import REGISTRY, DetectorConfig, run_detectors
from tests.builders import NOW, crashing_pods, healthy_pods, make_deployment, make_replicaset, snapshot_of


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
