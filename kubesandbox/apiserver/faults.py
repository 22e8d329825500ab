"""Fault injection: the next N requests matching a method and a path pattern fail on purpose.

Used by reliability tests to show the job retries only what is transient (429, 5xx, timeouts),
re-reads once on 409 and fails fast on the rest. From the command line (`kubesandbox serve --fault`),
`parse_fault` reads one rule written as `METHOD:PATH_REGEX:SPEC`, SPEC being items separated by `,` or `:`:

    GET:/pods$:503                      the next GET of a pods list answers 503
    GET:/pods$:429:retry-after=2        429 with Retry-After: 2
    PATCH:/deployments/:delay=0.5,times=1000   the next 1000 PATCHes of a Deployment wait 0.5 s, then proceed
    POST:/eviction$:drop,times=3        the connection is closed without an answer, three times
    *:/leases/:500,times=2              any method

A status answers at once (the request has no effect); `delay` holds the request that long and then lets it
through (or answers the status, when one is given too); `drop` closes the connection without an answer.
`times` (default 1) is how many matching requests the rule takes.
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


METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "*"})
FAULT_SYNTAX = "METHOD:PATH_REGEX:SPEC, e.g. GET:/pods$:503,times=2 or PATCH:/deployments/:delay=0.5"


def _spec_item(token: str, into: dict[str, object]) -> bool:
    """Read one SPEC item into `into`; False when `token` is not a SPEC item at all."""
    key, eq, value = token.partition("=")
    key = key.strip().lower()
    if not eq:
        if key.isdigit():
            into["status"] = int(key)
            return True
        if key == "drop":
            into["drop"] = True
            return True
        return False
    if key in ("retry-after", "retry_after"):
        into["retry_after"] = value
    elif key in ("times", "delay"):
        into[key] = value
    else:
        return False
    return True


def parse_fault(text: str) -> Fault:
    """One `--fault` rule (see the module docstring); ValueError with one line saying what is wrong."""
    method, sep, rest = text.partition(":")
    method = method.strip().upper()
    if not sep or not rest:
        raise ValueError(f"expected {FAULT_SYNTAX}")
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r} (one of {', '.join(sorted(METHODS))})")
    parts = rest.split(":")
    spec: dict[str, object] = {}
    while len(parts) > 1:  # SPEC items from the end; what is left is the path regex (which may hold ':')
        items = parts[-1].split(",")
        trial: dict[str, object] = {}
        if not all(_spec_item(item, trial) for item in items if item.strip()) or not parts[-1].strip():
            break
        spec.update(trial)
        parts.pop()
    path = ":".join(parts)
    if not spec:
        raise ValueError(f"no SPEC after the path regex {path!r} (expected {FAULT_SYNTAX})")
    if not path:
        raise ValueError(f"the path regex is empty (expected {FAULT_SYNTAX})")
    try:
        re.compile(path)
    except re.error as exc:
        raise ValueError(f"path regex {path!r} does not compile: {exc}") from None
    status = spec.get("status")
    if status is not None and not 400 <= int(str(status)) <= 599:
        raise ValueError(f"status {status} is not an error status (400-599)")
    try:
        times = int(str(spec.get("times", 1)))
    except ValueError:
        raise ValueError(f"times={spec['times']!r} is not a whole number") from None
    try:
        delay = float(str(spec.get("delay", 0)))
    except ValueError:
        raise ValueError(f"delay={spec['delay']!r} is not a number of seconds") from None
    retry_after: int | None = None
    if "retry_after" in spec:
        try:
            retry_after = int(str(spec["retry_after"]))
        except ValueError:
            raise ValueError(
                f"retry-after={spec['retry_after']!r} is not a whole number of seconds"
            ) from None
        if status is None:
            raise ValueError("retry-after needs a status to go with it (e.g. 429:retry-after=2)")
    if times < 1:
        raise ValueError(f"times={times} must be at least 1")
    if not 0 <= delay <= 3600:
        raise ValueError(f"delay={delay:g} must be between 0 and 3600 seconds")
    if status is None and not delay and not spec.get("drop"):
        raise ValueError("the SPEC does nothing: give a status, delay=SECONDS or drop")
    if spec.get("drop") and status is not None:
        raise ValueError("drop and a status exclude each other: a dropped request gets no answer")
    return Fault(
        method=method,
        path=path,
        times=times,
        status=None if status is None else int(str(status)),
        retry_after=retry_after,
        delay=delay,
        drop=bool(spec.get("drop")),
    )


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
