"""The command line as the CronJob and people use it: exit codes, JSON logs, settings errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from kubesandbox import Sandbox
from selfheal.confighash import config_hash


def selfheal(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("SELFHEAL_") and k != "KUBECONFIG"}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "selfheal", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd,
        timeout=120,
    )


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """ea-plan-v5 following wall time, as `selfheal sandbox serve` runs it."""
    with Sandbox.start("ea-plan-v5", wall_clock=True) as sb:
        yield sb


def test_every_invalid_setting_is_reported_before_any_api_call(live, tmp_path):
    live.clear_requests()
    res = selfheal(
        "run",
        "--kubeconfig",
        str(live.kubeconfig),
        env={
            "SELFHEAL_MAX_ACTIONS": "many",
            "SELFHEAL_COOLDOWN_SECONDS": "-5",
            "SELFHEAL_PUSHGATEWAY_URL": "ftp://nope",
        },
        cwd=tmp_path,
    )
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 3, res.stderr
    for needle in ("SELFHEAL_MAX_ACTIONS", "SELFHEAL_COOLDOWN_SECONDS", "SELFHEAL_PUSHGATEWAY_URL"):
        assert sum(needle in line for line in lines) == 1, res.stderr
    assert live.requests == []


def test_run_dry_run_logs_json_events_with_the_run_id_and_prints_the_plan(live, tmp_path):
    res = selfheal("run", "--dry-run", "--kubeconfig", str(live.kubeconfig), cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    events = [json.loads(line) for line in res.stdout.splitlines() if line.startswith("{")]
    table = [line for line in res.stdout.splitlines() if not line.startswith("{")]
    assert {e["event"] for e in events} >= {
        "snapshot.read",
        "finding",
        "action.planned",
        "action.dry_run",
        "run.summary",
    }
    assert len({e["run_id"] for e in events}) == 1 and all(
        e["namespace"] == "dese-ea-plan-v5" for e in events
    )
    assert table[0].split()[:3] == ["DECISION", "ACTION", "TARGET"]
    assert any("rollback" in line and "cpt-optimizer" in line for line in table)
    assert (tmp_path / "aiops/risk-prediction.json").is_file()
    assert live.get("Deployment", "cpt-reporting")["spec"]["replicas"] == 1  # dry-run changed nothing


def test_history_prints_the_last_actions(live, tmp_path):
    selfheal("plan", "--kubeconfig", str(live.kubeconfig), cwd=tmp_path)
    res = selfheal("history", "-n", "2", cwd=tmp_path)
    assert res.returncode == 0
    lines = res.stdout.strip().splitlines()
    assert lines[0].split() == ["TIME", "RUN", "ACTION", "TARGET", "RESULT", "REASON"] and len(lines) == 3


def test_an_unreachable_cluster_is_exit_3(tmp_path):
    kubeconfig = tmp_path / "kc"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "c",
                "clusters": [{"name": "c", "cluster": {"server": "http://127.0.0.1:9"}}],
                "users": [{"name": "u", "user": {}}],
                "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u", "namespace": "x"}}],
            }
        )
    )
    res = selfheal("run", "--kubeconfig", str(kubeconfig), "--log-format", "off", cwd=tmp_path)
    assert res.returncode == 3
    assert res.stderr.startswith("selfheal: cluster:") and len(res.stderr.strip().splitlines()) == 1


def test_a_missing_kubeconfig_is_a_configuration_error(tmp_path):
    res = selfheal("run", "--kubeconfig", str(tmp_path / "nope"), cwd=tmp_path)
    assert res.returncode == 2 and res.stderr.startswith("selfheal: kubeconfig:")


def test_hash_prints_the_template_hash_the_detector_compares(tmp_path):
    template = {
        "metadata": {"labels": {"app": "web"}},
        "spec": {"containers": [{"name": "web", "image": "shop/web:1"}]},
    }
    manifest = tmp_path / "web.yaml"
    manifest.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": "web"},
                "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": template},
            }
        )
    )
    res = selfheal("hash", str(manifest))
    assert res.returncode == 0
    assert res.stdout.strip().split("\t")[:2] == ["web", config_hash(template)]


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("kind: [", "web.yaml"),
        ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n", "no Deployment"),
    ],
)
def test_hash_rejects_bad_manifests_with_one_line(tmp_path, content, needle):
    manifest = tmp_path / "web.yaml"
    manifest.write_text(content)
    res = selfheal("hash", str(manifest))
    assert res.returncode == 2
    assert len(res.stderr.strip().splitlines()) == 1 and needle in res.stderr


def test_version():
    res = selfheal("--version")
    assert res.returncode == 0 and res.stdout.startswith("selfheal ")
