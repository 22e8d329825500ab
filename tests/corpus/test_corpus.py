"""The incident corpus: every case's dump replayed in the sandbox, the real pass run over it, its decisions
judged against the case's labels (tests/corpus/runner.py), a second pass a CronJob interval later a no-op.

A case whose labels the job does not meet yet carries `known_disagreement:` in its case.yaml and is listed
in KNOWN with the reason; it is an expected failure (strict: once the job is fixed it fails as XPASS, and
comes out of KNOWN). A case with `known_disagreement:` that is not in KNOWN fails like any other.
"""

from __future__ import annotations

import pytest

from tests.corpus.runner import all_cases, case_dirs, load_case, replay

# Every case drives the real kubectl (the healed state) and some a real Prometheus (canary error ratios).
pytestmark = [pytest.mark.kubectl, pytest.mark.prometheus]

# Cases the job decides differently from the rules and an experienced SRE: to be fixed in the job.
KNOWN: dict[str, str] = {}

CASES = all_cases()


def test_the_corpus_is_big_enough_and_every_case_has_its_dump():
    assert len(CASES) >= 30
    assert [c.name for c in CASES] == [p.name for p in case_dirs()]
    for case in CASES:
        assert case.dump.is_file(), case.name
        assert case.name[:2].isdigit() and case.name[2] == "-", case.name


def test_known_disagreements_are_marked_in_their_cases():
    marked = {c.name for c in CASES if c.known_disagreement}
    assert set(KNOWN) <= marked, (
        f"in KNOWN without known_disagreement: in case.yaml: {sorted(set(KNOWN) - marked)}"
    )


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case(case, tmp_path, request):
    if case.name in KNOWN:
        request.applymarker(pytest.mark.xfail(reason=KNOWN[case.name], strict=True))
    verdict = replay(load_case(case.path), tmp_path)
    decided = "\n  ".join(map(str, verdict.first)) or "nothing"
    assert verdict.ok, (
        f"{case.name}: {case.story}\n- "
        + "\n- ".join(verdict.problems)
        + f"\nfirst pass decided:\n  {decided}"
    )
    if case.known_disagreement and case.name not in KNOWN:
        pytest.fail(
            f"{case.name} carries known_disagreement but the job now decides as labelled: remove the mark"
        )
