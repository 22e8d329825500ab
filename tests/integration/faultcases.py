"""The fault matrix (tests/integration/test_faults.py: once; test_faults_for_good.py: for good): each request
the pass makes, under each way a request can fail.

The call sites come from the job itself: `faultmatrix.record_sites` runs healthy passes over the reference
worlds and names every request by method, path template and the job functions that sent it. The first test
(test_faults.py) pins that list to `CALL_SITES` below, so a new request anywhere in the job fails it until
it is added here, and from then on it is in the matrix too.

For every call site x fault (500, 503, 429 + Retry-After, an answer held past the client's timeout, a
trickling body, a dropped connection, 409; 410 on a continue token) x {once, for good}, one real pass
against the sandbox (through `faultfront.FaultFront`) must:

- end with the exit code the failure means (0/1/3/4: below), without an exception, within a bound;
- act as the healthy pass did when the failure was a blip it could retry;
- never apply a write twice, nor any write the healthy pass did not plan (an undo's inverse excepted);
- have every write the API server applied preceded by its intent line (nothing unrecorded);
- leave exactly one outcome line per intent of its own, at most one resolution per earlier dangling intent;
- log every failed attempt (`request.failed`, and the Prometheus/Pushgateway warnings);
- leave a parseable history and, when it got as far as recording, a valid risk report.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.integration.faultfront import FAULTS, LOST_ANSWER_FAULTS, TRANSIENT, Fault
from tests.integration.faultmatrix import KILLED_RUN, REQUEST_TIMEOUT, FaultWorld
from tests.integration.worlds import decisions

# Every call site of the job, under the reference world that first makes it. A new one? Add it here (and
# say in CATEGORY what its failure means for the pass). `python -m tests.integration.faultmatrix` prints them.
CALL_SITES: list[tuple[str, str]] = [
    ("fresh", "GET /apis/batch/v1/namespaces/{ns}/cronjobs/{name} @ run: run_pass > _suspended"),
    ("fresh", "GET /apis/coordination.k8s.io/v1/namespaces/{ns}/leases/{name} @ execution.lease: acquire"),
    (
        "fresh",
        "POST /apis/coordination.k8s.io/v1/namespaces/{ns}/leases @ execution.lease: acquire > _create > _write",
    ),
    ("fresh", "GET /api/v1/namespaces/{ns}/pods first @ snapshot.reader: read_snapshot > list_all"),
    ("fresh", "GET /api/v1/namespaces/{ns}/pods continue @ snapshot.reader: read_snapshot > list_all"),
    (
        "fresh",
        "GET /apis/apps/v1/namespaces/{ns}/deployments first @ snapshot.reader: read_snapshot > list_all",
    ),
    (
        "fresh",
        "GET /apis/apps/v1/namespaces/{ns}/deployments continue @ snapshot.reader: read_snapshot > list_all",
    ),
    (
        "fresh",
        "GET /apis/apps/v1/namespaces/{ns}/replicasets first @ snapshot.reader: read_snapshot > list_all",
    ),
    (
        "fresh",
        "GET /apis/apps/v1/namespaces/{ns}/replicasets continue @ snapshot.reader: read_snapshot > list_all",
    ),
    (
        "fresh",
        "GET /apis/autoscaling/v2/namespaces/{ns}/horizontalpodautoscalers first @ snapshot.reader: "
        "read_snapshot > list_all",
    ),
    (
        "fresh",
        "GET /apis/autoscaling/v2/namespaces/{ns}/horizontalpodautoscalers continue @ snapshot.reader: "
        "read_snapshot > list_all",
    ),
    (
        "fresh",
        "GET /apis/policy/v1/namespaces/{ns}/poddisruptionbudgets first @ snapshot.reader: "
        "read_snapshot > list_all",
    ),
    (
        "fresh",
        "GET /apis/policy/v1/namespaces/{ns}/poddisruptionbudgets continue @ snapshot.reader: "
        "read_snapshot > list_all",
    ),
    ("fresh", "GET /api/v1/namespaces/{ns}/configmaps first @ snapshot.reader: read_snapshot > list_all"),
    ("fresh", "GET /api/v1/namespaces/{ns}/configmaps continue @ snapshot.reader: read_snapshot > list_all"),
    ("fresh", "GET /apis/apps/v1/namespaces/{ns}/deployments/{name} @ execution.recovery: check > _present"),
    ("fresh", "GET /api/v1/namespaces/{ns}/pods/{name} @ execution.recovery: check > _present > _evicted"),
    (
        "fresh",
        "PUT /apis/coordination.k8s.io/v1/namespaces/{ns}/leases/{name} @ execution.lease: keep_alive > _put "
        "> _write",
    ),
    (
        "fresh",
        "GET /api/v1/namespaces/{ns}/pods/{name} @ execution.executor: execute > _execute > _apply > _fresh",
    ),
    (
        "fresh",
        "POST /api/v1/namespaces/{ns}/pods/{name}/eviction @ execution.executor: execute > _execute > _apply "
        "> _send > _retrying > once",
    ),
    (
        "fresh",
        "GET /apis/apps/v1/namespaces/{ns}/deployments/{name} @ execution.executor: execute > _execute > "
        "_apply > _fresh",
    ),
    (
        "fresh",
        "PATCH /apis/apps/v1/namespaces/{ns}/deployments/{name} @ execution.executor: execute > _execute > "
        "_apply > _send > _retrying > once",
    ),
    (
        "fresh",
        "PUT /apis/coordination.k8s.io/v1/namespaces/{ns}/leases/{name} @ execution.lease: release > _put > "
        "_write",
    ),
    ("fresh", "prometheus: GET /api/v1/query"),
    ("fresh", "prometheus: GET /api/v1/query_range"),
    ("fresh", "pushgateway: POST /metrics/job/self-heal-cpt/namespace/{ns}"),
    (
        "inherited",
        "PUT /apis/coordination.k8s.io/v1/namespaces/{ns}/leases/{name} @ execution.lease: acquire > "
        "_put > _write",
    ),
]

# What a call site failing for good means for the pass (the first matching pattern wins).
CATEGORY: list[tuple[str, str]] = [
    (r"^prometheus: GET /api/v1/query$", "prometheus"),  # optional: the canary is unknown, not acted on
    (r"^prometheus: ", "forecasts"),  # optional: the forecasts are unknown
    (r"^pushgateway: ", "pushgateway"),  # the files are the record: logged, the pass stands
    (r"@ execution\.lease: release", "release"),  # the Lease expires by itself
    (r"@ execution\.lease: keep_alive", "renew"),  # tolerated while the Lease is valid, then stop (exit 4)
    (r"@ execution\.lease: acquire >", "acquire"),  # cannot take it: exit 3; someone else did (409): exit 0
    (r"@ execution\.recovery", "recovery"),  # the dangling intent waits for the next pass
    (r"^GET .* @ execution\.executor", "executor_read"),  # the action fails (exit 1)
    (r"^(POST|PATCH) .* @ execution\.executor", "executor_write"),  # the action fails (exit 1)
    (r"^GET ", "read"),  # the pass cannot see the namespace: exit 3, nothing written
]

# Bounded per request: a held or trickling answer is given up on within the request's budget (0.4 s in the
# matrix, for the API server, Prometheus and the Pushgateway alike; a second of slack for a loaded machine),
# never waited out (2.5 s, 4 s). Bounded per pass: well within the pass deadline, whatever fails.
REQUEST_SLACK_SECONDS, PASS_BOUND_SECONDS = 1.0, 30.0
MODES = {"once": 1, "always": 10**6}


def category(site: str) -> str:
    return next(kind for pattern, kind in CATEGORY if re.search(pattern, site))


def cases(modes: tuple[str, ...]) -> list[Any]:
    out = []
    for scenario, site in CALL_SITES:
        for fault in FAULTS:
            if fault == "410" and " continue @" not in site:
                continue  # a 410 answers a continue token only
            for mode in modes:
                out.append(pytest.param(scenario, site, fault, mode, id=f"{fault}-{mode}-{site}"))
    return out


# --- the healthy passes, once per module -------------------------------------------------------------------


@dataclass(frozen=True)
class Baseline:
    exit_code: int
    decisions: dict[tuple[str, str], tuple[str, str]]
    writes: Counter[tuple[str, str, str]]
    inverses: set[tuple[str, str, str]]


def baselines(tmp_path_factory: Any) -> dict[str, Baseline]:
    """The healthy pass over each reference world: what a pass whose blips were retried must match."""
    out = {}
    for scenario in ("fresh", "inherited"):
        with FaultWorld(tmp_path_factory.mktemp(f"baseline-{scenario}"), scenario) as fw:
            result = fw.run()
            inverses = set()
            for line in fw.history():
                for rec in line.get("inverse") or ():
                    path_kind = {
                        "Deployment": "/apis/apps/v1/namespaces/shop/deployments/",
                        "Pod": "/api/v1/namespaces/shop/pods/",
                    }[rec["kind"]]
                    inverses.add(("PATCH", path_kind + rec["name"], json.dumps(rec["body"], sort_keys=True)))
            out[scenario] = Baseline(
                result.exit_code, decisions(result), Counter(fw.applied_writes()), inverses
            )
    assert out["fresh"].exit_code == 0 and {r for r, _ in out["fresh"].decisions.values()} == {"applied"}
    assert {a for a, _ in out["fresh"].decisions} == {"restart_pod", "canary_abort", "scale"}
    return out


# --- the matrix --------------------------------------------------------------------------------------------


def _target(path: str) -> tuple[str, str]:
    kind = "Pod" if "/pods/" in path else "Deployment"
    return kind, path.rstrip("/").split("/")[-1] if not path.endswith("/eviction") else path.split("/")[-2]


def check(tmp_path: Path, base: Baseline, scenario: str, site: str, fault: str, mode: str) -> None:
    """One pass with `fault` at `site` (once, or for good), and everything it must (not) have done."""
    kind = category(site)
    with FaultWorld(tmp_path, scenario) as fw:
        fw.inject(site, Fault(fault), MODES[mode])

        result = fw.run()  # an exception here fails the test: every failure must end in an exit code

        got = decisions(result)
        history = fw.history()
        events = fw.events
        applied = Counter(fw.applied_writes())
        faulted = [e for front in (fw.api, fw.prometheus, fw.pushgateway) for e in front.log if e.fault]
        pushed = [e for e in fw.pushgateway.log if e.status is not None and e.status < 300]

    # the fault happened, and the pass ended within its bound, with the exit code that failure means
    assert faulted, "the fault was never injected: is the call site still made?"
    waited = [(e.method, e.path, e.waited) for e in faulted if e.fault in ("delay", "trickle")]
    assert [w for w in waited if w[2] is None or w[2] > REQUEST_TIMEOUT + REQUEST_SLACK_SECONDS] == []
    assert fw.duration < PASS_BOUND_SECONDS, f"the pass took {fw.duration:.1f}s"
    recovers = mode == "once" and (fault in TRANSIENT or fault == "410")
    expected_exit, expected = _expected(kind, site, fault, mode, recovers, base)
    assert result.exit_code == expected_exit, (result.status, result.detail, got)
    expected(got)
    if kind == "pushgateway":
        assert bool(pushed) == recovers

    # nothing twice, nothing unplanned, nothing unrecorded
    assert [w for w, n in applied.items() if n > 1] == []
    assert [w for w in applied if w not in base.writes and w not in base.inverses] == []
    intents = {
        (p["kind"], p["name"]) for e in history if e["result"] == "intent" for p in e.get("patch") or ()
    }
    assert [w for w in applied if _target(w[1]) not in intents] == []

    # one outcome per intent; at most one resolution of each intent the killed run left
    outcomes = Counter(e["intent"] for e in history if e.get("intent") and e["result"] != "intent")
    own = [e["intent"] for e in history if e["result"] == "intent" and e["run_id"] != KILLED_RUN]
    assert {i: outcomes[i] for i in own} == dict.fromkeys(own, 1)
    assert all(outcomes[f"{KILLED_RUN}-{n}"] <= 1 for n in (1, 2))

    # every failed attempt is in the log
    failed_api = Counter((e.method, e.path) for e in fw.api.log if e.fault)
    logged = Counter(
        (e["method"], e["path"]) for e in events if e["event"] == "request.failed" and "path" in e
    )
    assert {k: n for k, n in failed_api.items() if logged[k] < n} == {}
    if kind == "pushgateway":
        assert sum(
            e["event"] == "request.failed" and "/metrics/job/" in e.get("url", "") for e in events
        ) == len(fw.pushgateway.log) - len(pushed)
    if kind in ("prometheus", "forecasts") and not recovers:
        assert any(
            e["level"] in ("warning", "error") and e["event"].startswith(("prometheus.", "signals."))
            for e in events
        ), [e["event"] for e in events]
    if kind == "forecasts" and mode == "always":  # the risk report says why the forecasts are unknown
        risk = json.loads((tmp_path / "aiops/risk-prediction.json").read_text())
        missing = json.dumps(risk["confidence"]["missing"])
        assert re.search(r"QueryFailed|Timeout|Connection|Error|budget", missing), missing

    # the record is whole
    assert all(isinstance(e, dict) for e in history)  # every line parsed (json.loads above)
    if result.status.value in ("completed", "interrupted"):
        risk = json.loads((tmp_path / "aiops/risk-prediction.json").read_text())
        assert risk["namespace"] == "shop" and 0 <= risk["risk_score"] <= 1


def _expected(kind: str, site: str, fault: str, mode: str, recovers: bool, base: Baseline) -> tuple[int, Any]:
    """(exit code, a check of the decisions) for this failure at this kind of call site."""

    def same(got: dict[Any, Any]) -> None:
        assert got == base.decisions

    def nothing(got: dict[Any, Any]) -> None:
        assert got == {}

    def failed_or_same(actions: set[str], code: int) -> tuple[int, Any]:
        def check(got: dict[Any, Any]) -> None:
            assert got.keys() == base.decisions.keys()
            hit = {k for k, v in got.items() if v != base.decisions[k]}
            assert hit and {k[0] for k in hit} <= actions, got
            assert all(got[k][0] in ("failed", "skipped") for k in hit), got

        return code, check

    if kind == "executor_write" and fault == "429" and "/eviction" in site:

        def pdb_blocked(got: dict[Any, Any]) -> None:
            assert {k: v for k, v in got.items() if v != base.decisions[k]} == {
                k: ("skipped", "pdb_blocked") for k in got if k[0] == "restart_pod"
            }

        return 0, pdb_blocked  # a 429 on an eviction is a PodDisruptionBudget's "not now", even once
    if kind == "pushgateway" or recovers:
        return 0, same
    if kind == "read":
        return 3, nothing
    if kind == "acquire":
        return (0 if fault == "409" else 3), nothing  # 409: another run took it first
    if kind in ("release", "recovery", "forecasts"):
        return 0, same
    if kind == "prometheus":

        def no_canary(got: dict[Any, Any]) -> None:
            assert got == {k: v for k, v in base.decisions.items() if k[0] != "canary_abort"}

        return 0, no_canary
    if kind == "renew":

        def interrupted(got: dict[Any, Any]) -> None:
            assert got.keys() == base.decisions.keys()
            assert {v for k, v in got.items() if v != base.decisions[k]} <= {("skipped", "interrupted")}

        return 4, interrupted
    deployments = {"scale", "canary_abort"}
    touched = {"restart_pod"} if "/pods/" in site else deployments
    if kind == "executor_write" and fault == "409" and mode == "once":
        return 0, same  # re-read, checked again, sent once more
    if kind == "executor_write" and fault in LOST_ANSWER_FAULTS:
        return 0, same  # every write landed, only its answer was lost: found in the object, not sent again
    return failed_or_same(touched, 1)
