"""Metrics pushed to a real Pushgateway (Debian's prometheus-pushgateway), read back as Prometheus scrapes them."""

from __future__ import annotations

import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from selfheal.reporting.metrics import RunMetrics, build_registry, push
from tests.servers import pushgateway


@pytest.fixture(scope="module")
def gateway():
    with pushgateway() as url:
        yield url


def scrape(url: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    with urllib.request.urlopen(f"{url}/metrics", timeout=5) as resp:
        text = resp.read().decode()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for fam in text_string_to_metric_families(text)
        for s in fam.samples
    }


def sample(samples, name, **labels):
    want = {"job": "self-heal-cpt", "namespace": "shop", **labels}
    matches = [v for (n, ls), v in samples.items() if n == name and want.items() <= dict(ls).items()]
    assert len(matches) == 1, (name, labels, [k for k in samples if k[0] == name])
    return matches[0]


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
        recovery={"recovery": (per_bucket, 700.0)},
    )
    push(build_registry(drifting), gateway, grouping_key={"namespace": "shop"})
    got = scrape(gateway)
    assert sample(got, "selfheal_open_findings", cause="config_hash_drift") == 2
    assert sample(got, "selfheal_verifications_total", slo="recovery", result="not_recovered") == 1
    assert (
        sample(got, "selfheal_recovery_seconds_bucket", slo="recovery", le="300") == 2
    )  # the gateway: "300"
    assert sample(got, "selfheal_recovery_seconds_bucket", slo="recovery", le="+Inf") == 3
    assert sample(got, "selfheal_recovery_seconds_count", slo="recovery") == 3
    assert sample(got, "selfheal_recovery_seconds_sum", slo="recovery") == 700.0

    push(build_registry(RunMetrics()), gateway, grouping_key={"namespace": "shop"})  # the drift is resolved
    assert sample(scrape(gateway), "selfheal_open_findings", cause="config_hash_drift") == 0
