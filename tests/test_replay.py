"""`selfheal plan|run --from-dump`: vetting the job against a dumped namespace, with no cluster."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from kubesandbox import Sandbox

NS = "dese-ea-plan-v5"


def selfheal(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SELFHEAL_") and k != "KUBECONFIG"}
    return subprocess.run(
        [sys.executable, "-m", "selfheal", *args, "--log-format", "off"],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=180,
    )


@pytest.fixture(scope="module")
def dump(tmp_path_factory) -> Path:
    """ea-plan-v5 as `kubectl get deploy,rs,pods,hpa,pdb,cm,cronjob,lease -o yaml` prints it."""
    path = tmp_path_factory.mktemp("dump") / "dump.yaml"
    with Sandbox.start("ea-plan-v5") as sb:
        out = sb.kubectl("get", "deploy,rs,pods,hpa,pdb,cm,cronjob,lease", "-n", NS, "-o", "yaml")
    assert out.returncode == 0, out.stderr
    path.write_text(out.stdout)
    return path


def test_plan_from_a_dump_prints_the_plan_with_reasons_and_writes_nothing_beside_it(dump, tmp_path):
    res = selfheal("plan", "--from-dump", str(dump), cwd=tmp_path)

    assert res.returncode == 0, res.stderr
    rows = [line.split()[:4] for line in res.stdout.splitlines()]
    assert ["approve", "rollback", "Deployment/cpt-optimizer", "bad_revision"] in rows
    assert ["approve", "scale", "Deployment/cpt-reporting", "replica_drift"] in rows
    assert ["skip", "restart_pod", "Pod/cpt-debug", "bare_pod"] in rows
    assert list(tmp_path.iterdir()) == []  # a what-if leaves no history (and no cooldowns) behind


def test_run_from_a_dump_applies_the_plan_to_the_replay_and_shows_the_healed_namespace(dump, tmp_path):
    history = tmp_path / "h.log"

    res = selfheal("run", "--from-dump", str(dump), "--history-file", str(history), cwd=tmp_path)

    assert res.returncode == 0, res.stderr
    after = res.stdout[res.stdout.index("== the namespace after the pass") :]
    deployments = {line.split()[0]: line.split() for line in after.splitlines() if line.startswith("cpt-")}
    assert deployments["cpt-reporting"][1] == "3/3"  # scaled back
    assert deployments["cpt-optimizer"][-1].endswith(":5.1.3")  # rolled back to revision 1's image
    applied = {
        (e["action"], e["name"])
        for e in map(json.loads, history.read_text().splitlines())
        if e["result"] == "applied"
    }
    assert ("rollback", "cpt-optimizer") in applied and ("scale", "cpt-reporting") in applied


def objects_yaml(*docs: dict) -> str:
    return yaml.safe_dump_all(docs)


CM = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {"name": "c", "namespace": "a"},
    "data": {"k": "v"},
}


@pytest.mark.parametrize(
    ("content", "args", "needle"),
    [
        ("key: [unclosed\n", (), "not YAML (line 2)"),
        ("- just\n- a list\n", (), "not a Kubernetes dump"),
        ("hello: world\n", (), "not a Kubernetes dump"),
        (
            objects_yaml(CM, {**CM, "metadata": {"name": "d", "namespace": "b"}}),
            (),
            "mixes namespaces a, b: choose one with --namespace",
        ),
        (
            objects_yaml({**CM, "metadata": {"name": "c"}}),
            (),
            "has no metadata.namespace: say which namespace",
        ),
        (objects_yaml(CM), ("--namespace", "z"), "namespace z is not in the dump (it holds a)"),
        (
            objects_yaml({"apiVersion": "v9", "kind": "Gizmo", "metadata": {"name": "g", "namespace": "a"}}),
            (),
            'no matches for kind "Gizmo"',
        ),
    ],
)
def test_a_dump_that_cannot_be_replayed_is_one_line_and_exit_2(tmp_path, content, args, needle):
    bad = tmp_path / "bad.yaml"
    bad.write_text(content)

    res = selfheal("plan", "--from-dump", str(bad), *args, cwd=tmp_path)

    assert res.returncode == 2, res.stdout + res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("selfheal: ") and needle in lines[0], res.stderr
    assert "Traceback" not in res.stderr


def test_namespace_picks_one_of_a_mixed_dump(tmp_path):
    mixed = tmp_path / "mixed.yaml"
    mixed.write_text(objects_yaml(CM, {**CM, "metadata": {"name": "d", "namespace": "b"}}))

    res = selfheal("plan", "--from-dump", str(mixed), "--namespace", "b", cwd=tmp_path)

    assert res.returncode == 0, res.stderr
    assert "nothing to do" in res.stdout
