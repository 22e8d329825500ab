"""Prometheus metrics for one pass, pushed to a Pushgateway (a CronJob is gone before any scrape).

Metric names are the user's guide's, plus two for operating the job:

    self_healing_actions_total{action,result}   counter  every action decided, all runs
    config_drift_detected_total                 counter  config-drift decisions, all runs
    aiops_risk_score                            gauge    this pass's risk score (0-1)
    canary_traffic_percentage{deployment}       gauge    canary share from the traffic-split annotation
    selfheal_last_run_actions{action,result}    gauge    actions decided by this pass only
    selfheal_run_duration_seconds               gauge    wall time of this pass
    selfheal_last_success_timestamp_seconds     gauge    only pushed by a successful pass
    selfheal_open_findings{cause}               gauge    findings of this pass per cause (every cause, 0 too)
    selfheal_verifications_total{slo,result}    counter  verdicts on applied actions (verified, not_recovered)
    selfheal_recovery_seconds                   histogram  failure onset to workload whole again after a health
                                                           or canary action (the recovery SLO: 5 min), all runs
    selfheal_drift_resolution_seconds           histogram  drift to resolved after a config or replica action
                                                           (the drift resolution SLO: 10 min), all runs

Every cause is pushed in `selfheal_open_findings`, 0 when this pass found none: a pushadd replaces only the
samples it sends, so a cause left out would keep its last value and an alert on it would never resolve.
Every SLO and verdict is pushed from the first run on, at 0: `increase()` misses a counter's first sample,
so a series that appeared with its first event would never alert on it.

Counters and a Pushgateway: every run is a fresh process, so an in-process counter would start at 0
and each push would overwrite the last (Prometheus would see resets and lose increments). Here the
counters are cumulative totals DERIVED FROM THE HISTORY FILE (append-only, one line per decision),
so each push carries the true running total and `increase()`/`rate()` work. That requires the history
file to persist across runs (a volume); without it the totals restart with the file, which
Prometheus treats as a counter reset.

Push mode: `pushadd_to_gateway` (HTTP POST), which replaces only the metric names being pushed in
the group `job="self-heal-cpt", namespace=<ns>`. A failed pass simply leaves
`selfheal_last_success_timestamp_seconds` out of its registry, so the previous success time stays
visible for alerting (a PUT would have deleted it).

The push goes through the job's one retry policy (`selfheal.kube.retry`, `is_transient`: 429, 5xx, no
answer; Retry-After honoured) and is bounded in wall time: each attempt's answer, body included, within
`timeout` seconds (a gateway trickling its answer is cut off), all attempts within `budget` seconds. A
pushadd is idempotent (the same values replace themselves), so a retry after a lost answer is harmless.
"""

from __future__ import annotations

import itertools
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import structlog
import urllib3
from prometheus_client import CollectorRegistry, pushadd_to_gateway
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from selfheal.findings import ActionOutcome, CauseCode, HistoryEntry, Result
from selfheal.kube.annotations import TrafficSplit, split_holder, traffic_split
from selfheal.kube.errors import ApiFailure, is_transient
from selfheal.kube.exchange import Request, send_bounded
from selfheal.kube.retry import call_with_retries
from selfheal.reporting.counters import RECOVERY_BUCKETS
from selfheal.verify import SLOS
from selfheal.view import Snapshot

log = structlog.get_logger("selfheal.reporting")

DEFAULT_JOB = "self-heal-cpt"
CONFIG_DRIFT_DETECTOR = "config_drift"
# one histogram per SLO (`selfheal.verify.SLO_OF` says which actions count against which), named as the guide
# names the SLOs, so a dashboard or an alert reads each without a label to remember
SLO_HISTOGRAMS: dict[str, tuple[str, str]] = {
    "recovery": (
        "selfheal_recovery_seconds",
        "Seconds from a failure's onset to the workload whole again, after a health or canary action",
    ),
    "drift_resolution": (
        "selfheal_drift_resolution_seconds",
        "Seconds from the pass that acted on a drift to the drift resolved",
    ),
}


def action_totals(entries: Iterable[HistoryEntry]) -> dict[tuple[str, str], int]:
    """Lines per (action, result): the cumulative `self_healing_actions_total`."""
    return dict(Counter((e.action, e.result) for e in entries))


def drift_total(entries: Iterable[HistoryEntry]) -> int:
    return sum(1 for e in entries if e.detector == CONFIG_DRIFT_DETECTOR)


def canary_traffic(snapshot: Snapshot) -> dict[str, int]:
    """Canary percentage per stable Deployment name, from the traffic-split annotation (on stable, else
    on the canary, as the canary detector reads it). A pair whose split is invalid is left out: the
    canary detector reports it (`traffic_split_invalid`), and no number is better than a made-up one."""
    out: dict[str, int] = {}
    for stable, canary in snapshot.canary_pairs():
        split = traffic_split(split_holder(stable, canary))
        if isinstance(split, TrafficSplit):
            out[stable.metadata.name] = split.canary
    return out


@dataclass(frozen=True)
class RunMetrics:
    action_totals: Mapping[tuple[str, str], int] = field(default_factory=dict)
    drift_total: int = 0
    run_actions: Mapping[tuple[str, str], int] = field(default_factory=dict)
    risk_score: float = 0.0
    canary_traffic: Mapping[str, int] = field(default_factory=dict)
    run_duration_seconds: float = 0.0
    last_success_timestamp: float | None = None  # None: this pass failed, keep the previous value
    open_findings: Mapping[str, int] = field(default_factory=dict)  # cause -> findings of this pass
    verifications: Mapping[tuple[str, str], int] = field(default_factory=dict)  # (slo, result) -> all runs
    recovery: Mapping[str, tuple[Sequence[int], float]] = field(default_factory=dict)  # slo -> buckets, sum


def run_actions(outcomes: Iterable[ActionOutcome]) -> dict[tuple[str, str], int]:
    return dict(Counter((o.action.action.value, o.result.value) for o in outcomes))


class _RunCollector(Collector):
    """Exposes exactly the given values (no `_created` samples, no process-global state)."""

    def __init__(self, m: RunMetrics):
        self._m = m

    def collect(self) -> Iterator[Metric]:
        m = self._m
        actions = CounterMetricFamily(
            "self_healing_actions",
            "Self-healing actions decided, by action and result",
            labels=["action", "result"],
        )
        for (action, result), n in sorted(m.action_totals.items()):
            actions.add_metric([action, result], n)
        yield actions
        yield CounterMetricFamily(
            "config_drift_detected", "Configuration drift detections", value=m.drift_total
        )
        yield GaugeMetricFamily("aiops_risk_score", "Predicted deployment risk (0-1)", value=m.risk_score)
        canary = GaugeMetricFamily(
            "canary_traffic_percentage", "Canary traffic allocation (percent)", labels=["deployment"]
        )
        for name, pct in sorted(m.canary_traffic.items()):
            canary.add_metric([name], pct)
        yield canary
        last = GaugeMetricFamily(
            "selfheal_last_run_actions", "Actions decided by the last pass", labels=["action", "result"]
        )
        for (action, result), n in sorted(m.run_actions.items()):
            last.add_metric([action, result], n)
        yield last
        yield GaugeMetricFamily(
            "selfheal_run_duration_seconds", "Wall time of the last pass", value=m.run_duration_seconds
        )
        open_findings = GaugeMetricFamily(
            "selfheal_open_findings", "Findings of the last pass, by cause", labels=["cause"]
        )
        for cause in CauseCode:
            open_findings.add_metric([cause.value], m.open_findings.get(cause.value, 0))
        yield open_findings
        verified = CounterMetricFamily(
            "selfheal_verifications",
            "Verdicts of later passes on applied actions, by SLO and result",
            labels=["slo", "result"],
        )
        every = {(slo, r.value): 0 for slo in SLOS for r in (Result.VERIFIED, Result.NOT_RECOVERED)}
        for (slo, result), n in sorted({**every, **m.verifications}.items()):
            verified.add_metric([slo, result], n)
        yield verified
        empty = ([0] * (len(RECOVERY_BUCKETS) + 1), 0.0)
        for slo, (name, help_text) in SLO_HISTOGRAMS.items():
            per_bucket, total = m.recovery.get(slo, empty)
            cumulative = list(itertools.accumulate(per_bucket))
            bounds = [*(repr(float(le)) for le in RECOVERY_BUCKETS), "+Inf"]  # "300.0", as client libraries
            histogram = HistogramMetricFamily(name, help_text)
            histogram.add_metric([], list(zip(bounds, cumulative, strict=True)), sum_value=total)
            yield histogram
        if m.last_success_timestamp is not None:
            yield GaugeMetricFamily(
                "selfheal_last_success_timestamp_seconds",
                "Unix time of the last successful pass",
                value=m.last_success_timestamp,
            )


def build_registry(metrics: RunMetrics) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_RunCollector(metrics))
    return registry


PUSH_TIMEOUT_SECONDS = 5.0  # one attempt, the whole answer included
PUSH_BUDGET_SECONDS = 12.0  # every attempt and back-off of one push
PUSH_ATTEMPTS = 3


def _bounded_handler(
    deadline: float,
) -> Callable[[str, str, float | None, Sequence[tuple[str, str]], bytes], Callable[[], None]]:
    """prometheus_client's push `handler`, over urllib3 with no retries of its own: the answer must be complete
    within the attempt's timeout and the push's deadline; a failure is an `ApiFailure` (status None: no
    answer), so `is_transient` decides what is retried."""

    def handler(
        url: str, method: str, timeout: float | None, headers: Sequence[tuple[str, str]], data: bytes
    ) -> Callable[[], None]:
        def attempt() -> None:
            budget = min(timeout or PUSH_TIMEOUT_SECONDS, deadline - time.monotonic())
            if budget <= 0:
                raise ApiFailure(None, "PassDeadline", f"{method} {url}: not sent, the push's time is spent")
            pool = urllib3.PoolManager(retries=False)
            try:
                resp = send_bounded(pool, Request(method, url, body=data, timeout=budget), url, dict(headers))
            finally:
                pool.clear()
            if resp.status >= 400:
                raise ApiFailure.from_answer(resp.status, resp.body, resp.headers)

        def send() -> None:
            try:
                attempt()
            except ApiFailure as exc:
                log.warning(
                    "request.failed",
                    method=method,
                    url=url,
                    status=exc.status,
                    reason=exc.reason,
                    error=exc.message[:200],
                    transient=is_transient(exc),
                )
                raise

        return send

    return handler


def push(
    registry: CollectorRegistry,
    url: str,
    job: str = DEFAULT_JOB,
    grouping_key: Mapping[str, str] | None = None,
    timeout: float | None = None,
    budget: float | None = None,
    sleep: Callable[[float], None] | None = None,
) -> None:
    """POST (pushadd) the registry to the Pushgateway at `url`, retrying what is transient; raises
    `ApiFailure` (or ValueError for a URL prometheus_client refuses) when it could not be pushed.

    Pass `grouping_key={"namespace": ns}` so several namespaces do not overwrite each other.
    """
    timeout = timeout or PUSH_TIMEOUT_SECONDS  # read at call time: the fault matrix shortens them
    deadline = time.monotonic() + (budget or PUSH_BUDGET_SECONDS)

    def pause(seconds: float) -> None:
        (sleep or time.sleep)(max(0.0, min(seconds, deadline - time.monotonic())))

    call_with_retries(
        lambda: pushadd_to_gateway(
            url,
            job=job,
            registry=registry,
            grouping_key=dict(grouping_key or {}),
            timeout=timeout,
            handler=_bounded_handler(deadline),
        ),
        attempts=PUSH_ATTEMPTS,
        sleep=pause,
    )
