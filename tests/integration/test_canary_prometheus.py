"""The canary gate against a real Prometheus (Debian's), fed by `promtool tsdb create-blocks-from openmetrics`.

Counters grow at constant rates, so `increase(...[30m])` at any time of the backfilled span is the
window's count: each series is given as (requests, 5xx errors) per 30 minutes. The pass queries at an
explicit `time`, its own `now` (the sandbox clock: 2026-01-01T12:00:00Z, moved on by the stories), so
the backfilled data is what decides, however long the test takes.

Every verdict: exactly at the threshold, 1 error in 2 requests, a large sample just above the threshold,
a canary worse than a healthy stable, a healthy canary progressing; then the pass aborting, reporting an
inconclusive canary, and walking a canary 10 → 25 → 50 → 100 → promoted through the sandbox.
"""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta

import pytest

from kubesandbox.resources.clock import DEFAULT_EPOCH
from selfheal.detectors import canary
from selfheal.detectors.base import DetectorConfig
from selfheal.findings import ActionKind, CauseCode
from selfheal.signals import read_canary_signals
from selfheal.view import Counts, SourceState
from tests.builders import (
    NOW,
    applied_with_kubectl,
    deployment,
    make_deployment,
    make_replicaset,
    snapshot_of,
)
from tests.integration.harness import healing_world
from tests.integration.worlds import applied, rolled_out, story
from tests.servers import prometheus

CANARY, STABLE = "dese-ea-plan-v5-canary", "dese-ea-plan-v5"
WINDOW = 1800  # the default queries' [30m]
HEALTHY = (36000, 18)  # 20 requests/s, 0.05 % errors


def openmetrics(
    series: dict[str, tuple[float, float]], start: datetime, end: datetime, step: int = 15
) -> str:
    """`http_requests_total{deployment,code}` counters from `start` to `end`, each Deployment serving
    `series[name] = (requests, errors)` per 30 minutes at constant rates. No errors: no 5xx series at all
    (what an exporter shows for a code it never served)."""
    lines = ["# HELP http_requests_total Requests served.", "# TYPE http_requests_total counter"]
    samples = int((end - start).total_seconds()) // step + 1
    for name, (requests, errors) in sorted(series.items()):
        rates = {"200": (requests - errors) / WINDOW, "500": errors / WINDOW}
        for code, rate in rates.items():
            if rate == 0 and code == "500":
                continue
            for i in range(samples):
                t = start + timedelta(seconds=i * step)
                lines.append(
                    f'http_requests_total{{deployment="{name}",code="{code}"}} '
                    f"{rate * i * step:.4f} {t.timestamp():.0f}"
                )
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


def served(series: dict[str, tuple[float, float]]):
    return prometheus(
        openmetrics(series, DEFAULT_EPOCH - timedelta(hours=1), DEFAULT_EPOCH + timedelta(hours=2))
    )


# --- every verdict, from the counts a real Prometheus answers ----------------------------------------------

# (canary, stable): (requests, errors) per 30 minutes
VERDICTS = {
    # exactly 5 %, as is stable (the comparison is neutral): the 95 % interval 4.78-5.23 % straddles 5 %
    "at-threshold": ((36000, 1800), (36000, 1800)),
    # 1 error in 2 requests: not "50 %", too few requests to judge
    "tiny": ((2, 1), HEALTHY),
    # 5.5 % of 36000 requests: the whole interval (5.27-5.74 %) is above 5 %
    "just-above": ((36000, 1980), HEALTHY),
    # 1 %: below 5 %, but 20 times stable's 0.05 % and above the SLO's 0.1 %
    "worse-than-stable": ((36000, 360), HEALTHY),
    # as good as stable
    "healthy": (HEALTHY, HEALTHY),
}
EXPECTED = {
    "at-threshold": (
        CauseCode.CANARY_INCONCLUSIVE,
        [],
        "not enough traffic to judge (36000 requests, 1800 errors, 95 % interval 4.78–5.23 %): "  # noqa: RUF001
        "the interval straddles the 5 % threshold",
    ),
    "tiny": (
        CauseCode.CANARY_INCONCLUSIVE,
        [],
        "not enough traffic to judge (2 requests, 1 error, 95 % interval 9.45–90.55 %): "  # noqa: RUF001
        "fewer than 100 requests",
    ),
    "just-above": (
        CauseCode.CANARY_ERRORS,
        [ActionKind.CANARY_ABORT],
        "error ratio above 5 % (36000 requests, 1980 errors, 95 % interval 5.27–5.74 %: "  # noqa: RUF001
        "all of it above the threshold)",
    ),
    "worse-than-stable": (
        CauseCode.CANARY_ERRORS,
        [ActionKind.CANARY_ABORT],
        "error ratio 1 % is significantly worse than stable's 0.05 % and above the SLO's 0.1 % "
        "(36000 requests, 360 errors, 95 % interval 0.9–1.11 %)",  # noqa: RUF001
    ),
    "healthy": (CauseCode.CANARY_HEALTHY, [ActionKind.CANARY_STEP], "healthy past its bake time at 10 %"),
}


@pytest.fixture(scope="module")
def verdicts_prom():
    series = {}
    for name, (canary_counts, stable_counts) in VERDICTS.items():
        series[f"{name}-canary"], series[name] = canary_counts, stable_counts
    with served(series) as url:
        yield url


@pytest.mark.parametrize("name", list(VERDICTS))
def test_every_verdict_from_the_counts_prometheus_answers(verdicts_prom, name):
    pair = (name, f"{name}-canary")
    signals = read_canary_signals(verdicts_prom, [pair], at=DEFAULT_EPOCH)
    assert signals.state is SourceState.AVAILABLE
    (canary_n, canary_x), (stable_n, stable_x) = VERDICTS[name]
    got = signals.counts[pair[1]]
    assert (got.requests, got.errors) == (
        pytest.approx(canary_n, abs=0.01),
        pytest.approx(canary_x, abs=0.01),
    )
    assert signals.counts[name] == Counts(
        pytest.approx(stable_n, abs=0.01), pytest.approx(stable_x, abs=0.01)
    )
    stable = make_deployment(
        name, annotations={"rollout.argoproj.io/traffic-split": '{"canary":10,"stable":90}'}
    )
    cand = make_deployment(pair[1], replicas=1, image="registry.example/web:2")
    snap = snapshot_of(stable, cand, make_replicaset(cand, created=NOW - timedelta(hours=1)), canary=signals)

    [finding] = canary.detect(snap, DetectorConfig(canary_auto_promote=True), NOW)

    code, actions, summary = EXPECTED[name]
    assert finding.cause.code == code and [a.action for a in finding.actions] == actions
    assert finding.cause.summary.endswith(summary), finding.cause.summary


def test_no_series_is_unknown_and_no_5xx_series_is_zero_errors(verdicts_prom):
    signals = read_canary_signals(verdicts_prom, [("nobody", "nobody-canary")], at=DEFAULT_EPOCH)
    assert signals.counts == {"nobody": None, "nobody-canary": None} and signals.error_rates == {
        "nobody-canary": None
    }
    before = read_canary_signals(
        verdicts_prom, [("healthy", "healthy-canary")], at=DEFAULT_EPOCH - timedelta(hours=2)
    )
    assert before.counts["healthy-canary"] is None  # nothing was recorded then


# --- the pass in the guide's namespace ---------------------------------------------------------------------


@pytest.fixture(scope="module", params=["fail-9pct", "worse-than-stable-1pct", "healthy", "inconclusive"])
def ea_prom(request):
    canary_counts = {
        "fail-9pct": (36000, 3240),
        "worse-than-stable-1pct": (36000, 360),
        "healthy": HEALTHY,
        "inconclusive": (30, 1),
    }[request.param]
    with served({STABLE: (180000, 90), CANARY: canary_counts}) as url:
        yield request.param, url


def test_the_pass_aborts_a_failing_canary_leaves_a_healthy_one_and_says_when_it_cannot_judge(
    ea_prom, tmp_path, capsys
):
    """Heal the world first: with its other failures and a bad canary, 4 of 7 Deployments fail and the
    mass-failure rail (rightly) makes the pass report-only."""
    case, url = ea_prom
    with healing_world("ea-plan-v5", tmp_path) as world:
        world.run()
        world.advance(180)
        capsys.readouterr()
        result = world.run(prometheus_url=url, log_format="json")
        logged = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
        aborts = [o for o in result.outcomes if o.action.action.value == "canary_abort"]
        finding = next(f for f in result.findings if f.detector == "canary")
        if case.startswith(("fail", "worse")):
            assert finding.cause.code == CauseCode.CANARY_ERRORS
            assert [(o.result.value, o.action.target.name) for o in aborts] == [("applied", CANARY)]
            assert world.sb.get("Deployment", CANARY)["spec"]["replicas"] == 0
            split = world.kubectl(
                "get",
                "deploy",
                CANARY,
                "-o",  # the scenario annotates the canary
                r"jsonpath={.metadata.annotations.rollout\.argoproj\.io/traffic-split}",
            )
            assert split == '{"canary":0,"stable":100}'
            assert any("stable 0.05 % (90 of 180000 requests)" in e for e in finding.evidence)
        else:
            assert aborts == [] and world.sb.get("Deployment", CANARY)["spec"]["replicas"] == 1
        if case == "healthy":
            assert (
                finding.cause.code == CauseCode.CANARY_HEALTHY and finding.actions == ()
            )  # auto-promotion off
        if case == "inconclusive":
            sentence = (
                f"canary {CANARY}: not enough traffic to judge (30 requests, 1 error, "
                "95 % interval 0.59–16.67 %): fewer than 100 requests"  # noqa: RUF001
            )
            assert finding.cause.code == CauseCode.CANARY_INCONCLUSIVE and finding.cause.summary == sentence
            reported = [f for f in world.risk()["findings"] if f["cause"] == "canary_inconclusive"]
            assert [f["summary"] for f in reported] == [sentence]
            assert [
                e["summary"]
                for e in logged
                if e.get("event") == "finding" and e.get("cause") == "canary_inconclusive"
            ] == [sentence]
        assert world.risk()["sources"]["prometheus"] == "available"


# --- a canary walked through every step, then promoted -------------------------------------------------------


def _applied_by_kubectl(docs, replicas, annotations):
    """`rolled_out`'s Deployment as `kubectl apply` of the team's manifest leaves it (last-applied records
    the replicas, so the replica-drift detector has an opinion the steps must not fight)."""
    dep = docs[0]
    manifest = deployment(
        dep["metadata"]["name"],
        image=dep["spec"]["template"]["spec"]["containers"][0]["image"],
        replicas=replicas,
        annotations=annotations,
    )
    dep["metadata"]["annotations"].update(applied_with_kubectl(manifest)["metadata"]["annotations"])
    return docs


def _kube(world, kind_name, path):
    return world.kubectl("get", kind_name, "-o", f"jsonpath={{{path}}}")


def test_a_healthy_canary_walks_every_step_and_is_promoted(tmp_path):
    split = {"rollout.argoproj.io/traffic-split": '{"canary":10,"stable":90}'}
    stable_docs = _applied_by_kubectl(
        rolled_out("web", image="shop/web:1", replicas=3, annotations=dict(split)), 3, split
    )
    canary_docs = _applied_by_kubectl(rolled_out("web-canary", image="shop/web:2", replicas=1), 1, {})
    settings = {"canary_auto_promote": True, "cooldown_seconds": 60}
    with (
        served({"web": HEALTHY, "web-canary": HEALTHY}) as url,
        healing_world(story(*copy.deepcopy(stable_docs), *copy.deepcopy(canary_docs)), tmp_path) as world,
    ):
        walked = []
        for percent, stable_n, canary_n in [(25, 3, 1), (50, 2, 2), (100, 0, 4)]:
            result = world.run(prometheus_url=url, **settings)
            assert applied(result) == {("canary_step", "web-canary")}, result.outcomes
            world.advance(120)  # the controllers converge; the step has not baked yet: no further step
            waiting = world.run(prometheus_url=url, **settings)
            assert applied(waiting) == set()
            assert (
                next(f for f in waiting.findings if f.detector == "canary").cause.code
                == CauseCode.CANARY_BAKING
            )
            walked.append(
                (
                    _kube(world, "deploy/web", r".metadata.annotations.rollout\.argoproj\.io/traffic-split"),
                    _kube(world, "deploy/web", ".spec.replicas"),
                    _kube(world, "deploy/web-canary", ".spec.replicas"),
                    _kube(world, "deploy/web", ".status.readyReplicas") or "0",
                    _kube(world, "deploy/web-canary", ".status.readyReplicas") or "0",
                )
            )
            assert walked[-1][:3] == (
                json.dumps({"canary": percent, "stable": 100 - percent}, separators=(",", ":")),
                str(stable_n),
                str(canary_n),
            )
            world.advance(600 - 120 + 1)  # past the bake time of this step
        assert walked == [
            ('{"canary":25,"stable":75}', "3", "1", "3", "1"),
            ('{"canary":50,"stable":50}', "2", "2", "2", "2"),
            ('{"canary":100,"stable":0}', "0", "4", "0", "4"),
        ]

        promoted = world.run(prometheus_url=url, **settings)

        assert applied(promoted) == {("canary_promote", "web-canary")}, promoted.outcomes
        world.advance(120)
        assert _kube(world, "deploy/web", ".spec.template.spec.containers[0].image") == "shop/web:2"
        assert (
            _kube(world, "deploy/web", r".metadata.annotations.rollout\.argoproj\.io/traffic-split")
            == '{"canary":0,"stable":100}'
        )
        assert (
            _kube(world, "deploy/web", ".spec.replicas"),
            _kube(world, "deploy/web-canary", ".spec.replicas"),
        ) == ("3", "0")
        assert _kube(world, "deploy/web", ".status.readyReplicas") == "3"
        annotations = json.loads(world.kubectl("get", "deploy/web", "-o", "json"))["metadata"]["annotations"]
        assert (
            "selfheal.dev/canary-step" not in annotations
            and "selfheal.dev/desired-replicas" not in annotations
        )
        history = [e for e in world.history() if e["result"] == "applied"]
        assert [e["action"] for e in history] == ["canary_step"] * 3 + ["canary_promote"]
        assert all(e["patch"] and e["inverse"] and len(e["patch"]) == len(e["inverse"]) for e in history)
        assert [len(e["patch"]) for e in history] == [1, 2, 2, 2]  # one write per Deployment that changes
