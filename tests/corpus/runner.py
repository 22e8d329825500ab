"""Replaying one corpus case and judging the pass's decisions against its labels.

    case = load_case(CORPUS / "02-bad-deploy-crashloop-during-rollout")
    verdict = replay(case, workdir)     # two real passes over the dump in an in-process sandbox
    verdict.ok, verdict.problems        # what differed from the labels, one line each

The dump is loaded into a Sandbox whose frozen clock starts at the capture moment; `history:` lines are
written to the history file first; the real pass runs (applying for real, through the official client,
as the CronJob would) with `settings:`, and a real Prometheus backfilled from `prometheus:` when the case
has one. Then the clock moves one CronJob interval (controllers converge) and a second pass must apply
nothing new; `healed:` is read back with the real kubectl.

A case's labels (`expect:`) come from the rules (README, docstrings) and SRE judgement:
- `act`: every action that must be applied — and nothing else may be (`count` for a target pattern);
- `skip`: actions that must be decided against, with their reason code (`message`: a text it must hold);
- `never`: actions that must not be applied (target optional: any target);
- `findings`: cause codes the pass must report.
Targets are `Kind/name`; a name may be a glob (`Pod/orders-*`).
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from kubesandbox.serve.scenario import load_scenario
from selfheal.kube.transport import object_path
from tests.integration.harness import HealingWorld, healing_world
from tests.servers import prometheus

CORPUS = Path(__file__).parent
INTERVAL_SECONDS = 120  # the CronJob's schedule: */2 * * * *
ACTIONS = frozenset(
    {
        "restart_pod",
        "rollback",
        "scale",
        "rollout_restart",
        "restore_template",
        "canary_abort",
        "canary_promote",
        "canary_step",
    }
)
CASE_KEYS = frozenset(
    {"story", "settings", "history", "prometheus", "expect", "healed", "known_disagreement", "note"}
)
EXPECT_KEYS = frozenset({"act", "skip", "never", "findings"})


# --- the case files ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    name: str
    path: Path
    story: str
    expect: Mapping[str, Any]
    settings: Mapping[str, Any] = field(default_factory=dict)
    history: tuple[Mapping[str, Any], ...] = ()
    prometheus: Mapping[str, Any] | None = None
    healed: tuple[Mapping[str, Any], ...] = ()
    known_disagreement: str | None = None
    note: str | None = None

    @property
    def dump(self) -> Path:
        return self.path / "dump.yaml"


def case_dirs() -> list[Path]:
    return sorted(p for p in CORPUS.iterdir() if p.is_dir() and (p / "case.yaml").exists())


def load_case(path: Path) -> Case:
    doc = yaml.safe_load((path / "case.yaml").read_text())
    if not isinstance(doc, dict):
        raise ValueError(f"{path.name}/case.yaml: not a mapping")
    unknown = set(doc) - CASE_KEYS
    if unknown:
        raise ValueError(f"{path.name}/case.yaml: unknown keys {sorted(unknown)}")
    expect = doc.get("expect") or {}
    if set(expect) - EXPECT_KEYS:
        raise ValueError(f"{path.name}/case.yaml: unknown expect keys {sorted(set(expect) - EXPECT_KEYS)}")
    for key in ("act", "skip", "never"):
        for entry in expect.get(key) or []:
            if entry.get("action") not in ACTIONS:
                raise ValueError(
                    f"{path.name}/case.yaml: expect.{key}: unknown action {entry.get('action')!r}"
                )
            if key != "never" and not entry.get("target"):
                raise ValueError(f"{path.name}/case.yaml: expect.{key}: {entry['action']} needs a target")
            if key == "skip" and not entry.get("reason"):
                raise ValueError(f"{path.name}/case.yaml: expect.skip: {entry['action']} needs a reason")
    if not isinstance(doc.get("story"), str) or "\n" in doc["story"].strip():
        raise ValueError(f"{path.name}/case.yaml: story must be one line")
    return Case(
        name=path.name,
        path=path,
        story=doc["story"].strip(),
        expect=expect,
        settings=doc.get("settings") or {},
        history=tuple(doc.get("history") or ()),
        prometheus=doc.get("prometheus"),
        healed=tuple(doc.get("healed") or ()),
        known_disagreement=doc.get("known_disagreement"),
        note=doc.get("note"),
    )


def all_cases() -> list[Case]:
    return [load_case(p) for p in case_dirs()]


# --- matching outcomes ----------------------------------------------------------------------------------------


def _matches(entry: Mapping[str, Any], action: str, target: str) -> bool:
    if entry["action"] != action:
        return False
    pattern = entry.get("target")
    return pattern is None or fnmatch.fnmatchcase(target, pattern)


def describe(entry: Mapping[str, Any]) -> str:
    text = f"{entry['action']} {entry.get('target', '(any target)')}"
    if entry.get("count", 1) != 1:
        text += f" x{entry['count']}"
    if entry.get("reason"):
        text += f" ({entry['reason']})"
    return text


@dataclass(frozen=True)
class Decision:
    action: str
    target: str  # Kind/name
    result: str  # applied, failed, skipped, dry_run
    reason: str
    message: str

    def __str__(self) -> str:
        return f"{self.result} {self.action} {self.target}" + (f" ({self.reason})" if self.reason else "")


def decisions_of(result: Any) -> list[Decision]:
    return [
        Decision(
            o.action.action.value,
            f"{o.action.target.kind}/{o.action.target.name}",
            o.result.value,
            o.reason,
            o.message,
        )
        for o in result.outcomes
    ]


@dataclass
class Score:
    """Decision accuracy of one case: each label is one check."""

    acts: int = 0
    acts_taken: int = 0
    skips: int = 0
    skips_found: int = 0
    forbidden: int = 0  # `never` labels, plus one for "nothing outside `act`"
    forbidden_respected: int = 0

    @property
    def checks(self) -> int:
        return self.acts + self.skips + self.forbidden

    @property
    def passed(self) -> int:
        return self.acts_taken + self.skips_found + self.forbidden_respected

    def __add__(self, other: Score) -> Score:
        return Score(*(a + b for a, b in zip(self.astuple(), other.astuple(), strict=True)))

    def astuple(self) -> tuple[int, ...]:
        return (
            self.acts,
            self.acts_taken,
            self.skips,
            self.skips_found,
            self.forbidden,
            self.forbidden_respected,
        )


def judge(expect: Mapping[str, Any], decided: list[Decision], findings: set[str]) -> tuple[Score, list[str]]:
    """The first pass's decisions against the labels: (score, problems)."""
    score, problems = Score(), []
    applied = [d for d in decided if d.result == "applied"]
    for entry in expect.get("act") or []:
        score.acts += 1
        hits = [d for d in applied if _matches(entry, d.action, d.target)]
        if len(hits) == entry.get("count", 1):
            score.acts_taken += 1
        else:
            others = [str(d) for d in decided if _matches(entry, d.action, d.target)] or ["nothing"]
            problems.append(
                f"expected {describe(entry)} applied: {len(hits)} applied; decided {', '.join(others)}"
            )
    for entry in expect.get("skip") or []:
        score.skips += 1
        hits = [
            d
            for d in decided
            if d.result == "skipped"
            and _matches(entry, d.action, d.target)
            and d.reason == entry["reason"]
            and entry.get("message", "") in d.message
        ]
        if hits:
            score.skips_found += 1
        else:
            others = [str(d) for d in decided if _matches(entry, d.action, d.target)] or ["nothing"]
            problems.append(
                f"expected skip {describe(entry)}"
                + (f" saying {entry['message']!r}" if entry.get("message") else "")
                + f": decided {', '.join(others)}"
            )
    for entry in expect.get("never") or []:
        score.forbidden += 1
        hits = [
            d for d in decided if d.result in ("applied", "failed") and _matches(entry, d.action, d.target)
        ]
        if hits:
            problems.append(f"must never {describe(entry)}: {', '.join(map(str, hits))}")
        else:
            score.forbidden_respected += 1
    score.forbidden += 1
    extra = [d for d in applied if not any(_matches(e, d.action, d.target) for e in expect.get("act") or [])]
    if extra:
        problems.append(f"applied outside the labels: {', '.join(map(str, extra))}")
    else:
        score.forbidden_respected += 1
    failed = [d for d in decided if d.result == "failed"]
    if failed:
        problems.append(f"failed: {', '.join(f'{d} {d.message}' for d in failed)}")
    for code in expect.get("findings") or []:
        if code not in findings:
            problems.append(
                f"finding {code} not reported (reported: {', '.join(sorted(findings)) or 'none'})"
            )
    return score, problems


# --- replaying ---------------------------------------------------------------------------------------------


@dataclass
class Verdict:
    case: Case
    score: Score
    problems: list[str]
    first: list[Decision]
    second: list[Decision]

    @property
    def ok(self) -> bool:
        return not self.problems


def _settings(case: Case) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in case.settings.items():
        if not key.startswith("SELFHEAL_"):
            raise ValueError(f"{case.name}: setting {key} is not a SELFHEAL_* variable")
        out[key.removeprefix("SELFHEAL_").lower()] = value
    return out


def _history_lines(case: Case, namespace: str) -> str:
    lines = []
    for entry in case.history:
        line = {"run_id": "corpus-history", "namespace": namespace, **entry}
        lines.append(json.dumps(line, separators=(",", ":")))
    return "".join(f"{line}\n" for line in lines)


def openmetrics(
    error_ratio: Mapping[str, float],
    captured: datetime,
    *,
    since: Mapping[str, float] | None = None,
    step: int = 15,
    requests_per_second: float = 20.0,
) -> str:
    """`http_requests_total{deployment,code}` counters from an hour before the capture to 10 minutes after it:
    each Deployment serves `requests_per_second`, a share `error_ratio` of them 5xx — from `since[deployment]`
    seconds before the capture on (before that: no errors), or for the whole hour."""
    lines = ["# HELP http_requests_total Requests served.", "# TYPE http_requests_total counter"]
    start, end = captured - timedelta(hours=1), captured + timedelta(minutes=10)
    samples = int((end - start).total_seconds()) // step + 1
    for deployment, ratio in sorted(error_ratio.items()):
        onset = captured - timedelta(seconds=(since or {}).get(deployment, 3600))
        ok = errors = 0.0
        series: dict[str, list[str]] = {"200": [], "500": []}
        for i in range(samples):
            t = start + timedelta(seconds=i * step)
            if i:
                share = ratio if t > onset else 0.0
                ok += requests_per_second * step * (1 - share)
                errors += requests_per_second * step * share
            for code, value in (("200", ok), ("500", errors)):
                series[code].append(
                    f'http_requests_total{{deployment="{deployment}",code="{code}"}} '
                    f"{value:.3f} {t.timestamp():.0f}"
                )
        lines += series["200"] + series["500"]
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


@contextlib.contextmanager
def _signals(case: Case, captured: datetime) -> Iterator[dict[str, Any]]:
    if not case.prometheus:
        yield {}
        return
    ratios = dict(case.prometheus.get("error_ratio") or {})
    text = openmetrics(ratios, captured, since=case.prometheus.get("errors_since_seconds"))
    with prometheus(text) as url:
        yield {"prometheus_url": url}


@contextlib.contextmanager
def _clean_environment() -> Iterator[None]:
    """The pass reads SELFHEAL_* from the environment too: a case's settings are all it may see."""
    saved = {k: v for k, v in os.environ.items() if k.startswith("SELFHEAL_")}
    for key in saved:
        del os.environ[key]
    try:
        yield
    finally:
        os.environ.update(saved)


def _healed(world: HealingWorld, checks: tuple[Mapping[str, Any], ...]) -> list[str]:
    problems = []
    for check in checks:
        args = ["get", *check["get"].split(), "-o", f"jsonpath={check['jsonpath']}"]
        res = world.sb.kubectl(*args)
        got = res.stdout.strip() if res.returncode == 0 else f"<kubectl failed: {res.stderr.strip()}>"
        label = f"{check['get']} {check['jsonpath']}"
        if "equals" in check and got != str(check["equals"]):
            problems.append(f"healed: {label} is {got!r}, expected {check['equals']!r}")
        if "contains" in check and str(check["contains"]) not in got:
            problems.append(f"healed: {label} is {got!r}, expected it to contain {check['contains']!r}")
        if "not_contains" in check and str(check["not_contains"]) in got:
            problems.append(
                f"healed: {label} is {got!r}, expected it not to contain {check['not_contains']!r}"
            )
        if "not_equals" in check and got == str(check["not_equals"]):
            problems.append(f"healed: {label} is still {got!r}")
    return problems


def replay(case: Case, workdir: Path) -> Verdict:
    """Two real passes over the case's dump, judged against its labels."""
    scenario = load_scenario(str(case.dump))
    overrides = _settings(case)
    with (
        _clean_environment(),
        _signals(case, scenario.captured_at) as signals,
        healing_world(scenario, workdir) as world,
    ):
        history = workdir / "logs/rollback-history.log"
        history.parent.mkdir(parents=True, exist_ok=True)
        history.write_text(_history_lines(case, world.namespace))
        first = world.run(**overrides, **signals)
        decided = decisions_of(first)
        findings = {f.cause.code.value for f in first.findings}
        score, problems = judge(case.expect, decided, findings)
        problems += _unaccounted_writes(world, first)
        if first.exit_code != 0 or first.status.value not in ("completed", "suspended"):
            problems.append(f"first pass: exit {first.exit_code}, {first.status.value} {first.detail}")

        world.advance(INTERVAL_SECONDS)
        writes_before = _successful_writes(world)
        second = world.run(**overrides, **signals)
        again = decisions_of(second)
        new = [d for d in again if d.result in ("applied", "failed")]
        if new:
            problems.append(f"second pass is not a no-op: {', '.join(map(str, new))}")
        if _successful_writes(world) != writes_before:
            problems.append("second pass wrote to the cluster")
        if second.exit_code != 0:
            problems.append(f"second pass: exit {second.exit_code}, {second.status.value} {second.detail}")
        problems += _healed(world, case.healed)
    return Verdict(case, score, problems, decided, again)


def _unaccounted_writes(world: HealingWorld, result: Any) -> list[str]:
    """Writes that changed the cluster without an applied action to show for them (a half-done action
    reported as skipped or failed, its undo included): the report must tell what was changed."""
    accounted = {
        object_path(w.target.kind, w.target.namespace, w.target.name, w.subresource)
        for o in result.outcomes
        if o.result.value == "applied"
        for w in o.action.writes
    }
    stray = [
        f"{r.method} {r.path}" for r in world.writes() if 200 <= r.status < 300 and r.path not in accounted
    ]
    return [f"writes without an applied action: {', '.join(stray)}"] if stray else []


def _successful_writes(world: HealingWorld) -> int:
    return sum(1 for r in world.writes() if 200 <= r.status < 300)
