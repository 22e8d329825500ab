"""When a field was last written, as managedFields record it: the owner of the field at or below a path, the
job's own writes left out, nothing known without managedFields."""

from __future__ import annotations

from datetime import timedelta

import msgspec
import pytest

from selfheal.kube.managed import JOB_FIELD_MANAGER, last_written
from selfheal.kube.model import Deployment
from tests.builders import NOW, make_deployment, with_writes, written

CREATED = NOW - timedelta(days=3)
SCALED = NOW - timedelta(minutes=7)
EDITED = NOW - timedelta(minutes=2)

APPLY = written("kubectl-client-side-apply", CREATED, ("spec", "replicas"), ("spec", "template"))
PATCH = written("kubectl-patch", SCALED, ("spec", "replicas"))
SCALE = msgspec.structs.replace(  # a real apiserver records no time on a write through /scale
    written("kubectl", SCALED, ("spec", "replicas"), subresource="scale"), time=None
)
SET_ENV = written("kubectl-set", EDITED, ("spec", "template", "spec", "containers"))
JOB = written(JOB_FIELD_MANAGER, NOW, ("spec", "replicas"), ("spec", "template"))
STATUS = written("kube-controller-manager", NOW, ("status", "replicas"), subresource="status")
ANNOTATION = written("kubectl-annotate", EDITED, ("metadata", "annotations", "selfheal.dev/desired-replicas"))


@pytest.mark.parametrize(
    ("entries", "paths", "expected"),
    [
        pytest.param((APPLY,), [("spec", "replicas")], CREATED, id="only the apply: its time"),
        pytest.param(
            (APPLY, PATCH), [("spec", "replicas")], SCALED, id="a later kubectl patch owns replicas"
        ),
        pytest.param(
            (APPLY, SCALE), [("spec", "replicas")], None, id="kubectl scale owns them, untimed: unknown"
        ),
        pytest.param(
            (APPLY, SCALE),
            [("spec", "template")],
            CREATED,
            id="an untimed owner of other fields does not matter",
        ),
        pytest.param((APPLY, SET_ENV), [("spec", "template")], EDITED, id="a write below the path counts"),
        pytest.param((APPLY, SET_ENV), [("spec", "replicas")], CREATED, id="a write elsewhere does not"),
        pytest.param((PATCH, JOB), [("spec", "replicas")], SCALED, id="the job's own write is left out"),
        pytest.param((JOB,), [("spec", "replicas")], None, id="only the job wrote it: unknown"),
        pytest.param((APPLY, STATUS), [("status",), ("spec", "replicas")], NOW, id="any of several paths"),
        pytest.param(
            (ANNOTATION,),
            [("metadata", "annotations", "selfheal.dev/desired-replicas")],
            EDITED,
            id="an annotation key with dots and a slash",
        ),
        pytest.param(
            (ANNOTATION,),
            [("metadata", "annotations", "selfheal.dev/config-hash")],
            None,
            id="another annotation: unknown",
        ),
        pytest.param((), [("spec", "replicas")], None, id="no managedFields (a stripped dump): unknown"),
    ],
)
def test_the_last_write_of_a_field_is_its_owners_time(entries, paths, expected):
    dep = with_writes(make_deployment("web"), *entries)

    assert last_written(dep.metadata, paths) == expected


def test_managed_fields_are_decoded_from_the_api_answer():
    # as a 1.37 apiserver answers after `kubectl scale deploy/web --replicas=1`
    answer = {
        "metadata": {
            "name": "web",
            "managedFields": [
                {
                    "manager": "kubectl",
                    "operation": "Update",
                    "apiVersion": "apps/v1",
                    "time": "2024-05-01T11:53:00Z",
                    "fieldsType": "FieldsV1",
                    "fieldsV1": {"f:spec": {"f:replicas": {}}},
                    "subresource": "scale",
                }
            ],
        }
    }
    dep = msgspec.json.decode(msgspec.json.encode(answer), type=Deployment)

    assert last_written(dep.metadata, [("spec", "replicas")]) == SCALED
    assert dep.metadata.managed_fields[0].subresource == "scale"
