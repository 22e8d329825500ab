"""Signals from Prometheus: what the metrics say about each canary and its stable, beside the namespace's objects.

Optional: an unset URL, an unreachable or failing Prometheus never stops a pass; the view records
what was known (`CanarySignals.state`), so reports can tell "healthy" from "not measured".

Counts, not ratios: for each Deployment of a canary pair (canary AND stable) two instant queries, the
requests and the 5xx errors it served over the window (`$deployment` is its name; defaults
`sum(increase(http_requests_total{deployment="$deployment"}[30m]))` and the same with `code=~"5.."`), so
the gate (`selfheal.canary_gate`) knows how many requests a ratio rests on. Queries are evaluated at the
pass's `now` (an explicit `time`), so the answer does not depend on when the request happens to reach
Prometheus. An empty answer to the requests query is "no series" (unknown); an empty answer to the
errors query, with requests known, is 0 errors (`sum` over no 5xx series).
"""

from __future__ import annotations

import math
import string
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import structlog

from selfheal.signals.prometheus import Prometheus, one_line
from selfheal.view import CanarySignals, Counts, SourceState

log = structlog.get_logger("selfheal.signals")

DEFAULT_CANARY_REQUESTS_QUERY: Final = 'sum(increase(http_requests_total{deployment="$deployment"}[30m]))'
DEFAULT_CANARY_ERRORS_QUERY: Final = (
    'sum(increase(http_requests_total{deployment="$deployment",code=~"5.."}[30m]))'
)


@dataclass(frozen=True)
class CanaryQueries:
    """PromQL templates with `$deployment`: requests and 5xx errors over the window."""

    requests: str = DEFAULT_CANARY_REQUESTS_QUERY
    errors: str = DEFAULT_CANARY_ERRORS_QUERY


def _first_value(result: Any) -> float | None:
    """The value of the first sample of an instant-query vector; None when empty, NaN or infinite."""
    if not isinstance(result, list) or not result:
        return None
    try:
        value = float(result[0]["value"][1])
    except (KeyError, IndexError, TypeError, ValueError):
        raise ValueError(f"unexpected query result {str(result)[:120]}") from None
    return None if math.isnan(value) or math.isinf(value) else value


def read_canary_signals(
    prometheus_url: str | None,
    pairs: Iterable[tuple[str, str]],
    queries: CanaryQueries | None = None,
    timeout_seconds: float = 5.0,
    at: datetime | None = None,
    budget_seconds: float = 20.0,
) -> CanarySignals:
    """Requests and errors of each (stable, canary) pair's two Deployments, evaluated at `at` (the pass's
        `now`), each query with `timeout_seconds` and all of them within `budget_seconds` (transient failures
    retried, `selfheal.signals.prometheus`); the canaries' error ratios derived from them.

        Never raises: an unset URL is `unavailable`, a failing query is `error` with a one-line detail.
    """
    pairs = sorted(set(pairs))
    queries = queries or CanaryQueries()
    if not prometheus_url:
        return CanarySignals()
    if not pairs:
        return CanarySignals(SourceState.AVAILABLE, "no canary deployments", {})
    names = sorted({name for pair in pairs for name in pair})
    try:
        prom = Prometheus(prometheus_url, timeout_seconds=timeout_seconds, budget_seconds=budget_seconds)
        when = at or datetime.now(UTC)

        def ask(template: str, name: str) -> float | None:
            query = string.Template(template).safe_substitute(deployment=name)
            return _first_value(prom.instant(query, when))

        counts: dict[str, Counts | None] = {}
        for name in names:
            served = ask(queries.requests, name)
            if served is None:
                counts[name] = None
                continue
            errors = ask(queries.errors, name)
            counts[name] = Counts(max(0.0, served), max(0.0, errors or 0.0))
    except Exception as exc:  # any failure of an optional source degrades to "unknown", never a crash
        detail = one_line(f"{type(exc).__name__}: {exc}")
        log.warning("prometheus.query_failed", url=prometheus_url, error=detail)
        return CanarySignals(SourceState.ERROR, detail, {})
    rates: dict[str, float | None] = {}
    for _, canary in pairs:
        c = counts.get(canary)
        rates[canary] = min(1.0, c.errors / c.requests) if c is not None and c.requests > 0 else None
    return CanarySignals(SourceState.AVAILABLE, "", rates, counts)
