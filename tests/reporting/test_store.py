"""The history as a pass uses it: a bounded window, the write-ahead journal, carried counters, rotation,
repeated skips not appended again, and an unwritable history said in one line."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

import pytest

from selfheal.findings import ActionOutcome, HistoryEntry, RecordError, Result, SkipCode
from selfheal.reporting import history as history_mod
from selfheal.reporting.counters import load
from selfheal.reporting.history import append_history, check_writable, last_entries, read_history
from selfheal.reporting.record import PassRecord, lines_to_append
from selfheal.reporting.store import HistoryStore
from tests.builders import NOW, history_entry, snapshot_of
from tests.execution.test_executor import scale_web


def line(
    run: str, ago: float, *, action="scale", result="applied", reason="replica_drift", name="web"
) -> HistoryEntry:
    entry = history_entry(
        action,
        f"Deployment/{name}",
        ago=ago,
        result=result,
        reason=reason,
        ladder="replicas",
        detector="replica_drift",
        kind="Deployment",
        name=name,
    )
    return _with_run(entry, run)


def _with_run(entry: HistoryEntry, run: str) -> HistoryEntry:
    import msgspec

    return msgspec.structs.replace(entry, run_id=run)


def _cooldown_skip_after(*history: HistoryEntry) -> PassRecord:
    """A third pass skipping Deployment/web for its cooldown, after `history`."""
    outcomes = (skip_outcome(SkipCode.COOLDOWN),)
    return PassRecord("shop", "third", snapshot_of(), (), NOW, {}, outcomes=outcomes, history=list(history))


# --- reading a window, from the end ---------------------------------------------------------------------------


def test_the_window_is_read_from_the_end_and_stops_before_old_lines(tmp_path, monkeypatch):
    log = tmp_path / "h.log"
    append_history(log, [line(f"old-{i}", ago=86400 * 3 + i) for i in range(2000)][::-1])
    append_history(log, [line("recent", ago=60)])
    monkeypatch.setattr(history_mod, "BLOCK", 4096)
    decoded = []
    real = history_mod._decode
    monkeypatch.setattr(history_mod, "_decode", lambda raw, n, off: decoded.append(1) or real(raw, n, off))

    read = read_history(log, since=NOW - timedelta(hours=1), namespace="shop")

    assert [e.run_id for e in read.entries] == ["recent"]
    assert len(decoded) <= 2  # the newest old line ends the read: never the whole file


def test_last_entries_reads_back_only_as_far_as_it_needs(tmp_path):
    log = tmp_path / "h.log"
    append_history(log, [line(f"r{i}", ago=1000 - i) for i in range(50)])
    log.write_bytes(log.read_bytes() + b'{"torn":')

    read = last_entries(log, 3)

    assert [e.run_id for e in read.entries] == ["r47", "r48", "r49"] and len(read.problems) == 1


@pytest.mark.parametrize("kind", ["directory", "device"])
def test_a_history_that_is_not_a_regular_file_is_read_as_empty_and_refused_for_writing(tmp_path, kind):
    path = tmp_path / "h.log" if kind == "directory" else Path("/dev/full")
    if kind == "directory":
        path.mkdir()

    assert read_history(path).entries == () and last_entries(path, 5).entries == ()
    with pytest.raises(RecordError, match=r"is (a directory|not a regular file)"):
        check_writable(path)


def test_a_full_disk_is_a_record_error_naming_the_path(tmp_path, monkeypatch):
    def full(fd, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "write", full)
    with pytest.raises(RecordError, match=r"h.log: no space left on the device"):
        append_history(tmp_path / "h.log", [line("r", ago=1)])


# --- the journal ---------------------------------------------------------------------------------------------


def test_the_journal_puts_the_intent_on_disk_before_the_write_and_the_outcome_after(tmp_path):
    store = HistoryStore(tmp_path / "h.log")
    journal = store.journal("run-9", "shop", lambda: NOW)
    action = scale_web(5)

    intent = journal.intent(action)
    on_disk = [json.loads(x) for x in (tmp_path / "h.log").read_text().splitlines()]
    journal.outcome(intent, ActionOutcome(action, Result.APPLIED, action.reason, action.summary))
    after = [json.loads(x) for x in (tmp_path / "h.log").read_text().splitlines()]

    assert intent == "run-9-1"
    [first] = on_disk
    assert (first["result"], first["intent"], first["action"]) == ("intent", "run-9-1", "scale")
    assert first["patch"][0]["body"] == {"spec": {"replicas": 5}} and first["inverse"][0]["body"] == {
        "spec": {"replicas": 3}
    }
    assert [(e["result"], e["intent"]) for e in after] == [("intent", "run-9-1"), ("applied", "run-9-1")]
    assert len(journal.written) == 1


# --- counters, rotation --------------------------------------------------------------------------------------


def test_counters_are_carried_and_catch_up_with_lines_a_killed_run_left(tmp_path):
    store = HistoryStore(tmp_path / "h.log")
    store.close_pass(
        [line("a", ago=30), line("a", ago=30, action="restart_pod", result="skipped", reason="cooldown")]
    )
    append_history(tmp_path / "h.log", [line("killed", ago=20), line("killed", ago=20, result="intent")])

    counters = store.close_pass([line("b", ago=10, result="failed")])

    assert counters.action_totals() == {
        ("scale", "applied"): 2,
        ("restart_pod", "skipped"): 1,
        ("scale", "failed"): 1,
    }
    assert counters.drift == 0 and load(tmp_path / "h.log") == counters  # intents are not decisions


def test_a_history_past_its_size_keeps_its_newest_half_and_the_old_file_once(tmp_path):
    store = HistoryStore(tmp_path / "h.log", max_bytes=64 * 1024)
    for i in range(120):
        store.close_pass([line(f"r{i:03}", ago=1000 - i) for _ in range(3)])

    current = read_history(tmp_path / "h.log").entries
    rotated = tmp_path / "h.log.1"
    assert (tmp_path / "h.log").stat().st_size <= 64 * 1024 and rotated.exists()
    assert (
        current[-1].run_id == "r119"
        and [e.run_id for e in last_entries(tmp_path / "h.log", 3).entries] == ["r119"] * 3
    )
    assert store.counters().action_totals() == {("scale", "applied"): 360}  # nothing lost from the totals
    assert read_history(rotated).problems == () and read_history(tmp_path / "h.log").problems == ()


# --- repeated skips --------------------------------------------------------------------------------------------


def skip_outcome(reason: SkipCode) -> ActionOutcome:
    return ActionOutcome(scale_web(), Result.SKIPPED, reason.value, "held back")


@pytest.mark.parametrize(("reason", "appended"), [(SkipCode.COOLDOWN, False), (SkipCode.NEEDS_HUMAN, True)])
def test_a_skip_repeating_the_previous_passs_is_not_appended_again_but_a_hand_off_is(reason, appended):
    previous = [
        _with_run(
            history_entry(
                "scale",
                "Deployment/web",
                ago=120,
                result="skipped",
                reason=reason.value,
                kind="Deployment",
                name="web",
            ),
            "earlier",
        )
    ]
    rec = PassRecord(
        "shop", "now", snapshot_of(), (), NOW, {}, outcomes=(skip_outcome(reason),), history=previous
    )

    assert bool(lines_to_append(rec)) is appended


def test_a_repeated_skip_is_held_back_even_when_the_pass_in_between_wrote_only_a_verdict():
    skip = _with_run(
        history_entry(
            "scale",
            "Deployment/web",
            ago=240,
            result="skipped",
            reason="cooldown",
            kind="Deployment",
            name="web",
        ),
        "first",
    )
    verdict = _with_run(
        history_entry("restart_pod", "Deployment/api", ago=120, result="verified", kind="Pod", name="api-1"),
        "second",
    )
    rec = _cooldown_skip_after(skip, verdict)

    assert lines_to_append(rec) == []


def test_a_skip_is_written_again_once_the_object_was_acted_on_since():
    skip = _with_run(
        history_entry(
            "scale",
            "Deployment/web",
            ago=600,
            result="skipped",
            reason="cooldown",
            kind="Deployment",
            name="web",
        ),
        "first",
    )
    acted = _with_run(
        history_entry("scale", "Deployment/web", ago=300, kind="Deployment", name="web"), "second"
    )
    rec = _cooldown_skip_after(skip, acted)

    assert [line.reason for line in lines_to_append(rec)] == ["cooldown"]
