"""One retry policy: only what `selfheal.kube.errors.is_transient` calls transient (429, 5xx, timeouts,
broken connections) is retried, with exponential back-off that honours `Retry-After`.

409 Conflict is not retried here: the executor re-reads the object and tries once more, because
a conflict means the world changed and the decision must be checked again. 403, 404 and 422 are
never retried: they will not get better by waiting, so they fail fast into the report.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from selfheal.kube.errors import ApiFailure, is_transient

T = TypeVar("T")


def _wait(base: Callable[[RetryCallState], float], cap: float) -> Callable[[RetryCallState], float]:
    """Exponential back-off, but never shorter than the server's Retry-After (capped)."""

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        retry_after = exc.retry_after if isinstance(exc, ApiFailure) and exc.retry_after is not None else 0.0
        return min(max(base(state), retry_after), cap)

    return wait


def call_with_retries(
    fn: Callable[[], T],
    *,
    attempts: int = 4,
    initial: float = 0.5,
    cap: float = 8.0,
    sleep: Callable[[float], None] | None = None,
) -> T:
    retrying = Retrying(
        retry=retry_if_exception(is_transient),
        stop=stop_after_attempt(attempts),
        wait=_wait(wait_exponential(multiplier=initial, max=cap), cap),
        reraise=True,
        sleep=sleep or time.sleep,
    )
    return retrying(fn)
