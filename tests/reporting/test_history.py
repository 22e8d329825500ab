"""The history file: exact patches and inverses, tolerant reading, and concurrent appends that never tear."""

from __future__ import annotations

import itertools
import json
import multiprocessing
from datetime import timedelta

from selfheal.detectors import DetectorConfig, run_detectors
from selfheal.findings import ActionOutcome, HistoryEntry, Result, skipped_outcomes
from selfheal.planning import Limits, plan
from selfheal.reporting.history import append_history, entry_for, last_entries, read_history
from tests.builders import NOW, make_deployment, make_pod, snapshot_of

REQUIRED = {"ts", "run_id", "namespace", "action", "kind", "name", "reason", "result"}


def decided_pass():
    """web scaled to 10 against a desired 3 (approved), and a bare pod crash-looping (skipped)."""
    dep = make_deployment("web", replicas=10, annotations={"selfheal.dev/desired-replicas": "3"})
    bare = make_pod("debug", restarts=9, waiting="CrashLoopBackOff", last_terminated=("Error", 1))
    snap = snapshot_of(dep, bare)
    p = plan(run_detectors(snap, DetectorConfig(), NOW), snap, (), Limits(), NOW)
    outcomes = [ActionOutcome(a, Result.APPLIED) for a in p.approved] + list(skipped_outcomes(p))
    return [entry_for(o, run_id="run-1", namespace="shop", ts=NOW) for o in outcomes]


def test_each_decided_action_is_one_json_line_with_the_exact_patch_and_its_inverse(tmp_path):
    log = tmp_path / "logs" / "rollback-history.log"

    append_history(log, decided_pass())

    scale, skip = (json.loads(line) for line in log.read_text().splitlines())
    assert set(scale) >= REQUIRED and set(skip) >= REQUIRED
    assert (scale["action"], scale["kind"], scale["name"], scale["result"]) == (
        "scale",
        "Deployment",
        "web",
        "applied",
    )
    assert scale["ts"] == "2024-05-01T12:00:00Z" and scale["workload"] == "Deployment/web"
    assert scale["patch"] == [
        {
            "kind": "Deployment",
            "name": "web",
            "content_type": "application/merge-patch+json",
            "body": {"spec": {"replicas": 3}},
        }
    ]
    assert scale["inverse"][0]["body"] == {"spec": {"replicas": 10}}
    assert (skip["action"], skip["result"], skip["reason"]) == ("restart_pod", "skipped", "bare_pod")
    assert "patch" not in skip


def test_reading_back_gives_typed_entries(tmp_path):
    log = tmp_path / "history.log"
    append_history(log, decided_pass())

    read = read_history(log)

    assert read.problems == ()
    assert [(e.action, e.result) for e in read.entries] == [("scale", "applied"), ("restart_pod", "skipped")]
    assert read.entries[0].ts == NOW


def test_a_torn_last_line_is_reported_and_does_not_swallow_the_next_runs_line(tmp_path):
    log = tmp_path / "history.log"
    append_history(log, decided_pass())
    with log.open("ab") as fh:
        fh.write(b'{"ts":"2024-05-01T12:00:00Z","run_id":"crashed","act')  # a run died mid-write
    append_history(log, decided_pass())

    read = read_history(log)

    assert len(read.entries) == 4
    assert [p.line for p in read.problems] == [3]


def test_garbage_lines_are_skipped_and_reported_not_fatal(tmp_path):
    log = tmp_path / "history.log"
    log.write_text('not json\n{"ts": "yesterday"}\n\n')
    append_history(log, decided_pass())

    read = read_history(log)

    assert len(read.entries) == 2 and [p.line for p in read.problems] == [1, 2]


def test_a_missing_file_is_an_empty_history(tmp_path):
    assert read_history(tmp_path / "nope.log").entries == ()


def test_filters_and_tail(tmp_path):
    log = tmp_path / "history.log"
    old = HistoryEntry(
        ts=NOW - timedelta(hours=3),
        run_id="r0",
        namespace="shop",
        action="scale",
        kind="Deployment",
        name="web",
        reason="replica_drift",
        result="applied",
    )
    other = HistoryEntry(
        ts=NOW,
        run_id="r1",
        namespace="other",
        action="scale",
        kind="Deployment",
        name="web",
        reason="replica_drift",
        result="applied",
    )
    append_history(log, [old, other, *decided_pass()])

    assert len(read_history(log, since=NOW - timedelta(hours=1), namespace="shop").entries) == 2
    assert [e.run_id for e in last_entries(log, 2).entries] == ["run-1", "run-1"]


# --- concurrency ------------------------------------------------------------------------------------------------

WRITERS, APPENDS = 4, 40


def _append_many(args: tuple[str, int]) -> int:
    path, writer = args
    for i in range(APPENDS):
        lines = [
            HistoryEntry(
                ts=NOW,
                run_id=f"w{writer}-{i}-{j}",
                namespace="shop",
                action="rollback",
                kind="Deployment",
                name="web",
                reason="x" * (50 + 3000 * ((writer + i + j) % 7)),
                result="applied",
            )
            for j in range(1 + i % 3)
        ]
        append_history(path, lines)
    return sum(1 + i % 3 for i in range(APPENDS))


def test_many_processes_appending_at_once_never_interleave_or_tear_lines(tmp_path):
    log = str(tmp_path / "history.log")
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(WRITERS) as pool:
        written = sum(pool.map(_append_many, [(log, w) for w in range(WRITERS)]))

    read = read_history(log)

    assert read.problems == ()
    assert len(read.entries) == written
    assert len({e.run_id for e in read.entries}) == written
    # lines of one batch stay together: a batch's j-indices are consecutive in the file
    runs = [e.run_id.rsplit("-", 1) for e in read.entries]
    for (batch, j), (next_batch, next_j) in itertools.pairwise(runs):
        if next_j != "0":
            assert next_batch == batch and int(next_j) == int(j) + 1
