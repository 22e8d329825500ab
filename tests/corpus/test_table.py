"""README.md's incident-corpus section is generated from the case files (`python -m tests.corpus.table`)."""

from __future__ import annotations

from tests.corpus.runner import all_cases
from tests.corpus.table import README, render, section


def test_the_readme_section_is_the_generated_table():
    assert section(README.read_text()) == render(all_cases()), (
        "README.md's corpus section is stale: run `.venv/bin/python -m tests.corpus.table --no-run`"
    )


def test_every_case_is_a_row():
    table = render(all_cases())
    for case in all_cases():
        assert f"| `{case.name}` |" in table
