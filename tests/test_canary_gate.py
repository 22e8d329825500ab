"""The canary gate's statistics, against references computed another way.

- The Wilson interval against an independent reference: the interval is, by definition, the set of error
  ratios p a score test does not reject, |p̂ - p| <= z·sqrt(p(1 - p)/n); its two ends are found here by
  bisection on that inequality (no closed form), and compared with
  `scipy.stats.binomtest(x, n).proportion_ci(method="wilson")`.
- The two-proportion z-test against the chi-square statistic of the 2x2 table without continuity
  correction (z² = χ²), computed from the table's expected counts here and by
  `scipy.stats.chi2_contingency(correction=False)`.
- The verdicts on worked examples, and the progression (steps, replica counts).
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from selfheal.canary_gate import (
    Gate,
    Sample,
    Verdict,
    Why,
    judge,
    next_step,
    parse_steps,
    step_replicas,
    two_proportion,
    wilson,
    z_for,
)

Z95 = z_for(0.95)


def _score_rejects(x: int, n: int, p: float, z: float) -> bool:
    """The score test's verdict on the ratio p: (p̂ - p)² > z²·p(1 - p)/n."""
    return (x / n - p) ** 2 > z * z * p * (1 - p) / n


def _bisect(x: int, n: int, z: float, lo: float, hi: float, rejected_at_lo: bool) -> float:
    """The point in [lo, hi] where the score test's verdict flips (it is monotone on each side of p̂)."""
    for _ in range(200):
        mid = (lo + hi) / 2
        if _score_rejects(x, n, mid, z) == rejected_at_lo:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def reference_wilson(x: int, n: int, z: float) -> tuple[float, float]:
    p = x / n
    lower = 0.0 if x == 0 else _bisect(x, n, z, 0.0, p, rejected_at_lo=True)
    upper = 1.0 if x == n else _bisect(x, n, z, p, 1.0, rejected_at_lo=False)
    return lower, upper


samples = st.integers(min_value=1, max_value=2_000_000).flatmap(
    lambda n: st.tuples(st.integers(min_value=0, max_value=n), st.just(n))
)
confidences = st.sampled_from([0.8, 0.9, 0.95, 0.99, 0.999])


@settings(max_examples=400, deadline=None)
@given(samples, confidences)
def test_the_wilson_interval_is_the_set_of_ratios_the_score_test_does_not_reject(sample, confidence):
    x, n = sample
    z = z_for(confidence)

    lower, upper = wilson(x, n, z)

    ref_lower, ref_upper = reference_wilson(x, n, z)
    assert lower == pytest.approx(ref_lower, abs=1e-12, rel=1e-9)
    assert upper == pytest.approx(ref_upper, abs=1e-12, rel=1e-9)
    assert 0.0 <= lower <= x / n <= upper <= 1.0


@settings(max_examples=200, deadline=None)
@given(samples, confidences)
def test_the_wilson_interval_matches_scipy(sample, confidence):
    x, n = sample

    lower, upper = wilson(x, n, z_for(confidence))

    ci = stats.binomtest(x, n).proportion_ci(confidence_level=confidence, method="wilson")
    assert lower == pytest.approx(float(ci.low), abs=1e-12, rel=1e-9)
    assert upper == pytest.approx(float(ci.high), abs=1e-12, rel=1e-9)


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=0, max_value=1000), st.integers(min_value=1, max_value=1000))
def test_more_of_the_same_traffic_narrows_the_interval(errors, extra):
    n = errors + extra
    narrow = wilson(errors * 10, n * 10, Z95)
    wide = wilson(errors, n, Z95)
    assert narrow[1] - narrow[0] < wide[1] - wide[0]


def test_z_is_the_normal_quantile():
    assert z_for(0.95) == pytest.approx(1.959963984540054, abs=1e-12)
    assert z_for(0.99) == pytest.approx(2.5758293035489, abs=1e-12)
    for c in (0.8, 0.9, 0.95, 0.999):
        assert z_for(c) == pytest.approx(float(stats.norm.ppf(1 - (1 - c) / 2)), abs=1e-12)


def _chi_square(x1: int, n1: int, x2: int, n2: int) -> float:
    table = [[x1, n1 - x1], [x2, n2 - x2]]
    rows, cols, total = [n1, n2], [x1 + x2, n1 + n2 - x1 - x2], n1 + n2
    return sum(
        (table[i][j] - rows[i] * cols[j] / total) ** 2 / (rows[i] * cols[j] / total)
        for i in range(2)
        for j in range(2)
    )


two_samples = st.tuples(samples, samples).filter(
    lambda s: 0 < s[0][0] + s[1][0] < s[0][1] + s[1][1]
)  # some errors, some successes: the test is defined


@settings(max_examples=300, deadline=None)
@given(two_samples)
def test_the_two_proportion_z_is_the_signed_root_of_the_tables_chi_square(pair):
    (x1, n1), (x2, n2) = pair

    c = two_proportion(x1, n1, x2, n2)

    assert c.z is not None
    assert c.z**2 == pytest.approx(_chi_square(x1, n1, x2, n2), rel=1e-7, abs=1e-9)
    assert math.copysign(1, c.z) == math.copysign(1, x1 / n1 - x2 / n2) or c.z == 0


@settings(max_examples=100, deadline=None)
@given(two_samples)
def test_the_two_proportion_z_matches_scipy(pair):
    (x1, n1), (x2, n2) = pair

    chi2 = stats.chi2_contingency([[x1, n1 - x1], [x2, n2 - x2]], correction=False).statistic

    assert two_proportion(x1, n1, x2, n2).z ** 2 == pytest.approx(float(chi2), rel=1e-7, abs=1e-9)


def test_the_z_test_is_trusted_only_with_enough_expected_errors():
    assert two_proportion(360, 36000, 18, 36000).reliable  # pooled 0.525 %: 189 expected errors each
    assert not two_proportion(2, 300, 10, 20000).reliable  # pooled 0.06 %: 0.18 expected canary errors
    assert two_proportion(0, 500, 0, 500).z is None  # no errors anywhere: nothing to tell apart


GATE = Gate()


@pytest.mark.parametrize(
    ("canary", "stable", "verdict", "why"),
    [
        # 1 error in 2 requests is not "50 %": too few requests to judge
        (Sample(2, 1), Sample(36000, 18), Verdict.INCONCLUSIVE, Why.TOO_FEW_REQUESTS),
        # exactly at the threshold, stable as bad: the interval straddles 5 %
        (Sample(36000, 1800), Sample(36000, 1800), Verdict.INCONCLUSIVE, Why.STRADDLES_THRESHOLD),
        # just above, on a large sample: the whole interval is above 5 %
        (Sample(36000, 1980), Sample(36000, 18), Verdict.FAIL, Why.ABOVE_THRESHOLD),
        # 1 %: well below 5 %, but 20 times stable's 0.05 % and above the SLO's 0.1 %
        (Sample(36000, 360), Sample(36000, 18), Verdict.FAIL, Why.WORSE_THAN_STABLE),
        # as good as stable
        (Sample(36000, 18), Sample(36000, 18), Verdict.HEALTHY, Why.HEALTHY),
        # worse than stable but within the SLO's budget: not a reason to abort
        (Sample(36000, 30), Sample(36000, 5), Verdict.HEALTHY, Why.HEALTHY),
        # 2 errors in 300 against stable's 0.05 %: far too few expected errors to tell
        (Sample(300, 2), Sample(20000, 10), Verdict.INCONCLUSIVE, Why.CANNOT_COMPARE),
        # no errors in 300: cannot be worse than stable
        (Sample(300, 0), Sample(20000, 10), Verdict.HEALTHY, Why.HEALTHY),
        # no stable traffic: judged on the threshold alone
        (Sample(5000, 10), None, Verdict.HEALTHY, Why.HEALTHY),
        (Sample(5000, 10), Sample(0, 0), Verdict.HEALTHY, Why.HEALTHY),
    ],
)
def test_verdicts(canary, stable, verdict, why):
    j = judge(canary, stable, GATE)
    assert (j.verdict, j.why) == (verdict, why), j.summary


def test_the_inconclusive_sentence_is_plain():
    j = judge(Sample(2, 1), Sample(36000, 18), GATE)
    assert j.summary == (
        "not enough traffic to judge (2 requests, 1 error, 95 % interval 9.45–90.55 %): "  # noqa: RUF001
        "fewer than 100 requests"
    )
    assert (
        j.evidence[1] == "stable 0.05 % (18 of 36000 requests), z = 30.76 (too few expected errors to trust)"
    )


def test_a_failing_verdict_quotes_the_numbers():
    j = judge(Sample(36000, 360), Sample(36000, 18), GATE)
    assert j.summary == (
        "error ratio 1 % is significantly worse than stable's 0.05 % and above the SLO's 0.1 % "
        "(36000 requests, 360 errors, 95 % interval 0.9–1.11 %)"  # noqa: RUF001
    )


def test_prometheus_counts_become_whole_samples():
    assert Sample.of(35999.7, 18.4) == Sample(36000, 18)
    assert Sample.of(2.0000001, 2.4) == Sample(2, 2)  # errors never above requests
    assert Sample.of(0.3, 0.3) == Sample(0, 0)


def test_steps_are_validated():
    assert parse_steps("10,25,50,100") == (10, 25, 50, 100)
    assert parse_steps(" 5, 100 ") == (5, 100)
    assert parse_steps("100") == (100,)
    for bad in ("", "10,,100", "10,25,50", "25,10,100", "10,10,100", "0,100", "10,101", "10.5,100", "-5,100"):
        with pytest.raises(ValueError):
            parse_steps(bad)


def test_a_split_between_steps_moves_to_the_next_step_above_it():
    steps = (10, 25, 50, 100)
    assert [next_step(p, steps) for p in (0, 10, 17, 25, 49, 50, 99, 100)] == [
        10,
        25,
        25,
        50,
        50,
        100,
        100,
        None,
    ]


@given(
    st.integers(min_value=0, max_value=200),
    st.integers(min_value=1, max_value=200),
    st.integers(min_value=1, max_value=100),
)
def test_step_replicas_keep_the_total_and_match_the_share(stable, canary, percent):
    new_stable, new_canary = step_replicas(stable, canary, percent)
    total = stable + canary
    assert new_stable + new_canary == total and new_stable >= 0 and new_canary >= 1
    assert new_canary == max(1, math.floor(total * percent / 100 + 0.5))


def test_step_replicas_examples():
    assert [step_replicas(3, 1, p) for p in (10, 25, 50, 100)] == [(3, 1), (3, 1), (2, 2), (0, 4)]
