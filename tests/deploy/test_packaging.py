"""What ships: the job's wheel (what the Dockerfile installs) holds the job alone; the sandbox is a
distribution of its own, for the tests and the demo."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

from tests.deploy.support import REPO


def build_wheel(src: Path, out: Path) -> zipfile.ZipFile:
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--disable-pip-version-check",
            "--wheel-dir",
            str(out),
            str(src),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    [wheel] = out.glob("*.whl")
    return zipfile.ZipFile(wheel)


def requirements(wheel: zipfile.ZipFile) -> list[str]:
    meta = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
    return Parser().parsestr(wheel.read(meta).decode()).get_all("Requires-Dist") or []


def test_the_jobs_wheel_is_the_job_alone_and_needs_no_cryptography(tmp_path):
    # exactly what the Dockerfile COPYs into its builder stage
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    shutil.copytree(REPO / "selfheal", src / "selfheal", ignore=shutil.ignore_patterns("__pycache__"))

    wheel = build_wheel(src, tmp_path / "wheels")

    packages = {n.split("/")[0] for n in wheel.namelist() if not n.split("/")[0].endswith(".dist-info")}
    assert packages == {"selfheal"}
    assert "selfheal/kube/transport.py" in wheel.namelist()
    assert not [n for n in wheel.namelist() if "sandbox" in n or n.endswith(".yaml")]
    reqs = requirements(wheel)
    assert reqs and not [r for r in reqs if r.lower().startswith(("cryptography", "kubesandbox"))]


def test_the_sandbox_is_its_own_distribution_with_its_scenarios_and_console_script(tmp_path):
    src = tmp_path / "src" / "kubesandbox"  # a copy: building in place would leave build/ in the package
    shutil.copytree(
        REPO / "kubesandbox", src, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "build")
    )
    wheel = build_wheel(src, tmp_path / "wheels")

    names = wheel.namelist()
    assert {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")} == {"kubesandbox"}
    assert {"kubesandbox/scenarios/ea-plan-v5.yaml", "kubesandbox/scenarios/minimal.yaml"} <= set(names)
    assert any(r.startswith("cryptography") for r in requirements(wheel))
    entry_points = wheel.read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "kubesandbox = kubesandbox.serve.main:entrypoint" in entry_points


def test_the_docker_context_holds_the_job_alone():
    lines = [line.strip() for line in (REPO / ".dockerignore").read_text().splitlines()]
    included = [line[1:] for line in lines if line.startswith("!")]
    assert "*" in lines and sorted(included) == ["README.md", "pyproject.toml", "selfheal/"]
