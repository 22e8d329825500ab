"""Every way an API call can fail, in one place (as kopf keeps its API errors together).

- `ApiFailure`: an answer other than 2xx, or no answer at all (`status` None: timeouts, refused or
  broken connections). It carries the `Status` reason and message the server sent, and `Retry-After`.
- `is_transient`: the one predicate the retry policy asks (429, 5xx, no answer). 409 is not transient:
  the world changed, so the caller re-reads and decides again; 403/404/422 never get better by waiting.
- `failure_code`: the word the history and the report use for a failure.
- `EvictionBlocked`: a 429 on `pods/eviction` is a PodDisruptionBudget saying "not now" — a refusal to
  record as a skip, not a failure, and not worth retrying within a pass.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})


class ApiFailure(Exception):
    """An answer other than 2xx, or no answer. `status` is None for timeouts and broken connections."""

    def __init__(
        self, status: int | None, reason: str, message: str, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message
        self.retry_after = retry_after

    def __str__(self) -> str:
        code = self.status if self.status is not None else "no answer"
        return f"{code} {self.reason}: {self.message}".strip()

    @classmethod
    def from_answer(cls, status: int, body: bytes, headers: Mapping[str, str]) -> ApiFailure:
        """The failure a non-2xx answer means: the `Status` body's reason and message when it has one."""
        reason, message = "", body[:300].decode(errors="replace")
        try:
            doc = json.loads(body)
            if isinstance(doc, dict):
                reason, message = str(doc.get("reason", "")), str(doc.get("message", message))
        except ValueError:
            pass
        retry_after: float | None = None
        raw = headers.get("Retry-After") or headers.get("retry-after")
        if raw:
            try:
                retry_after = float(raw)
            except ValueError:
                retry_after = None
        return cls(status, reason, " ".join(message.split()), retry_after)


class EvictionBlocked(Exception):
    """429 on pods/eviction: a PodDisruptionBudget does not allow it now. Not transient within a pass."""


def is_transient(exc: BaseException) -> bool:
    """The one predicate: worth trying again after a pause (never once the pass is out of time)."""
    if not isinstance(exc, ApiFailure) or exc.reason == "PassDeadline":
        return False
    return exc.status is None or exc.status in TRANSIENT_STATUSES


def failure_code(exc: ApiFailure) -> str:
    if exc.status is None:
        return "unreachable"
    return {403: "forbidden", 404: "not_found", 409: "conflict", 422: "invalid", 429: "throttled"}.get(
        exc.status, "server_error" if exc.status >= 500 else f"http_{exc.status}"
    )
