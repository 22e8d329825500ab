"""Replaying a dump: the sandbox starts at the moment the dump was captured, so every age is the one the
source cluster showed — whether the dump was taken a minute ago or years ago."""

from __future__ import annotations

import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from kubesandbox.resources.clock import DEFAULT_EPOCH
from kubesandbox.serve.scenario import ScenarioError, parse_scenario

Obj = dict


def rfc(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def pod(name: str, captured: datetime, *, age: timedelta, restarts: int, last_crash_ago: timedelta) -> Obj:
    started = captured - age
    crashed = captured - last_crash_ago
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": "shop",
            "creationTimestamp": rfc(started),
            "uid": f"uid-{name}",
            "annotations": {"note": "9999-01-01T00:00:00Z"},
        },  # free text: never an anchor
        "spec": {"containers": [{"name": "app", "image": "shop/app:1"}], "nodeName": "node-1"},
        "status": {
            "phase": "Running",
            "startTime": rfc(started),
            "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": rfc(crashed)}],
            "containerStatuses": [
                {
                    "name": "app",
                    "image": "shop/app:1",
                    "ready": True,
                    "restartCount": restarts,
                    "state": {"running": {"startedAt": rfc(crashed)}},
                    "lastState": {
                        "terminated": {
                            "exitCode": 1,
                            "reason": "Error",
                            "startedAt": rfc(started),
                            "finishedAt": rfc(crashed),
                        }
                    },
                }
            ],
        },
    }


def lease(captured: datetime) -> Obj:
    """A leader-election Lease, renewed every few seconds: what dates a real dump to within seconds."""
    return {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {
            "name": "web-leader",
            "namespace": "shop",
            "creationTimestamp": rfc(captured - timedelta(days=9)),
        },
        "spec": {
            "holderIdentity": "web-a",
            "leaseDurationSeconds": 15,
            "renewTime": (captured - timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        },
    }


def dump(captured: datetime, *, declared: bool = False) -> str:
    """`kubectl get pods,lease -o yaml` of two pods and a Lease, as printed at `captured`."""
    items = [
        pod(
            "web-a",
            captured,
            age=timedelta(minutes=25, seconds=30),
            restarts=5,
            last_crash_ago=timedelta(minutes=12, seconds=30),
        ),
        pod(
            "web-b",
            captured,
            age=timedelta(hours=5, minutes=20, seconds=30),
            restarts=0,
            last_crash_ago=timedelta(hours=5, minutes=19),
        ),
        lease(captured),
    ]
    docs: list[Obj] = [
        {"apiVersion": "v1", "kind": "List", "items": items, "metadata": {"resourceVersion": ""}}
    ]
    if declared:
        docs.insert(
            0,
            {
                "apiVersion": "sandbox.selfheal.dev/v1alpha1",
                "kind": "Scenario",
                "metadata": {"name": "d"},
                "spec": {"capturedAt": rfc(captured + timedelta(minutes=1))},
            },
        )
    return yaml.safe_dump_all(docs, sort_keys=False)


# What kubectl printed at capture for these two pods (AGE and RESTARTS columns).
AT_CAPTURE = {"web-a": ("25m", "5 (12m ago)"), "web-b": ("5h20m", "0")}


def test_the_anchor_is_the_newest_timestamp_of_the_dump_not_its_free_text():
    captured = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)

    s = parse_scenario(dump(captured))

    assert (s.captured_at, s.anchored_by) == (captured - timedelta(seconds=2), "newest timestamp")


def test_a_declared_capture_time_wins_and_a_scenario_without_times_starts_at_the_epoch():
    captured = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)

    declared = parse_scenario(dump(captured, declared=True))
    timeless = parse_scenario("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: shop}\n")

    assert (declared.captured_at, declared.anchored_by) == (captured + timedelta(minutes=1), "capturedAt")
    assert (timeless.captured_at, timeless.anchored_by) == (DEFAULT_EPOCH, "default")


@pytest.mark.parametrize(
    ("spec", "needle"),
    [
        ({"capturedAt": "yesterday"}, "spec.capturedAt: expected an RFC 3339 time"),
        ({}, "spec.capturedAt: Required value"),
    ],
)
def test_a_bad_scenario_document_is_one_line_naming_the_field(spec, needle):
    text = yaml.safe_dump(
        {
            "apiVersion": "sandbox.selfheal.dev/v1alpha1",
            "kind": "Scenario",
            "metadata": {"name": "x"},
            "spec": spec,
        }
    )
    with pytest.raises(ScenarioError, match=needle):
        parse_scenario(text)


def kubectl_columns(tmp_path: Path, scenario: str) -> dict[str, tuple[str, str]]:
    path = tmp_path / "dump.yaml"
    path.write_text(scenario)
    kubeconfig = tmp_path / "kc"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kubesandbox",
            "serve",
            "--scenario",
            str(path),
            "--kubeconfig",
            str(kubeconfig),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and "sandbox ready" in proc.stdout.readline()
        out = subprocess.run(
            [
                "kubectl",
                f"--kubeconfig={kubeconfig}",
                f"--cache-dir={tmp_path / 'cache'}",
                "get",
                "pods",
                "-n",
                "shop",
            ],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert out.returncode == 0, out.stderr
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)
    rows = [line.split() for line in out.stdout.splitlines()[1:]]
    # NAME READY STATUS RESTARTS [(Xm ago)] AGE
    return {r[0]: (r[-1], " ".join(r[3:-1])) for r in rows}


@pytest.mark.parametrize(
    "captured",
    [
        datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=5),  # dumped just now
        datetime(2024, 3, 1, 8, 0, tzinfo=UTC),  # dumped long ago
    ],
    ids=["captured-now", "captured-2024"],
)
def test_kubectl_shows_the_ages_and_restarts_it_showed_at_capture(tmp_path, captured):
    assert kubectl_columns(tmp_path, dump(captured)) == AT_CAPTURE
