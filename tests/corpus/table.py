"""The corpus as a Markdown table (case, story -> expected decision), written into README.md between
`<!-- corpus:begin -->` and `<!-- corpus:end -->`; then every case replayed for the decision accuracy.

    python -m tests.corpus.table            # write the README section, print the size and the accuracy
    python -m tests.corpus.table --check    # exit 1 when the README section is not the generated one
    python -m tests.corpus.table --no-run   # the table only, no replay

The table comes from the case files alone; tests/corpus/test_table.py fails when the README drifts from it.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tests.corpus.runner import CORPUS, Case, Score, all_cases, replay

README = CORPUS.parent.parent / "README.md"
BEGIN, END = "<!-- corpus:begin -->", "<!-- corpus:end -->"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _target(entry: Mapping[str, Any]) -> str:
    target = entry.get("target")
    if target is None:
        return ""
    text = f" `{target}`"
    if entry.get("count", 1) != 1:
        text += f" x{entry['count']}"
    return text


def decision(case: Case) -> str:
    """The expected decision in a few words: what is done, what is refused and why, what must not happen."""
    expect = case.expect
    parts = [f"**{e['action']}**{_target(e)}" for e in expect.get("act") or []]
    if not parts:
        parts.append("**nothing**")
    parts += [f"skip {e['action']}{_target(e)}: `{e['reason']}`" for e in expect.get("skip") or []]
    never = [f"{e['action']}{_target(e)}" for e in expect.get("never") or []]
    if never:
        parts.append("never " + ", ".join(never))
    text = "; ".join(parts)
    if case.known_disagreement:
        text += " — *known disagreement: the job decides otherwise*"
    return text


def render(cases: list[Case]) -> str:
    rows = ["| case | story | expected decision |", "| --- | --- | --- |"]
    for case in cases:
        rows.append(f"| `{case.name}` | {_cell(case.story)} | {_cell(decision(case))} |")
    known = sum(1 for c in cases if c.known_disagreement)
    summary = (
        f"{len(cases)} cases; {known} where the job does not decide as labelled yet "
        "(`known_disagreement:` in the case, `KNOWN` in tests/corpus/test_corpus.py)."
    )
    return "\n".join([summary, "", *rows])


def section(text: str) -> str:
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    return text[start:end].strip("\n")


def write_readme(table: str) -> bool:
    text = README.read_text()
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    new = text[:start] + "\n" + table + "\n" + text[end:]
    if new == text:
        return False
    README.write_text(new)
    return True


def accuracy(cases: list[Case]) -> tuple[Score, int, float]:
    """(summed score, cases decided exactly as labelled, seconds) over every case, replayed."""
    total, exact, started = Score(), 0, time.monotonic()
    with tempfile.TemporaryDirectory(prefix="corpus-") as tmp:
        for case in cases:
            workdir = Path(tmp) / case.name
            workdir.mkdir()
            verdict = replay(case, workdir)
            total = total + verdict.score
            exact += verdict.ok
            mark = "ok  " if verdict.ok else "DIFF"
            print(f"  {mark} {case.name}" + ("" if verdict.ok else ": " + "; ".join(verdict.problems)))
    return total, exact, time.monotonic() - started


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.corpus.table")
    parser.add_argument("--check", action="store_true", help="fail when README.md's section is stale")
    parser.add_argument("--no-run", action="store_true", help="do not replay the cases")
    args = parser.parse_args(argv)
    cases = all_cases()
    table = render(cases)
    if args.check:
        if section(README.read_text()) != table:
            print("README.md's corpus section is stale: run `python -m tests.corpus.table`", file=sys.stderr)
            return 1
    else:
        print("README.md: corpus section " + ("updated" if write_readme(table) else "unchanged"))
    known = sum(1 for c in cases if c.known_disagreement)
    print(f"corpus: {len(cases)} cases ({known} known disagreements)")
    if args.no_run:
        return 0
    score, exact, seconds = accuracy(cases)

    def pct(a: int, b: int) -> str:
        return f"{a}/{b} ({100 * a / b:.1f} %)" if b else "0/0"

    print(f"decided exactly as labelled: {pct(exact, len(cases))} in {seconds:.1f} s")
    print(f"expected actions taken: {pct(score.acts_taken, score.acts)}")
    print(f"required refusals with their reason: {pct(score.skips_found, score.skips)}")
    print(f"forbidden actions not taken: {pct(score.forbidden_respected, score.forbidden)}")
    print(f"decision accuracy (all labels): {pct(score.passed, score.checks)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
