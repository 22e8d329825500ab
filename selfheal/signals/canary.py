"""Signals from Prometheus: what the metrics say about each workload, beside the namespace's objects.

Optional: an unset URL, an unreachable or failing Prometheus never stops a pass; the view records
what was known (`CanarySignals.state`), so reports can tell "healthy" from "not measured".
Queries are evaluated at the pass's `now` (an explicit `time`), so the answer does not depend on
when the request happens to reach Prometheus.
"""

from __future__ import annotations

import math
import string
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Final

import structlog

from selfheal.view import CanarySignals, SourceState

log = structlog.get_logger("selfheal.signals")

DEFAULT_CANARY_ERROR_QUERY: Final = (
    'sum(rate(http_requests_total{deployment="$deployment",code=~"5.."}[5m]))'
    ' / sum(rate(http_requests_total{deployment="$deployment"}[5m]))'
)


def _first_value(result: Any) -> float | None:
    """The value of the first sample of an instant-query vector; None when empty or NaN (no traffic)."""
    if not isinstance(result, list) or not result:
        return None
    try:
        value = float(result[0]["value"][1])
    except (KeyError, IndexError, TypeError, ValueError):
        raise ValueError(f"unexpected query result {str(result)[:120]}") from None
    return None if math.isnan(value) or math.isinf(value) else value


def read_canary_signals(
    prometheus_url: str | None,
    canary_names: Iterable[str],
    query_template: str = DEFAULT_CANARY_ERROR_QUERY,
    timeout_seconds: float = 5.0,
    at: datetime | None = None,
) -> CanarySignals:
    """Query the error ratio of each canary Deployment (`$deployment` in the template is its name),
    evaluated at `at` (the pass's `now`: an explicit `time`, so the answer does not depend on when the
    request happens to reach Prometheus).

    Never raises: an unset URL is `unavailable`, a failing query is `error` with a one-line detail.
    """
    names = sorted(set(canary_names))
    if not prometheus_url:
        return CanarySignals()
    if not names:
        return CanarySignals(SourceState.AVAILABLE, "no canary deployments", {})
    try:
        from prometheus_api_client import PrometheusConnect
        from urllib3.util.retry import Retry

        prom = PrometheusConnect(
            url=prometheus_url, disable_ssl=False, retry=Retry(total=1, backoff_factor=0)
        )
        rates: dict[str, float | None] = {}
        for name in names:
            query = string.Template(query_template).safe_substitute(deployment=name)
            params = {"time": f"{at.timestamp():.3f}"} if at is not None else None
            rates[name] = _first_value(prom.custom_query(query=query, params=params, timeout=timeout_seconds))
    except Exception as exc:  # any failure of an optional source degrades to "unknown", never a crash
        detail = " ".join(f"{type(exc).__name__}: {exc}".split())[:200]
        log.warning("prometheus.query_failed", url=prometheus_url, error=detail)
        return CanarySignals(SourceState.ERROR, detail, {})
    return CanarySignals(SourceState.AVAILABLE, "", rates)
