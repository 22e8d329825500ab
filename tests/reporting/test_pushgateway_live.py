"""Metrics pushed to a real Pushgateway (Debian's prometheus-pushgateway), read back as Prometheus scrapes them."""

from __future__ import annotations

import pytest

from selfheal.reporting.metrics import RunMetrics, build_registry, push
from tests.servers import pushed, pushgateway, scrape


@pytest.fixture(scope="module")
def gateway():
    with pushgateway() as url:
        yield url


def sample(samples, name, **labels):
    return pushed(samples, name, namespace="shop", **labels)


def test_a_pass_pushes_the_guides_metrics_under_its_job_and_namespace(gateway):
    metrics = RunMetrics(
        action_totals={("rollback", "applied"): 2, ("restart_pod", "skipped"): 1},
        drift_total=3,
        risk_score=0.42,
        canary_traffic={"web-canary": 10},
        run_duration_seconds=1.5,
        last_success_timestamp=1_700_000_000.0,
    )
    push(build_registry(metrics), gateway, grouping_key={"namespace": "shop"})
    got = scrape(gateway)
    assert sample(got, "self_healing_actions_total", action="rollback", result="applied") == 2
    assert sample(got, "config_drift_detected_total") == 3
    assert sample(got, "aiops_risk_score") == 0.42
    assert sample(got, "canary_traffic_percentage", deployment="web-canary") == 10
    assert sample(got, "selfheal_last_success_timestamp_seconds") == 1_700_000_000.0


def test_a_failed_pass_keeps_the_previous_success_time_for_the_missing_job_alert(gateway):
    push(
        build_registry(RunMetrics(risk_score=0.1, last_success_timestamp=1_700_000_100.0)),
        gateway,
        grouping_key={"namespace": "shop"},
    )
    push(
        build_registry(RunMetrics(risk_score=0.9, last_success_timestamp=None)),
        gateway,
        grouping_key={"namespace": "shop"},
    )
    got = scrape(gateway)
    assert sample(got, "aiops_risk_score") == 0.9  # replaced by the newer push
    assert sample(got, "selfheal_last_success_timestamp_seconds") == 1_700_000_100.0  # kept (pushadd)


def test_an_unreachable_gateway_raises_for_the_run_to_log():
    from selfheal.kube.errors import ApiFailure

    sleeps: list[float] = []
    with pytest.raises(ApiFailure) as err:  # after the one retry policy's attempts: no answer is transient
        push(
            build_registry(RunMetrics()),
            "http://127.0.0.1:9",
            grouping_key={"namespace": "shop"},
            timeout=2,
            sleep=sleeps.append,
        )
    assert err.value.status is None and len(sleeps) == 2


def test_the_slo_figures_reach_the_gateway_and_a_resolved_cause_goes_back_to_zero(gateway):
    per_bucket = [1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0]  # 30 s, 300 s, 450 s (RECOVERY_BUCKETS, then +Inf)
    drifting = RunMetrics(
        open_findings={"config_hash_drift": 2},
        verifications={("recovery", "verified"): 3, ("recovery", "not_recovered"): 1},
        recovery={
            "recovery": (per_bucket, 700.0),
            "drift_resolution": ([0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0], 540.0),
        },
    )
    push(build_registry(drifting), gateway, grouping_key={"namespace": "shop"})
    got = scrape(gateway)
    assert sample(got, "selfheal_open_findings", cause="config_hash_drift") == 2
    assert sample(got, "selfheal_verifications_total", slo="recovery", result="not_recovered") == 1
    assert sample(got, "selfheal_recovery_seconds_bucket", le="300") == 2  # the gateway renders "300"
    assert sample(got, "selfheal_recovery_seconds_bucket", le="+Inf") == 3
    assert sample(got, "selfheal_recovery_seconds_count") == 3
    assert sample(got, "selfheal_recovery_seconds_sum") == 700.0
    # the drift resolution SLO has its own histogram: one drift resolved in 540 s, within the 600 s bound
    assert sample(got, "selfheal_drift_resolution_seconds_bucket", le="450") == 0
    assert sample(got, "selfheal_drift_resolution_seconds_bucket", le="600") == 1
    assert sample(got, "selfheal_drift_resolution_seconds_count") == 1

    push(build_registry(RunMetrics()), gateway, grouping_key={"namespace": "shop"})  # the drift is resolved
    assert sample(scrape(gateway), "selfheal_open_findings", cause="config_hash_drift") == 0
