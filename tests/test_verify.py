"""Closing the loop: a later pass judges what an earlier one applied, and measures the recovery against the
guide's SLOs (recovery < 5 min, drift resolved < 10 min)."""

from __future__ import annotations

from datetime import timedelta

import msgspec
import pytest

from selfheal.detectors import DetectorConfig, run_detectors
from selfheal.findings import Result
from selfheal.reporting.counters import RECOVERY_BUCKETS, Counters
from selfheal.verify import key_of, verdicts
from tests.builders import (
    NOW,
    crashing_pods,
    history_entry,
    make_deployment,
    make_pod,
    make_replicaset,
    snapshot_of,
)

WINDOW = 600  # the cooldown: after it, an action that did not help is judged "not recovered"


def world(*, crashing=0, ready_since=NOW - timedelta(seconds=60), replicas=2, available=None, updated=None):
    """web with `replicas` pods Ready since `ready_since`, `crashing` of them crash-looping instead."""
    dep = make_deployment("web", replicas=replicas, available=available, updated=updated)
    rs = make_replicaset(dep)
    pods = [make_pod(f"web-h{i}", owner=rs, ready_since=ready_since) for i in range(replicas - crashing)]
    return [dep, rs, *pods, *crashing_pods(rs, crashing)]


def judge(objects, *lines):
    snap = snapshot_of(*objects)
    return verdicts(lines, run_detectors(snap, DetectorConfig(), NOW), snap, NOW, WINDOW)


def applied(
    action="restart_pod", *, ago, onset_ago=None, ladder="health", reason="app_error", result="applied"
):
    line = history_entry(action, "Deployment/web", ago=ago, ladder=ladder, reason=reason, result=result)
    onset = None if onset_ago is None else NOW - timedelta(seconds=onset_ago)
    return msgspec.structs.replace(line, onset=onset, intent=f"earlier-run-{action}")


def test_a_restart_that_worked_is_verified_from_the_onset_to_the_pods_ready_again():
    [v] = judge(world(), applied(ago=120, onset_ago=400))

    assert (v.result, v.slo, v.recovery_seconds) == (
        Result.VERIFIED,
        "recovery",
        340.0,
    )  # 11:53:20 -> 11:59:00
    line = v.line(run_id="now-run", ts=NOW)
    assert (line.result, line.verifies, line.slo, line.recovery_seconds) == (
        "verified",
        "earlier-run-restart_pod",
        "recovery",
        340.0,
    )
    assert "recovered, 340 s after the failure began" in line.message


@pytest.mark.parametrize(
    ("case", "objects", "line", "expected"),
    [
        (
            "still crash-looping, within the window: asked again next pass",
            world(crashing=1),
            applied(ago=120, onset_ago=400),
            None,
        ),
        (
            "still crash-looping after the window: did not help, and why",
            world(crashing=1),
            applied(ago=700, onset_ago=900),
            (Result.NOT_RECOVERED, "app_error"),
        ),
        (
            "unavailable (1 of 2 ready) after the window",
            world(available=1),
            applied(ago=700),
            (Result.NOT_RECOVERED, "unavailable"),
        ),
        (
            "no finding but not whole yet (1 of 2 updated: the rollout goes on), within the window",
            world(updated=1),
            applied(ago=120),
            None,
        ),
        (
            "not whole after the window",
            world(updated=1),
            applied(ago=700),
            (Result.NOT_RECOVERED, "not whole"),
        ),
        (
            "the Deployment is gone after the window",
            [],
            applied(ago=700),
            (Result.NOT_RECOVERED, "no longer exists"),
        ),
        (
            "pods Ready before the onset (another pod was restarted): recovered now, an upper bound",
            world(ready_since=NOW - timedelta(hours=3)),
            applied(ago=120, onset_ago=400),
            (Result.VERIFIED, 400.0),
        ),
        (
            "a scale with no onset: drift resolution from the action to the pods Ready",
            world(),
            applied("scale", ago=120, ladder="replicas", reason="replica_drift"),
            (Result.VERIFIED, 60.0),
        ),
        (
            "a scale with the hand scale's time as onset (managedFields): measured from the hand scale",
            world(),
            applied("scale", ago=120, onset_ago=500, ladder="replicas", reason="replica_drift"),
            (Result.VERIFIED, 440.0),
        ),
        (
            "pods Ready after the onset but before the action: not what the action did, recovered now",
            world(ready_since=NOW - timedelta(seconds=300)),
            applied("scale", ago=120, onset_ago=500, ladder="replicas", reason="replica_drift"),
            (Result.VERIFIED, 500.0),
        ),
        ("a dry run changed nothing: never judged", world(), applied(ago=120, result="dry_run"), None),
        ("a skipped action: never judged", world(), applied(ago=700, result="skipped"), None),
        ("an action from the future (a clock step): not judged", world(), applied(ago=-60), None),
    ],
    ids=lambda x: x if isinstance(x, str) else "",
)
def test_verdicts(case, objects, line, expected):
    found = judge(objects, line)

    if expected is None:
        assert found == []
        return
    [v] = found
    assert v.result is expected[0]
    if v.result is Result.VERIFIED:
        assert v.recovery_seconds == expected[1]
    else:
        assert v.recovery_seconds is None and expected[1] in v.detail


def test_an_action_already_judged_is_not_judged_again():
    line = applied(ago=120, onset_ago=400)
    [v] = judge(world(), line)

    assert judge(world(), line, v.line(run_id="now-run", ts=NOW)) == []


def test_a_line_without_an_intent_is_keyed_by_its_run_action_and_target():
    line = msgspec.structs.replace(applied(ago=120), intent="")
    assert key_of(line) == "earlier-run/restart_pod/Deployment/web"


def test_verdict_lines_fill_the_recovery_histogram_and_are_not_counted_as_actions():
    counters = Counters()
    lines = [applied(ago=700, onset_ago=900)]
    for seconds, slo in [(45.0, "recovery"), (301.0, "recovery"), (590.0, "drift_resolution")]:
        lines.append(
            msgspec.structs.replace(
                lines[0], result="verified", verifies="x", slo=slo, recovery_seconds=seconds
            )
        )
    lines.append(msgspec.structs.replace(lines[0], result="not_recovered", verifies="y", slo="recovery"))

    counters.count(lines)

    assert counters.action_totals() == {("restart_pod", "applied"): 1}
    assert counters.verification_totals() == {
        ("recovery", "verified"): 2,
        ("drift_resolution", "verified"): 1,
        ("recovery", "not_recovered"): 1,
    }
    bounds = dict(zip(RECOVERY_BUCKETS, counters.recovery["recovery"], strict=False))
    assert bounds[60] == 1 and bounds[300] == 0 and bounds[450] == 1  # 301 s misses the 5-minute SLO bucket
    assert counters.recovery_sum == {"recovery": 346.0, "drift_resolution": 590.0}
