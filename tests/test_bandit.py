"""`bandit -r selfheal`: every finding fixed, or justified in bandit-justified.toml (file, test id, the flagged
line's code, and why it is not a vulnerability). A new finding fails here; so does a justification that no
longer matches a finding, so the file never excuses more than there is."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
JUSTIFIED = ROOT / "bandit-justified.toml"


def _findings() -> list[dict[str, str]]:
    if shutil.which("bandit", path=str(Path(sys.executable).parent)) is None:
        pytest.fail(
            "bandit is not installed: `make venv` installs it (pyproject.toml, the test extra)", pytrace=False
        )
    res = subprocess.run(
        [sys.executable, "-m", "bandit", "-r", "selfheal", "-f", "json", "-q"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode in (0, 1), res.stderr  # 1: findings were reported
    report = json.loads(res.stdout)
    assert report["errors"] == [], report["errors"]
    out = []
    for r in report["results"]:
        source = (ROOT / r["filename"]).read_text().splitlines()[r["line_number"] - 1].strip()
        out.append(
            {
                "file": r["filename"].removeprefix("./"),
                "test": r["test_id"],
                "code": source,
                "text": f"{r['filename']}:{r['line_number']} {r['test_id']} {r['issue_text']}",
            }
        )
    return out


def test_every_bandit_finding_is_justified_and_every_justification_is_used():
    entries = tomllib.loads(JUSTIFIED.read_text())["finding"]
    assert all(e.get("why", "").strip() for e in entries), "every justification says why"
    keys = [(e["file"], e["test"], e["code"].strip()) for e in entries]
    assert len(set(keys)) == len(keys), "one entry per finding"

    findings = _findings()
    found = {(f["file"], f["test"], f["code"]) for f in findings}

    unjustified = [f["text"] for f in findings if (f["file"], f["test"], f["code"]) not in set(keys)]
    assert unjustified == [], "fix these, or justify them in bandit-justified.toml:\n" + "\n".join(
        unjustified
    )
    stale = [k for k in keys if k not in found]
    assert stale == [], f"these justifications match no finding any more: remove them from {JUSTIFIED.name}"
