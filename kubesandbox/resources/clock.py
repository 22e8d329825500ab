"""The sandbox clock: frozen (moves only when advanced) for tests, or following wall time for `serve`."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta


def rfc3339(t: datetime) -> str:
    """Kubernetes' wire form for metav1.Time: second precision, `Z` suffix."""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(s: str) -> datetime:
    return datetime.fromisoformat(s.replace("Z", "+00:00")).astimezone(UTC)


DEFAULT_EPOCH = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


class Clock:
    """`now()` is the cluster's idea of the time. Frozen clocks move only through `advance`."""

    def __init__(self, start: datetime | None = None, *, wall: bool = False) -> None:
        self._lock = threading.Lock()
        self._wall = wall
        self._start = start or (datetime.now(UTC).replace(microsecond=0) if wall else DEFAULT_EPOCH)
        self._offset = 0.0
        self._t0 = time.monotonic()

    @property
    def wall(self) -> bool:
        return self._wall

    def now(self) -> datetime:
        with self._lock:
            elapsed = self._offset + (time.monotonic() - self._t0 if self._wall else 0.0)
            return self._start + timedelta(seconds=elapsed)

    def advance(self, seconds: float) -> datetime:
        if seconds < 0:
            raise ValueError("the clock does not go backwards")
        with self._lock:
            self._offset += seconds
        return self.now()
