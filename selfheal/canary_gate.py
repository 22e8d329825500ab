"""The canary gate: fail, inconclusive or healthy, from request and error counts. Pure.

Flagger and Argo Rollouts compare a point estimate with a threshold, so 1 error in 2 requests reads as
"50 %". Here the canary's errors are a binomial sample: x errors in n requests. What the gate knows about
the canary's true error ratio is a confidence interval, and it says so when that interval is too wide to
decide on.

Statistics, with z the standard normal quantile of 1 - (1 - confidence)/2 (1.96 at the default 95 %):

- Wilson score interval of the canary's error ratio, p̂ = x/n:
      centre = (p̂ + z²/2n) / (1 + z²/n)
      half   = z / (1 + z²/n) · √(p̂(1 - p̂)/n + z²/4n²)
      [lower, upper] = [centre - half, centre + half]
  (the set of ratios p a score test does not reject: |p̂ - p| ≤ z·√(p(1 - p)/n)).
- Two-proportion z-test, canary (x₁ of n₁) against stable (x₂ of n₂), pooled p = (x₁ + x₂)/(n₁ + n₂):
      z₁₂ = (p̂₁ - p̂₂) / √(p(1 - p)(1/n₁ + 1/n₂))
  "significantly worse" is z₁₂ ≥ z (the same z as the interval: a two-sided test at the same confidence,
  of which only the "worse" side acts). Its normal approximation is trusted only when every sample
  expects at least 5 errors and 5 successes under the pooled ratio (n·p ≥ 5 and n·(1 - p) ≥ 5).

Verdicts, the first rule that matches wins:

1. fewer than `min_requests` canary requests                      -> inconclusive (`too_few_requests`)
2. the interval's lower bound above the threshold                 -> fail (`above_threshold`)
3. significantly worse than stable, and p̂₁ above the SLO's error
   budget (1 - availability: 0.1 % for the guide's 99.9 %)          -> fail (`worse_than_stable`)
4. the interval's upper bound at or above the threshold            -> inconclusive (`straddles_threshold`)
5. above stable and above the budget, but too few expected errors
   for the z-test to say whether that is chance                    -> inconclusive (`cannot_compare`)
6. otherwise                                                       -> healthy
A stable without requests in the window is not compared (rules 3 and 5 need it); the evidence says so.

Progression: `SELFHEAL_CANARY_STEPS` (default 10,25,50,100) are the canary's traffic shares, one step per
pass; `next_step` is the first step above the current share, and `step_replicas` the replica counts that
match it.
"""

from __future__ import annotations

import enum
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Final

DEFAULT_STEPS: Final = (10, 25, 50, 100)
# The normal approximation of the two-proportion z-test holds when each sample expects this many
# errors and this many successes under the pooled ratio (the textbook rule of thumb).
MIN_EXPECTED: Final = 5.0


def z_for(confidence: float) -> float:
    """The two-sided standard normal quantile: 1.959963984540054 for 0.95."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence {confidence} is not strictly between 0 and 1")
    return NormalDist().inv_cdf(1.0 - (1.0 - confidence) / 2.0)


def wilson(errors: int, requests: int, z: float) -> tuple[float, float]:
    """The Wilson score interval of errors/requests; (0, 1) for no requests (nothing is known)."""
    if requests <= 0:
        return (0.0, 1.0)
    if not 0 <= errors <= requests:
        raise ValueError(f"{errors} errors in {requests} requests")
    n, p = float(requests), errors / requests
    z2 = z * z
    denominator = 1.0 + z2 / n
    centre = (p + z2 / (2.0 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1.0 - p) / n + z2 / (4.0 * n * n))
    # the exact bounds at x = 0 and x = n are 0 and 1; rounding must not push them past
    lower = 0.0 if errors == 0 else max(0.0, centre - half)
    upper = 1.0 if errors == requests else min(1.0, centre + half)
    return (lower, upper)


@dataclass(frozen=True)
class Comparison:
    """The two-proportion z-test of a canary against stable. `z` is None when both ratios are 0 or both 1
    (no variance: nothing to tell apart); `reliable` says whether the normal approximation holds."""

    z: float | None
    reliable: bool


def two_proportion(x1: int, n1: int, x2: int, n2: int) -> Comparison:
    """z = (p̂₁ - p̂₂) / √(p(1 - p)(1/n₁ + 1/n₂)) with the pooled p (both n > 0)."""
    if n1 <= 0 or n2 <= 0:
        raise ValueError("both samples need requests")
    pooled = (x1 + x2) / (n1 + n2)
    reliable = all(n * pooled >= MIN_EXPECTED and n * (1.0 - pooled) >= MIN_EXPECTED for n in (n1, n2))
    variance = pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)
    if variance <= 0.0:
        return Comparison(None, reliable)
    return Comparison((x1 / n1 - x2 / n2) / math.sqrt(variance), reliable)


@dataclass(frozen=True)
class Sample:
    """Requests and errors over the window, as whole numbers."""

    requests: int
    errors: int

    def __post_init__(self) -> None:
        if not 0 <= self.errors <= self.requests:
            raise ValueError(f"{self.errors} errors in {self.requests} requests")

    @classmethod
    def of(cls, requests: float, errors: float) -> Sample:
        """From Prometheus' `increase()` (extrapolated, so not whole): each rounded half up, errors held to
        at most the requests (the two series are extrapolated separately)."""
        n = max(0, math.floor(requests + 0.5))
        return cls(n, min(n, max(0, math.floor(errors + 0.5))))

    @property
    def ratio(self) -> float:
        return self.errors / self.requests if self.requests else 0.0

    def text(self) -> str:
        return f"{self.errors} of {self.requests} requests"


@dataclass(frozen=True)
class Gate:
    threshold: float = 0.05  # the guide's 5 %
    confidence: float = 0.95
    min_requests: int = 100
    slo_error_ratio: float = 0.001  # 1 - the availability SLO (the guide's 99.9 %)

    @property
    def z(self) -> float:
        return z_for(self.confidence)


class Verdict(enum.StrEnum):
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"
    HEALTHY = "healthy"


class Why(enum.StrEnum):
    TOO_FEW_REQUESTS = "too_few_requests"
    ABOVE_THRESHOLD = "above_threshold"
    WORSE_THAN_STABLE = "worse_than_stable"
    STRADDLES_THRESHOLD = "straddles_threshold"
    CANNOT_COMPARE = "cannot_compare"
    HEALTHY = "healthy"


def pct(ratio: float) -> str:
    """A ratio as a percentage for people, to 2 decimals without trailing zeros: 0.05, 9.45, 5."""
    return f"{ratio * 100:.2f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class Judgement:
    verdict: Verdict
    why: Why
    canary: Sample
    interval: tuple[float, float]
    stable: Sample | None  # None: stable served no requests in the window (not compared)
    comparison: Comparison | None
    gate: Gate

    @property
    def interval_text(self) -> str:
        lo, hi = self.interval
        return f"{self.gate.confidence * 100:g} % interval {pct(lo)}–{pct(hi)} %"  # noqa: RUF001

    @property
    def sample_text(self) -> str:
        """`2 requests, 1 error, 95 % interval 9.45-90.55 %`."""
        n, x = self.canary.requests, self.canary.errors
        return f"{n} request{'s' * (n != 1)}, {x} error{'s' * (x != 1)}, {self.interval_text}"

    @property
    def stable_text(self) -> str:
        if self.stable is None:
            return "stable: no requests in the window, not compared"
        text = f"stable {pct(self.stable.ratio)} % ({self.stable.text()})"
        c = self.comparison
        if c is not None and c.z is not None:
            text += f", z = {c.z:.2f}" + ("" if c.reliable else " (too few expected errors to trust)")
        return text

    @property
    def summary(self) -> str:
        """One plain sentence (without the canary's name)."""
        t = pct(self.gate.threshold)
        if self.why is Why.ABOVE_THRESHOLD:
            return f"error ratio above {t} % ({self.sample_text}: all of it above the threshold)"
        if self.why is Why.WORSE_THAN_STABLE:
            assert self.stable is not None
            return (
                f"error ratio {pct(self.canary.ratio)} % is significantly worse than stable's "
                f"{pct(self.stable.ratio)} % and above the SLO's {pct(self.gate.slo_error_ratio)} % "
                f"({self.sample_text})"
            )
        if self.verdict is Verdict.INCONCLUSIVE:
            reason = {
                Why.TOO_FEW_REQUESTS: f"fewer than {self.gate.min_requests} requests",
                Why.STRADDLES_THRESHOLD: f"the interval straddles the {t} % threshold",
                Why.CANNOT_COMPARE: "too few errors expected to tell it from stable's "
                f"{pct(self.stable.ratio if self.stable else 0.0)} %",
            }[self.why]
            return f"not enough traffic to judge ({self.sample_text}): {reason}"
        return f"healthy ({self.sample_text}, below the {t} % threshold and not worse than stable)"

    @property
    def evidence(self) -> tuple[str, ...]:
        return (
            f"canary {pct(self.canary.ratio)} % ({self.canary.text()}), {self.interval_text}, "
            f"threshold {pct(self.gate.threshold)} %",
            self.stable_text,
        )


def judge(canary: Sample, stable: Sample | None, gate: Gate) -> Judgement:
    """The verdict on a canary (see the module docstring for the rules, in order)."""
    z = gate.z
    interval = wilson(canary.errors, canary.requests, z)
    if stable is not None and stable.requests == 0:
        stable = None
    comparison = (
        two_proportion(canary.errors, canary.requests, stable.errors, stable.requests)
        if stable is not None and canary.requests > 0
        else None
    )

    def verdict(v: Verdict, why: Why) -> Judgement:
        return Judgement(v, why, canary, interval, stable, comparison, gate)

    lower, upper = interval
    if canary.requests < gate.min_requests:
        return verdict(Verdict.INCONCLUSIVE, Why.TOO_FEW_REQUESTS)
    if lower > gate.threshold:
        return verdict(Verdict.FAIL, Why.ABOVE_THRESHOLD)
    above_budget = canary.ratio > gate.slo_error_ratio
    if (
        comparison is not None
        and comparison.reliable
        and comparison.z is not None
        and comparison.z >= z
        and above_budget
    ):
        return verdict(Verdict.FAIL, Why.WORSE_THAN_STABLE)
    if upper >= gate.threshold:
        return verdict(Verdict.INCONCLUSIVE, Why.STRADDLES_THRESHOLD)
    if (
        stable is not None
        and comparison is not None
        and not comparison.reliable
        and canary.ratio > stable.ratio
        and above_budget
    ):
        return verdict(Verdict.INCONCLUSIVE, Why.CANNOT_COMPARE)
    return verdict(Verdict.HEALTHY, Why.HEALTHY)


# --- progression ----------------------------------------------------------------------------------------


def parse_steps(text: str) -> tuple[int, ...]:
    """`10,25,50,100` -> (10, 25, 50, 100): strictly increasing integers in 1..100 ending at 100."""
    parts = [p.strip() for p in text.split(",")]
    if not parts or any(not (p.isascii() and p.isdigit()) for p in parts):
        raise ValueError(f"{text!r} is not a comma-separated list of integers")
    steps = tuple(int(p) for p in parts)
    if any(not 1 <= s <= 100 for s in steps):
        raise ValueError(f"{text!r}: every step must be in 1..100")
    if any(a >= b for a, b in itertools.pairwise(steps)):
        raise ValueError(f"{text!r}: steps must increase")
    if steps[-1] != 100:
        raise ValueError(f"{text!r}: the last step must be 100")
    return steps


def next_step(current: int, steps: Sequence[int]) -> int | None:
    """The first step above the current canary share; None at 100 (promotion is next)."""
    return next((s for s in steps if s > current), None)


def step_replicas(stable: int, canary: int, percent: int) -> tuple[int, int]:
    """(stable, canary) replicas for a `percent` canary share of total = stable + canary: canary =
    round(total * percent/100) rounded half up, at least 1; stable gets the rest."""
    total = stable + canary
    new_canary = min(total, max(1, (total * percent + 50) // 100))
    return (total - new_canary, new_canary)
