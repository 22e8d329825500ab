"""The image, built and run for real: `tools/test-image.sh` (`make test-image`) under pytest.

Building needs root, debootstrap, podman and a minute or two (cold: the Debian rootfs, the wheelhouse and
the image; warm: seconds), so the build runs only when asked for with SELFHEAL_TEST_IMAGE=1. Whether
CI asks for it inside `make test` or runs `make test-image` on its own is the pipeline's choice; either
way the same script runs. The script itself is shellchecked on every run of the suite.
"""

from __future__ import annotations

import json
import os
import re
import subprocess

import pytest

from tests.deploy.support import NAMESPACE, REPO, run, tool

SCRIPT = REPO / "tools" / "test-image.sh"
RUN_DIR = REPO / ".tools" / "image" / "run"
ENABLED = os.environ.get("SELFHEAL_TEST_IMAGE") == "1"
# A guard against a hung mirror or runtime, not a performance assertion: a cold build takes ~2 minutes.
BUILD_TIMEOUT_SECONDS = 1800

# What the ea-plan-v5 scenario must make the job plan (README: one instance of every failure it heals).
EXPECTED_APPROVALS = [
    ("rollback", "Deployment/cpt-optimizer"),
    ("restart_pod", "Pod/cpt-worker-"),
    ("restore_template", "Deployment/cpt-api"),
    ("scale", "Deployment/cpt-reporting"),
]


def test_the_image_script_passes_shellcheck() -> None:
    shellcheck = tool("shellcheck", "run `bash tools/install-system.sh` (Debian package shellcheck)")

    result = run([shellcheck, str(SCRIPT)])

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def image_run() -> subprocess.CompletedProcess[str]:
    if not ENABLED:
        pytest.skip(
            "builds a container image (root, podman, debootstrap, minutes): set SELFHEAL_TEST_IMAGE=1 "
            "or run `make test-image`"
        )
    return subprocess.run(
        ["bash", str(SCRIPT)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_SECONDS,
        check=False,
    )


@pytest.mark.slow
def test_image_builds_offline_and_heals_the_sandbox_in_a_dry_run(
    image_run: subprocess.CompletedProcess[str],
) -> None:
    assert image_run.returncode == 0, image_run.stderr[-4000:]
    plan = (RUN_DIR / "run.out").read_text()

    approved = {
        (m["action"], m["target"])
        for m in re.finditer(r"^approve +(?P<action>\S+) +(?P<target>\S+)", plan, flags=re.MULTILINE)
    }
    for action, target in EXPECTED_APPROVALS:
        assert any(a == action and t.startswith(target) for a, t in approved), (action, target, plan)


@pytest.mark.slow
def test_the_risk_report_lands_in_the_mounted_volume_written_by_the_non_root_user(
    image_run: subprocess.CompletedProcess[str],
) -> None:
    assert image_run.returncode == 0, image_run.stderr[-4000:]
    risk_file = RUN_DIR / "out" / "aiops" / "risk-prediction.json"

    report = json.loads(risk_file.read_text())

    assert report["namespace"] == NAMESPACE
    assert risk_file.stat().st_uid == 10001  # USER in the Dockerfile, runAsUser in the CronJob
