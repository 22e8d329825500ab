"""Fault injection: the next N requests matching a method and a path pattern fail on purpose.

Used by reliability tests to show the job retries only what is transient (429, 5xx, timeouts),
re-reads once on 409 and fails fast on the rest.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field

from kubesandbox.resources.errors import ApiError

_REASONS = {
    409: "Conflict",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
    403: "Forbidden",
    404: "NotFound",
    422: "Invalid",
}


@dataclass
class Fault:
    """What to do to a matching request: answer `status`, sleep `delay` seconds first, or `drop` it."""

    method: str
    path: str  # a regular expression searched in the request path (no query string)
    times: int = 1
    status: int | None = None
    retry_after: int | None = None
    delay: float = 0.0
    drop: bool = False
    message: str = ""
    hits: int = field(default=0)
    _pattern: re.Pattern[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._pattern = re.compile(self.path)

    def matches(self, method: str, path: str) -> bool:
        return (self.method in ("*", method)) and bool(self._pattern.search(path))

    def error(self) -> ApiError | None:
        if self.status is None:
            return None
        headers = {"Retry-After": str(self.retry_after)} if self.retry_after is not None else {}
        reason = _REASONS.get(self.status, "InternalError")
        message = self.message or f"sandbox fault injected: {reason}"
        details = {"retryAfterSeconds": self.retry_after} if self.retry_after is not None else None
        return ApiError(self.status, reason, message, details, headers)


class Faults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._rules.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def take(self, method: str, path: str) -> Fault | None:
        """The first live rule matching this request, consuming one of its `times`."""
        with self._lock:
            for rule in self._rules:
                if rule.hits < rule.times and rule.matches(method, path):
                    rule.hits += 1
                    return rule
        return None
