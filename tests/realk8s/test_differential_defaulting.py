"""Defaulting: the object the server answers a create with, for every kind the job reads or writes."""

from __future__ import annotations

import pytest

from tests.realk8s.differential import corpus as C
from tests.realk8s.differential.fixtures import differential, known, real_cluster

__all__ = ["differential", "known", "real_cluster"]

OBJECTS = {
    "Deployment": C.deployment(),
    "Deployment-rich": C.deployment(rich=True),
    "Pod": C.pod(),
    "Pod-rich": C.pod(rich=True),
    "Service": C.service(),
    "CronJob": C.cronjob(),
    "Job": C.job(),
    "HorizontalPodAutoscaler": C.hpa(),
    "PodDisruptionBudget": C.pdb(min_available=1),
    "ConfigMap": C.configmap(),
    "Secret": C.secret(),
    "Lease": C.lease(),
}


@pytest.mark.parametrize("which", list(OBJECTS))
def test_create_answers_the_defaulted_object(differential, which):
    d = differential()
    obj = OBJECTS[which]
    d.http(
        "dry-run", "POST", C.path_of(obj), body=obj, query={"dryRun": "All", "fieldManager": "differential"}
    )
    d.http("create", "POST", C.path_of(obj), body=obj, query={"fieldManager": "differential"})
