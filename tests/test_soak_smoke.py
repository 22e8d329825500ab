"""`tools/soak.py` (`make soak`) in its shortest form: a few runs killed while they act, one told to stop, five
racing, then convergence and every check (nothing unrecorded, nothing repeated, every line parses, no
traceback, no secret in any output). The full soak (50 kills) is `make soak`; CI runs `--short`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_the_soak_passes_its_checks_in_a_short_run(tmp_path):
    res = subprocess.run(
        [
            sys.executable,
            "tools/soak.py",
            "--kills",
            "3",
            "--sigterms",
            "1",
            "--seed",
            "7",
            "--workdir",
            str(tmp_path / "soak"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )

    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    summary = json.loads(res.stdout.strip().splitlines()[-1])
    assert summary["problems"] == [] and summary["converged"] is True
    assert summary["killed_while_acting"] >= 1 and summary["race_lease_held"] == 4  # one actor of five
    assert (
        summary["unrecorded"],
        summary["repeated"],
        summary["unparsed"],
        summary["tracebacks"],
        summary["leaks"],
    ) == (0, 0, 0, 0, 0)
    assert summary["intents"] > 0 and summary["writes_applied"] > 0
