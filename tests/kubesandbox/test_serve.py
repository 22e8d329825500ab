"""`selfheal sandbox serve` as a person or a script uses it."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest


def start(tmp_path: Path, *args: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "selfheal", "sandbox", "serve", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    return proc, line


def test_serve_prints_ready_serves_kubectl_and_stops_on_sigterm(tmp_path):
    kubeconfig = tmp_path / "kc"
    proc, line = start(tmp_path, "--scenario", "ea-plan-v5", "--kubeconfig", str(kubeconfig))
    try:
        assert line.startswith("sandbox ready: http://127.0.0.1:"), line
        assert line.strip().endswith(f"kubeconfig={kubeconfig}")
        out = subprocess.run(
            [
                "kubectl",
                f"--kubeconfig={kubeconfig}",
                f"--cache-dir={tmp_path / 'cache'}",
                "get",
                "deploy",
                "dese-ea-plan-v5",
            ],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert out.returncode == 0, out.stderr
        assert (
            out.stdout.splitlines()[1].split()[0] == "dese-ea-plan-v5"
        )  # the scenario's namespace is the default
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0


def test_serve_follows_wall_time_so_controllers_converge(tmp_path):
    from kubernetes import client, config

    kubeconfig = tmp_path / "kc"
    proc, line = start(tmp_path, "--scenario", "ea-plan-v5", "--kubeconfig", str(kubeconfig))
    try:
        assert "sandbox ready" in line
        api = client.AppsV1Api(config.new_client_from_config(str(kubeconfig)))
        name = "dese-ea-plan-v5"
        api.patch_namespaced_deployment(
            name,
            name,
            {
                "spec": {
                    "template": {
                        "metadata": {
                            "annotations": {"kubectl.kubernetes.io/restartedAt": "2026-01-01T12:00:00Z"}
                        }
                    }
                }
            },
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            d = api.read_namespaced_deployment(name, name)
            if d.status.observed_generation == d.metadata.generation and d.status.updated_replicas:
                break
            time.sleep(0.2)
        assert d.status.observed_generation == d.metadata.generation
        assert d.status.updated_replicas >= 1
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("apiVersion: v1\nkind: Pod\nmetadata: {namespace: x}\n", "metadata.name"),
        ("apiVersion: v9\nkind: Gizmo\nmetadata: {name: a}\n", "Gizmo"),
        ("kind: [unclosed\n", "line"),
    ],
)
def test_a_bad_scenario_is_one_line_naming_the_problem_and_exit_2(tmp_path, content, needle):
    bad = tmp_path / "bad.yaml"
    bad.write_text(content)
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "selfheal",
            "sandbox",
            "serve",
            "--scenario",
            str(bad),
            "--kubeconfig",
            str(tmp_path / "kc"),
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], res.stderr
    assert "bad.yaml" in lines[0]


def test_a_sandbox_that_never_served_closes_at_once():
    from kubesandbox import Sandbox
    from kubesandbox.serve.scenario import load_scenario

    sb = Sandbox(load_scenario("minimal"))
    sb.close()  # used to wait forever in socketserver.shutdown()
    assert sb.find("Deployment", "dese-ea-plan-v5") is not None
