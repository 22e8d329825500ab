"""Prometheus' HTTP API as a pass asks it: instant and range queries, always at an explicit time.

The same path as the API server's (`selfheal.kube.transport.Transport` over a `UrlSender`): every answer
complete within the request's timeout in wall time (a trickling Prometheus cannot hold the pass), what is
transient (5xx, 429, no answer) retried once through the one predicate (an optional source: the pass
goes on without it rather than wait), and every request within the caller's
budget: once it is spent nothing more is sent and the caller hears `Spent`, not "Prometheus is down".

Three ways a question goes unanswered, each its own exception, so callers can tell them apart:
`Unreachable` (no answer, retries included: the whole source is down), `Spent` (the budget ran out:
what was not asked is unknown for that reason) and `QueryFailed` (an answer, but an error or nonsense:
that one question is unknown, with Prometheus' own words).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from selfheal.kube.errors import ApiFailure
from selfheal.kube.exchange import Send, UrlSender
from selfheal.kube.transport import PASS_DEADLINE, Transport

ATTEMPTS = 2  # an optional source: one retry of what is transient, then the pass goes on without it


class Unreachable(Exception):
    """No answer from Prometheus, retries included."""


class Spent(Exception):
    """The budget for Prometheus ran out before this question was asked (or answered)."""


class QueryFailed(Exception):
    """Prometheus answered, but not with a result: an error status, HTML, or a body that is not its API."""


def one_line(text: str, limit: int = 200) -> str:
    return " ".join(text.split())[:limit]


class Prometheus:
    def __init__(
        self,
        url: str,
        *,
        timeout_seconds: float,
        budget_seconds: float,
        send: Send | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.url = url
        self.budget_seconds = budget_seconds
        deadline = time.monotonic() + budget_seconds
        self.transport = Transport(
            send or UrlSender(url),
            timeout_seconds=timeout_seconds,
            deadline=deadline,
            sleep=sleep,
            attempts=ATTEMPTS,
        )

    def instant(self, query: str, at: datetime) -> Any:
        """`data.result` of an instant query evaluated at `at`."""
        return self._get("/api/v1/query", [("query", query), ("time", _ts(at))])

    def range(self, query: str, start: datetime, end: datetime, step: str) -> Any:
        """`data.result` of a range query from `start` to `end`."""
        return self._get(
            "/api/v1/query_range",
            [("query", query), ("start", _ts(start)), ("end", _ts(end)), ("step", step)],
        )

    def _spent(self) -> Spent:
        return Spent(f"not asked: the {self.budget_seconds:g} s budget for Prometheus was spent")

    def _get(self, path: str, query: list[tuple[str, str]]) -> Any:
        try:
            resp = self.transport.request("GET", path, query=query)
        except ApiFailure as exc:
            if exc.reason == PASS_DEADLINE or (exc.status is None and self.transport.budget() <= 0):
                raise self._spent() from None  # cut short by the budget: not Prometheus' fault
            if exc.status is None:
                raise Unreachable(one_line(f"{exc.reason}: {exc.message}")) from None
            raise QueryFailed(f"{exc.status} from {path}: {_error_of(exc.message)}") from None
        try:
            doc = json.loads(resp.body)
        except ValueError:
            raise QueryFailed(
                f"not JSON from {path}: {one_line(resp.body.decode(errors='replace'), 80)}"
            ) from None
        data = doc.get("data") if isinstance(doc, dict) else None
        if not isinstance(data, dict) or "result" not in data:
            raise QueryFailed(f"not a query result from {path}: {one_line(str(doc), 80)}")
        return data["result"]


def _ts(at: datetime) -> str:
    return f"{at.timestamp():.3f}"


def _error_of(body: str) -> str:
    """Prometheus' `error` field when the body is its API's error object, else the body's first words."""
    try:
        doc = json.loads(body)
    except ValueError:
        return one_line(body, 160)
    if isinstance(doc, dict) and doc.get("error"):
        return one_line(f"{doc.get('errorType', 'error')}: {doc['error']}", 160)
    return one_line(body, 160)
