"""The risk model: how likely is an SLO breach (availability, P99, recovery) within the horizon? Pure.

An SRE can recompute it by hand. Every factor i has a value v_i in [0, 1] (its evidence) and a fixed
weight w_i in (0, 1] (how surely that evidence means a breach); p_i = w_i * v_i. The factors are treated as
independent chances of a breach, so

    risk_score = 1 - (1 - p_1)(1 - p_2)...(1 - p_n)          in [0, 1], deterministic,

which rises with every value and every weight (monotone) and is never more than 1. A factor's
`contribution` is its share of the score in proportion to its hazard h_i = -ln(1 - p_i) (the
contributions add up to the score). Levels: < 0.15 low, < 0.40 medium, < 0.70 high, else critical.

| factor            | value v                                                                     | weight |
| ----------------- | --------------------------------------------------------------------------- | ------ |
| failing_workloads | 1 - 0.5^n, n = Deployments failing now (crash loop, bad revision, environment, unavailable, canary errors) | 0.90 |
| config_drift      | 1 - 0.5^n, n = Deployments drifted from their recorded config                | 0.30   |
| canary_errors     | the canary gate's error evidence: worst error ratio / threshold, capped at 1 | 0.60   |
| failed_actions    | failed / attempted actions of this pass                                     | 0.30   |
| missing_probes    | share of containers without liveness or readiness probe                      | 0.15   |
| oom               | urgency of the soonest OOM forecast                                          | 0.80   |
| error_budget      | urgency of the soonest availability breach (error-ratio trend, burn rates)  | 0.85   |
| latency           | urgency of the soonest P99 breach                                           | 0.80   |
| capacity          | urgency of the HPA running out of replicas under load                       | 0.65   |
| restart_trend     | urgency of restarts accelerating into a crash loop                          | 0.70   |

Urgency of a forecast breach t seconds away, for horizon H (default 1 h): 1 at t = 0, falling linearly to
0 at t = H, 0 beyond (a breach weighs more the sooner it comes). A forecast that could not be made
(Prometheus unavailable, a missing series) adds nothing, and `confidence` names it: the score is then a
lower bound. Each forecast factor carries its `time_to_breach_seconds`.

On its own, a forecast factor makes the score `high` once its breach is t <= H (1 - 0.40 / w) away: 32 min for
error_budget, 30 for oom and latency, 26 for restart_trend, 23 for capacity (H = 1 h). bench/backtest.py holds
this to eight timelines in a real Prometheus (six incidents, a noisy and a quiet healthy service): every
incident was `high` 18-60 min before its breach and no healthy evaluation was; what needed changing was the
forecasts' statistics (`selfheal.forecast`), not these weights or the urgency ramp.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from selfheal.findings import ActionOutcome, CauseCode, Finding, Result
from selfheal.forecast import Forecast

FAILING = frozenset(
    {
        CauseCode.APP_ERROR,
        CauseCode.OOM_KILLED,
        CauseCode.BAD_COMMAND,
        CauseCode.IMAGE_PULL,
        CauseCode.CONTAINER_CONFIG,
        CauseCode.ENVIRONMENT,
        CauseCode.BAD_REVISION,
        CauseCode.ROLLOUT_STUCK,
        CauseCode.UNAVAILABLE,
        CauseCode.CANARY_ERRORS,
    }
)
DRIFT = frozenset(
    {CauseCode.CONFIG_HASH_DRIFT, CauseCode.CONFIGMAP_CHANGED, CauseCode.REPLICA_DRIFT, CauseCode.HPA_CLAMP}
)

WEIGHTS: Mapping[str, float] = {
    "failing_workloads": 0.90,
    "config_drift": 0.30,
    "canary_errors": 0.60,
    "failed_actions": 0.30,
    "missing_probes": 0.15,
    "oom": 0.80,
    "error_budget": 0.85,
    "latency": 0.80,
    "capacity": 0.65,
    "restart_trend": 0.70,
}
FORECAST_KINDS = ("oom", "error_budget", "latency", "capacity", "restart_trend")
LEVELS: Sequence[tuple[float, str]] = ((0.70, "critical"), (0.40, "high"), (0.15, "medium"), (0.0, "low"))
P_MAX = 0.9999  # a single factor never makes the breach certain (keeps every hazard finite)


@dataclass(frozen=True)
class Factor:
    name: str
    value: float
    weight: float
    detail: str
    time_to_breach_seconds: float | None = None

    @property
    def probability(self) -> float:
        return min(P_MAX, max(0.0, self.value) * self.weight)

    @property
    def hazard(self) -> float:
        return -math.log1p(-self.probability)


@dataclass(frozen=True)
class Assessment:
    score: float
    level: str
    factors: tuple[Factor, ...]
    contributions: Mapping[str, float]


def level_for(score: float) -> str:
    return next(name for floor, name in LEVELS if score >= floor)


def urgency(t: float | None, horizon: float) -> float:
    if t is None:
        return 0.0
    return 1.0 if t <= 0 else max(0.0, 1.0 - t / horizon)


def combine(factors: Sequence[Factor]) -> Assessment:
    """The noisy-or of the factors, and each factor's share of it."""
    survive = math.prod(1.0 - f.probability for f in factors)
    score = 1.0 - survive
    total = sum(f.hazard for f in factors)
    contributions = {f.name: (score * f.hazard / total if total else 0.0) for f in factors}
    return Assessment(score, level_for(score), tuple(factors), contributions)


def _workloads(findings: Sequence[Finding], codes: frozenset[CauseCode]) -> list[str]:
    return sorted(
        {f.workload.name for f in findings if f.cause.code in codes and f.workload.kind == "Deployment"}
    )


def _halving(names: Sequence[str]) -> tuple[float, str]:
    shown = f": {', '.join(names[:5])}" + (f" (+{len(names) - 5})" if len(names) > 5 else "") if names else ""
    return 1.0 - 0.5 ** len(names), f"{len(names)} Deployments{shown}"


def current_factors(
    findings: Sequence[Finding],
    outcomes: Sequence[ActionOutcome],
    *,
    containers: int,
    canary_ratio: float | None,
    canary_threshold: float,
) -> list[Factor]:
    """What is wrong now (the findings) and what this pass failed to do."""
    failing = _workloads([f for f in findings if f.failing], FAILING)
    drifted = _workloads(findings, DRIFT)
    missing = sum(len(f.evidence) for f in findings if f.cause.code == CauseCode.MISSING_PROBES)
    attempted = [o for o in outcomes if o.result in (Result.APPLIED, Result.DRY_RUN, Result.FAILED)]
    failed = sum(1 for o in attempted if o.result == Result.FAILED)
    factors = []
    v, detail = _halving(failing)
    factors.append(
        Factor(
            "failing_workloads",
            v,
            WEIGHTS["failing_workloads"],
            f"{detail} failing now",
            0.0 if failing else None,
        )
    )
    v, detail = _halving(drifted)
    factors.append(Factor("config_drift", v, WEIGHTS["config_drift"], f"{detail} drifted"))
    ratio = canary_ratio or 0.0
    factors.append(
        Factor(
            "canary_errors",
            min(1.0, ratio / canary_threshold) if canary_threshold else 0.0,
            WEIGHTS["canary_errors"],
            f"worst canary error ratio {ratio:.2%} (threshold {canary_threshold:.0%})"
            if canary_ratio is not None
            else "no canary measured",
        )
    )
    factors.append(
        Factor(
            "failed_actions",
            failed / len(attempted) if attempted else 0.0,
            WEIGHTS["failed_actions"],
            f"{failed}/{len(attempted)} actions failed",
        )
    )
    factors.append(
        Factor(
            "missing_probes",
            min(1.0, missing / containers) if containers else 0.0,
            WEIGHTS["missing_probes"],
            f"{missing}/{containers} containers without probes",
        )
    )
    return factors


def forecast_factors(found: Sequence[Forecast], horizon: float) -> list[Factor]:
    """One factor per forecast kind: the soonest breach of that kind within the horizon."""
    factors = []
    for kind in FORECAST_KINDS:
        known = [f for f in found if f.kind == kind and f.known]
        timed = [f for f in known if f.time_to_breach_seconds is not None]
        soonest = min(timed, key=lambda f: f.time_to_breach_seconds or 0.0) if timed else None
        t = soonest.time_to_breach_seconds if soonest is not None else None
        if soonest is not None:
            who = f"{soonest.workload}{'/' + soonest.subject if soonest.subject else ''}"
            detail = f"{who}: {soonest.detail}"
        else:
            detail = f"no breach forecast for {len(known)} workloads" if known else "not forecast"
        factors.append(Factor(kind, urgency(t, horizon), WEIGHTS[kind], detail, t))
    return factors


def assess(
    findings: Sequence[Finding],
    outcomes: Sequence[ActionOutcome],
    found: Sequence[Forecast],
    *,
    containers: int,
    canary_ratio: float | None,
    canary_threshold: float,
    horizon: float,
) -> Assessment:
    return combine(
        [
            *current_factors(
                findings,
                outcomes,
                containers=containers,
                canary_ratio=canary_ratio,
                canary_threshold=canary_threshold,
            ),
            *forecast_factors(found, horizon),
        ]
    )
